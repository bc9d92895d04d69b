# %%
var before = 1;
Console.WriteLine("before the failure");
# %%
var zero = before - 1;

var ratio = 10 / zero;
# %%
Console.WriteLine("after the failure");

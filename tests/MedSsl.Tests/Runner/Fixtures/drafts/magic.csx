# %%
Console.WriteLine("runs");
# %%
#r "nuget: Newtonsoft.Json, 13.0.3"
Console.WriteLine("never");
# %%
#!time
Console.WriteLine("never either");

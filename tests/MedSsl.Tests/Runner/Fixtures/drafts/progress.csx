# %% [markdown]
# Progress fixture
A notebook that prints a line, then works for a minute: what a stopped run must stop.
# %%
Console.WriteLine("started");
# %%
var end = DateTime.UtcNow.AddSeconds(60);
while (DateTime.UtcNow < end) System.Threading.Thread.Sleep(100);

# %% [markdown]
# Exit fixture
A cell that ends the process with exit code 0 before the notebook finishes: the run must not count as ok.
# %%
Console.WriteLine("leaving");
Environment.Exit(0);
# %%
Console.WriteLine("never");

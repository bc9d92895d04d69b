# %% [markdown]
# OpenMP wait policy fixture
Prints the `OMP_WAIT_POLICY` the notebook's process was started with (libtorch reads it once, when it loads).
# %%
Console.WriteLine($"policy={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY")}");

# %% [markdown]
Parameters fixture: papermill's `parameters` tag.
# %% tags=parameters
var Profile = "quick";
var Seed = 0;
double Rate = 0.5;
var Verbose = false;
# %%
Console.WriteLine($"Profile={Profile} Seed={Seed} Rate={Rate.ToString(System.Globalization.CultureInfo.InvariantCulture)} Verbose={Verbose} SeedType={Seed.GetType().Name}");

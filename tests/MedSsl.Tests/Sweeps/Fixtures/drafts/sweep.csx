# %% [markdown]
# Sweep fixture
A grid point of `medssl sweep` tests: `Seed` and `Scale` come from `--grid`. The point with `Seed == FailSeed` fails on purpose unless the file named by `SWEEP_FIXTURE_HEALED` exists (a transient failure, for `--resume`); the point whose `Seed` is in `SWEEP_FIXTURE_HANG_SEED` sleeps ten minutes (a run to kill).
# %% tags=parameters
var Profile = "quick";
var Seed = 0;
double Scale = 1.0;
var FailSeed = 2;
# %%
#r "../../../../artifacts/lib/MedSsl.Lib.dll"
using MedSsl.Reports;
var healed = Environment.GetEnvironmentVariable("SWEEP_FIXTURE_HEALED") is { } marker && File.Exists(marker);
if (Seed == FailSeed && !healed) throw new InvalidOperationException($"seed {Seed} fails on purpose");
if (Environment.GetEnvironmentVariable("SWEEP_FIXTURE_HANG_SEED") == Seed.ToString()) System.Threading.Thread.Sleep(TimeSpan.FromMinutes(10));
# %%
ResultsFile.SaveValues(new { score = Seed * Scale, profile = Profile, quality = new { even = Seed % 2 == 0 } });
Console.WriteLine($"score {Seed * Scale}");

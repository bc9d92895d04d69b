using System.Globalization;
using System.Text.Json.Nodes;
using MedSsl.Data;
using MedSsl.Experiments;
using MedSsl.Tests.Runner;
using MedSsl.Training;

namespace MedSsl.Tests.Notebooks;

public class DeepClusteringNotebookTests
{
    private const string Stem = "01-deep-clustering-pica-vs-lsd";

    [Fact]
    public void TheQuickProfileWritesItsRowsClaimsAndBackbone()
    {
        var output = Medssl.TemporaryFolder();
        // Budget: 3 minutes on an idle 2-core machine; twice that on a shared one. Passive OpenMP waits, as the budget is
        // measured: spinning libtorch threads on a crowded machine burn the CPU the other processes need.
        var run = Medssl.RunWithin(TimeSpan.FromMinutes(6), new Dictionary<string, string> { ["OMP_WAIT_POLICY"] = "PASSIVE" }, "run",
            Path.Combine(Medssl.RepoRoot, "notebooks", Stem + ".ipynb"), "--out", output, "--profile", "quick");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Medssl.AssertValidNotebook(Path.Combine(output, Stem + ".ipynb"));
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(output, Stem + ".results.json")))!;
        var settings = PicaStudy.Settings(RunProfile.Quick);

        // Fresh evaluation seeds, one per profile seed.
        Assert.True(results["fresh_seeds"]!.GetValue<bool>());
        Assert.Equal([.. SeedPlan.Evaluation(settings.Seeds).Seeds], results["seeds"]!.AsArray().Select(s => s!.GetValue<int>()));

        // The grid: both losses at every λ and L_SD at every other ε, once per seed; the headline means and bests are the λ = 2 rows'.
        var sweep = results["lambda_sweep"]!.AsArray().Select(r => (Loss: r!["loss"]!.GetValue<string>(), Lambda: r["lambda"]!.GetValue<double>(),
            Epsilon: r["epsilon"]!.GetValue<double>(), Seed: r["seed"]!.GetValue<int>(), F1: r["f1_weighted"]!.GetValue<double>())).ToList();
        Assert.Equal((2 * settings.Lambdas.Length + settings.Epsilons.Length - 1) * settings.Seeds, sweep.Count);
        Assert.Equal(sweep.Count, sweep.Select(r => (r.Loss, r.Lambda, r.Epsilon, r.Seed)).Distinct().Count());
        Assert.Equal(settings.Lambdas, sweep.Where(r => r.Loss == "pica").Select(r => r.Lambda).Distinct().Order());
        Assert.Equal(settings.Epsilons, sweep.Where(r => r.Loss == "lsd" && r.Lambda == PicaStudy.DefaultLambda).Select(r => r.Epsilon).Distinct().Order());
        Assert.All(sweep, r => Assert.InRange(r.F1, 0.0, 1.0));
        foreach (var loss in PicaStudy.Losses)
        {
            var atDefault = sweep.Where(r => PicaStudy.AtDefault(loss).Matches(r.Loss, r.Lambda, r.Epsilon)).Select(r => r.F1).ToList();
            Assert.Equal(settings.Seeds, atDefault.Count);
            Assert.Equal(atDefault.Average(), results[$"f1_weighted_{loss}"]!.GetValue<double>(), 12);
            Assert.Equal(atDefault.Max(), results[$"f1_weighted_best_{loss}"]!.GetValue<double>(), 12);
            var perClass = results["per_class"]![loss]!.AsObject();
            Assert.Equal(7, perClass.Count);
            foreach (var (_, scores) in perClass)
                foreach (var key in new[] { "f1", "precision", "recall" }) Assert.InRange(scores![key]!.GetValue<double>(), 0.0, 1.0);
        }

        // The runs' CSV holds the same rows, and its size distances average to the headline's.
        var csv = File.ReadAllLines(Path.Combine(output, Stem + ".runs.csv")).Where(l => l.Length > 0).ToArray();
        var header = csv[0].Split(',');
        var rows = csv[1..].Select(l => l.Split(',')).ToList();
        Assert.Equal(sweep.Count, rows.Count);
        double Cell(string[] row, string name) => double.Parse(row[Array.IndexOf(header, name)], CultureInfo.InvariantCulture);
        var lsdAtDefault = rows.Where(r => r[Array.IndexOf(header, "Loss")] == "lsd" && Cell(r, "Lambda") == PicaStudy.DefaultLambda && Cell(r, "Epsilon") == PicaStudy.DefaultEpsilon).ToList();
        foreach (var (column, key) in new[] { ("SoftToUniform", "soft_size_to_uniform_lsd"), ("HardToUniform", "hard_size_to_uniform_lsd"), ("HardToTrue", "hard_size_to_true_lsd") })
        {
            Assert.All(rows, r => Assert.InRange(Cell(r, column), 0.0, 1.0));
            Assert.Equal(lsdAtDefault.Average(r => Cell(r, column)), results[key]!.GetValue<double>(), 12);
        }
        Assert.True(File.Exists(Path.Combine(output, Stem + ".classes.csv")));

        // The claims: every declared claim, paired over all seeds, its difference the mean of its pairs and inside its interval.
        var claims = results["claims"]!.AsArray();
        Assert.Equal(PicaProtocol.ClaimsOf([], settings).Count(), claims.Count);
        foreach (var claim in claims)
        {
            foreach (var key in new[] { "text", "source", "measure", "verdict" }) Assert.False(string.IsNullOrEmpty(claim![key]!.GetValue<string>()), key);
            Assert.Equal(settings.Seeds, claim!["n"]!.GetValue<int>());
            var pairs = claim["pairs"]!.AsArray().Select(p => p!["difference"]!.GetValue<double>()).ToList();
            Assert.Equal(pairs.Average(), claim["difference"]!.GetValue<double>(), 9);
            var interval = claim["interval"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            Assert.InRange(claim["difference"]!.GetValue<double>(), interval[0], interval[1]);
        }

        // The example backbone, saved beside the results, loads into the profile's architecture.
        using var backbone = PicaStudy.NewBackbone(RunProfile.Quick, seed: 1);
        backbone.LoadSafetensors(Path.Combine(output, Stem + ".backbone.safetensors"));
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Notebooks;

/// <summary>Notebook 03 runs headless in the quick profile and writes its results: the headline consistent with the
/// rows of the CSV beside it, and the claims array. The claims' verdicts are not tested here (one seed decides nothing).</summary>
public sealed class InerrantNotebookTests
{
    private const string Stem = "03-inerrant-mcp-vs-learned-confidence";
    private static readonly string[] Initial = ["naive", "inerrant0"];
    private static readonly string[] Continued = ["inerrant0_long", "pseudo_labels_once", "inerrant_mcp", "inerrant_learned", "inerrant_learned_frozen"];
    private static readonly string[] Organs = ["liver", "spleen", "right_kidney", "left_kidney", "pancreas", "gallbladder", "stomach"];

    private sealed record Row(int Seed, double Alpha, string Method, string Measure, string Organ, int Step, double Value);

    [Fact]
    public void The_inerrant_notebook_runs_in_the_quick_profile_and_writes_its_results()
    {
        var output = Medssl.TemporaryFolder();
        // Budget 5 min on an idle 2-core machine; twice that under the suite's contention.
        var run = Medssl.RunWithin(TimeSpan.FromMinutes(10), new Dictionary<string, string>(), "run",
            Path.Combine(Medssl.RepoRoot, "notebooks", Stem + ".ipynb"), "--out", output, "--profile", "quick");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Medssl.AssertValidNotebook(Path.Combine(output, Stem + ".ipynb"));
        var results = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(output, Stem + ".results.json")))!;
        Assert.Equal(new HashSet<string> { "format", "dice_mean", "confidence", "relabeling", "seeds", "fresh_seeds", "claims" },
            results.Select(p => p.Key).ToHashSet());

        var csv = File.ReadAllLines(Path.Combine(output, Stem + ".runs.csv")).Where(l => l.Length > 0).ToArray();
        Assert.Equal("Seed,Alpha,Method,Measure,Organ,Step,Value", csv[0]);
        var rows = csv[1..].Select(l => l.Split(',')).Select(f => new Row(int.Parse(f[0], CultureInfo.InvariantCulture),
            double.Parse(f[1], CultureInfo.InvariantCulture), f[2], f[3], f[4], int.Parse(f[5], CultureInfo.InvariantCulture),
            double.Parse(f[6], CultureInfo.InvariantCulture))).ToList();
        var seeds = results["seeds"]!.AsArray().Select(s => s!.GetValue<int>()).ToList();
        Assert.Equal(seeds.ToHashSet(), rows.Select(r => r.Seed).ToHashSet());
        Assert.True(results["fresh_seeds"]!.GetValue<bool>());

        // Dice: every organ and the mean over organs for each model; the relabeling variants only where they ran.
        var dice = rows.Where(r => r.Measure == "dice").ToList();
        Assert.All(dice, r => Assert.InRange(r.Value, 0.0, 1.0));
        var alphas = dice.Select(r => r.Alpha).Distinct().ToList();
        Assert.Equal(2, alphas.Count);
        var relabelAlphas = dice.Where(r => r.Method == "inerrant_learned").Select(r => r.Alpha).Distinct().ToList();
        Assert.NotEmpty(relabelAlphas);
        foreach (var seed in seeds)
            foreach (var alpha in alphas)
                foreach (var method in relabelAlphas.Contains(alpha) ? [.. Initial, .. Continued] : Initial)
                {
                    var perOrgan = dice.Where(r => r.Seed == seed && r.Alpha == alpha && r.Method == method && r.Organ != "mean").ToList();
                    Assert.Equal(Organs.ToHashSet(), perOrgan.Select(r => r.Organ).ToHashSet());
                    Assert.Equal(perOrgan.Average(r => r.Value), dice.Single(r => r.Seed == seed && r.Alpha == alpha && r.Method == method && r.Organ == "mean").Value, 6);
                }

        // dice_mean: method → α → the mean over seeds of the rows' mean over organs.
        var means = results["dice_mean"]!.AsObject();
        Assert.Equal(Initial.Concat(Continued).ToHashSet(), means.Select(p => p.Key).ToHashSet());
        foreach (var (method, perAlpha) in means)
            foreach (var (key, value) in perAlpha!.AsObject())
            {
                var alpha = double.Parse(key, CultureInfo.InvariantCulture);
                Assert.Equal(dice.Where(r => r.Method == method && r.Alpha == alpha && r.Organ == "mean").Average(r => r.Value), value!.GetValue<double>(), 6);
            }

        // relabeling (Table 7): steps 1 … T per relabeled α and continued method, the test Dice after each step.
        var relabeling = results["relabeling"]!.AsArray().Select(r => r!.AsObject()).ToList();
        foreach (var alpha in relabelAlphas)
            foreach (var method in Continued)
            {
                var steps = relabeling.Where(r => r["alpha"]!.GetValue<double>() == alpha && r["method"]!.GetValue<string>() == method).ToList();
                Assert.Equal([1, 2, 3], steps.Select(r => r["step"]!.GetValue<int>()));
                Assert.All(steps, r => Assert.InRange(r["dice"]!.GetValue<double>(), 0.0, 1.0));
                // The last step's model is the one the final Dice rows evaluate.
                Assert.Equal(dice.Where(r => r.Method == method && r.Alpha == alpha && r.Organ == "mean").Average(r => r.Value), steps[^1]["dice"]!.GetValue<double>(), 6);
            }

        // confidence (Table 6): AUC and AP_error are probabilities, each the mean of the rows of the seeds that have one.
        foreach (var row in results["confidence"]!.AsArray().Select(r => r!.AsObject()))
        {
            var on = row["on"]!.GetValue<string>();
            Assert.Contains(on, new[] { "step1_candidates", "test_predictions" });
            var aucs = rows.Where(r => r.Alpha == row["alpha"]!.GetValue<double>() && r.Method == row["method"]!.GetValue<string>() && r.Step == 1
                && r.Measure == (on == "test_predictions" ? "test_failure_auc" : "failure_auc")).ToList();
            Assert.Equal(aucs.Count, row["n"]!.GetValue<int>());
            Assert.Equal(aucs.Average(r => r.Value), row["auc"]!.GetValue<double>(), 6);
            foreach (var key in new[] { "auc", "ap_error" }) Assert.InRange(row[key]!.GetValue<double>(), 0.0, 1.0);
        }
        // Both learned arms record the confidence loss for every relabeling step, and at every step of each training.
        Assert.Equal(3 * 2 * seeds.Count * relabelAlphas.Count, rows.Count(r => r.Measure == "confidence_loss_end"));
        Assert.All(relabelAlphas, alpha => Assert.Contains(rows, r => r.Alpha == alpha && r.Method == "inerrant_learned_frozen" && r.Measure == "confidence_loss"));

        // claims: each with text, measure, difference, interval, n and verdict; pairs are the rows' seeds.
        var claims = results["claims"]!.AsArray().Select(c => c!.AsObject()).ToList();
        Assert.True(claims.Count >= 6);
        foreach (var claim in claims)
        {
            foreach (var key in new[] { "text", "source", "measure", "difference", "interval", "n", "verdict" }) Assert.True(claim.ContainsKey(key), key);
            Assert.Contains(claim["verdict"]!.GetValue<string>(), new[] { "Supported", "Contradicted", "Inconclusive" });
            Assert.All(claim["pairs"]!.AsArray(), p => Assert.Contains(p!["seed"]!.GetValue<int>(), seeds));
        }
    }
}

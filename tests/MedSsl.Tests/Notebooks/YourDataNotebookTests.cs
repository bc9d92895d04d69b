using System.Text.Json.Nodes;
using MedSsl.Data;
using MedSsl.Experiments;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Notebooks;

/// <summary>Notebook 08 runs headless in the quick profile on the real digits and writes results consistent with its
/// rows: every method once per fresh seed, the claims recomputable from the runs, the mean accuracies from the rows.
/// The verdicts are reported by the notebook, not asserted here.</summary>
public sealed class YourDataNotebookTests
{
    private const string Stem = "08-your-own-data";
    private static readonly string[] Methods = ["supervised", "fixmatch", "pica", "kmeans"];

    [Fact]
    public void The_your_own_data_notebook_runs_in_the_quick_profile()
    {
        var output = Medssl.TemporaryFolder();
        // The quick budget is about 45 s of CPU time; the suite shares the cores, hence the generous wall limit.
        var run = Medssl.RunWithin(TimeSpan.FromMinutes(6), new Dictionary<string, string> { ["OMP_WAIT_POLICY"] = "PASSIVE" }, "run",
            Path.Combine(Medssl.RepoRoot, "notebooks", Stem + ".ipynb"), "--out", output, "--profile", "quick");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Medssl.AssertValidNotebook(Path.Combine(output, Stem + ".ipynb"));
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(output, Stem + ".results.json")))!;
        var settings = YourDataSettings.For(RunProfile.Quick, 4);
        var seeds = results["seeds"]!.AsArray().Select(s => s!.GetValue<int>()).ToList();
        Assert.True(results["fresh_seeds"]!.GetValue<bool>());
        Assert.Equal(settings.Seeds.Seeds, seeds);
        Assert.Equal(4, results["labels_per_class"]!.GetValue<int>());

        var rows = results["runs"]!.AsArray().Select(r => (Method: r!["method"]!.GetValue<string>(), Seed: r["seed"]!.GetValue<int>(),
            Labelled: r["labelled_images"]!.GetValue<int>(), Accuracy: r["test_accuracy"]!.GetValue<double>(),
            Nmi: r["nmi"]?.GetValue<double>(), Wrong: r["wrong_pseudo_labels"]?.GetValue<double>(), Correct: r["correct_pseudo_labels"]?.GetValue<double>())).ToList();
        Assert.Equal(seeds.Count * Methods.Length, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.Method, r.Seed)).Distinct().Count());
        Assert.All(rows, r => Assert.Contains(r.Method, Methods));
        Assert.All(rows, r => Assert.Equal(40, r.Labelled));
        Assert.All(rows, r => Assert.InRange(r.Accuracy, 0.0, 1.0));
        Assert.All(rows.Where(r => r.Method is "pica" or "kmeans"), r => Assert.InRange(r.Nmi!.Value, 0.0, 1.0));
        Assert.All(rows.Where(r => r.Method == "fixmatch"), r => Assert.InRange(r.Correct!.Value + r.Wrong!.Value, 0.0, 1.0));
        foreach (var method in Methods)
            Assert.Equal(rows.Where(r => r.Method == method).Average(r => r.Accuracy), results["mean_test_accuracy"]![method]!.GetValue<double>(), 12);

        var claims = results["claims"]!.AsArray();
        Assert.Equal(2, claims.Count);
        foreach (var claim in claims)
        {
            Assert.False(string.IsNullOrWhiteSpace(claim!["text"]!.GetValue<string>()));
            Assert.Contains("et al. 2020", claim["source"]!.GetValue<string>());
            Assert.False(string.IsNullOrWhiteSpace(claim["measure"]!.GetValue<string>()));
            Assert.Equal(seeds.Count, claim["n"]!.GetValue<int>());
            Assert.Equal(2, claim["interval"]!.AsArray().Count);
            Assert.Contains(claim["verdict"]!.GetValue<string>(), new[] { "Supported", "Contradicted", "Inconclusive" });
        }
        double Difference(string treatment, string control) =>
            seeds.Average(s => rows.Single(r => r.Method == treatment && r.Seed == s).Accuracy - rows.Single(r => r.Method == control && r.Seed == s).Accuracy);
        Assert.Equal(Difference("fixmatch", "supervised"), claims[0]!["difference"]!.GetValue<double>(), 12);
        Assert.Equal(Difference("pica", "kmeans"), claims[1]!["difference"]!.GetValue<double>(), 12);

        var csv = File.ReadAllLines(Path.Combine(output, Stem + ".runs.csv")).Where(l => l.Length > 0).ToArray();
        Assert.Equal(rows.Count, csv.Length - 1);
    }

    [Fact]
    public void A_seed_outside_the_plan_is_a_named_error()
    {
        var e = Assert.Throws<ArgumentException>(() => YourDataSettings.For(RunProfile.Quick, 4).CheckExampleSeed(7));
        Assert.Contains("Seed = 7", e.Message);
    }
}

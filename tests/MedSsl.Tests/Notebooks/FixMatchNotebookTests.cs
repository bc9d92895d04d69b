using System.Text.Json.Nodes;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Notebooks;

/// <summary>Notebook 02 runs headless in the quick profile and writes the results the issue names, consistent with its
/// rows. The paper's claims are reported by the notebook, not asserted on its seeds here.</summary>
public sealed class FixMatchNotebookTests
{
    private static readonly string[] Heads = ["one", "two", "supervised"];
    private static readonly string[] Inits = ["random", "deep_clustering"];

    [Fact]
    public void The_fixmatch_notebook_runs_in_the_quick_profile()
    {
        var output = Medssl.TemporaryFolder();
        // The quick budget is 4 minutes of CPU time on an idle 2-core machine; the suite shares the cores, hence 2×.
        var run = Medssl.RunWithin(TimeSpan.FromMinutes(8), new Dictionary<string, string>(), "run",
            Path.Combine(Medssl.RepoRoot, "notebooks", "02-fixmatch-one-vs-two-head.ipynb"), "--out", output, "--profile", "quick");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Medssl.AssertValidNotebook(Path.Combine(output, "02-fixmatch-one-vs-two-head.ipynb"));
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "02-fixmatch-one-vs-two-head.results.json")))!;
        var rows = results["runs"]!.AsArray().Select(r => (
            Head: r!["head"]!.GetValue<string>(), Init: r["init"]!.GetValue<string>(), Fraction: r["label_fraction"]!.GetValue<double>(),
            Seed: r["seed"]!.GetValue<int>(), F1: r["f1_weighted"]!.GetValue<double>())).ToList();

        // Quick profile: 2 seeds × fractions {0.1, 1} × (Two-Head, supervised from both inits + One-Head from deep clustering).
        Assert.Equal(2 * 2 * 5, rows.Count);
        Assert.All(rows, r => Assert.Contains(r.Head, Heads));
        Assert.All(rows, r => Assert.Contains(r.Init, Inits));
        Assert.All(rows, r => Assert.InRange(r.F1, 0.0, 1.0));
        Assert.Equal([0.1, 1.0], rows.Select(r => r.Fraction).Distinct().Order());
        Assert.Equal(rows.Count, rows.Select(r => (r.Head, r.Init, r.Fraction, r.Seed)).Distinct().Count());

        double Mean(string head) => rows.Where(r => r.Head == head && r.Init == "deep_clustering").Average(r => r.F1);
        Assert.Equal(Mean("one"), results["f1_weighted_one_head"]!.GetValue<double>(), 12);
        Assert.Equal(Mean("two"), results["f1_weighted_two_head"]!.GetValue<double>(), 12);
        var paired = rows.Where(r => r.Head == "two" && r.Init == "deep_clustering")
            .Select(two => two.F1 - rows.Single(o => o.Head == "one" && o.Init == "deep_clustering" && o.Seed == two.Seed && o.Fraction == two.Fraction).F1);
        Assert.Equal(paired.Average(), results["two_head_minus_one_head"]!.GetValue<double>(), 12);
        var pretrained = rows.Where(r => r.Head == "two" && r.Init == "deep_clustering" && r.Fraction == 0.1)
            .Select(dc => dc.F1 - rows.Single(o => o.Head == "two" && o.Init == "random" && o.Seed == dc.Seed && o.Fraction == 0.1).F1);
        Assert.Equal(pretrained.Average(), results["pretrained_minus_random_at_10pct"]!.GetValue<double>(), 12);

        // Table 2: seven organs and the weighted average of a run that exists.
        var best = results["per_class_best"]!;
        Assert.Equal(7, best["classes"]!.AsArray().Count);
        Assert.Contains(rows, r => r.Head == best["head"]!.GetValue<string>() && r.Init == best["init"]!.GetValue<string>()
            && r.Seed == best["seed"]!.GetValue<int>() && Math.Abs(r.F1 - best["weighted"]!["f1"]!.GetValue<double>()) < 1e-12);
        var csv = File.ReadAllLines(Path.Combine(output, "02-fixmatch-one-vs-two-head.runs.csv")).Where(l => l.Length > 0).ToArray();
        Assert.Equal(rows.Count, csv.Length - 1);
    }
}

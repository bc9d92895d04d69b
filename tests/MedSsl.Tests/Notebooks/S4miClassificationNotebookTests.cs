using System.Text.Json.Nodes;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Notebooks;

public class S4miClassificationNotebookTests
{
    private static readonly string[] Verdicts = ["supported", "contradicted", "inconclusive"];

    [Fact]
    public void The_quick_profile_runs_and_writes_every_classifier_the_floor_and_the_claims()
    {
        var output = Path.Combine(Medssl.TemporaryFolder(), "out");
        var run = Medssl.RunWithin(TimeSpan.FromMinutes(8), new Dictionary<string, string>(), "run",
            Path.Combine(Medssl.RepoRoot, "notebooks", "05-s4mi-dino-vs-cass.ipynb"), "--out", output, "--profile", "quick");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Medssl.AssertValidNotebook(Path.Combine(output, "05-s4mi-dino-vs-cass.ipynb"));
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "05-s4mi-dino-vs-cass.results.json")))!;
        var seeds = results["seeds"]!.AsArray().Select(s => s!.GetValue<int>()).ToList();
        Assert.True(results["fresh_seeds"]!.GetValue<bool>());
        Assert.Equal([1000, 1001], seeds);
        var f1 = results["f1"]!.AsArray().Select(r => (
            Backbone: r!["backbone"]!.GetValue<string>(), Method: r["method"]!.GetValue<string>(),
            Fraction: r["label_fraction"]!.GetValue<double>(), Seed: r["seed"]!.GetValue<int>(), F1: r["f1"]!.GetValue<double>())).ToList();
        // Per seed: the all-positive floor, then 2 backbones × 3 methods × 2 label fractions, each once.
        Assert.Equal(seeds.Count * (1 + 2 * 3 * 2), f1.Count);
        Assert.Equal(f1.Count, f1.Select(r => (r.Backbone, r.Method, r.Fraction, r.Seed)).Distinct().Count());
        Assert.Equal(["all positive", "cass", "dino", "supervised"], f1.Select(r => r.Method).Distinct().Order());
        Assert.Equal(seeds, f1.Select(r => r.Seed).Distinct().Order());
        Assert.All(f1, r => Assert.InRange(r.F1, 0.0, 1.0));
        // The headline values are computed from the entries: the paired CASS − DINO and the floor's mean.
        var paired = f1.Where(r => r.Method == "cass")
            .Select(c => c.F1 - f1.Single(d => d.Method == "dino" && d.Backbone == c.Backbone && d.Fraction == c.Fraction && d.Seed == c.Seed).F1);
        Assert.Equal(paired.Average(), results["cass_minus_dino"]!.GetValue<double>(), 12);
        Assert.Equal(f1.Where(r => r.Method == "all positive").Average(r => r.F1), results["all_positive_f1"]!.GetValue<double>(), 12);
        // Claims: each with its numbers, one pair per seed, and the pairs' values are rows of f1.
        var claims = results["claims"]!.AsArray();
        Assert.Equal(14, claims.Count);
        foreach (var claim in claims)
        {
            Assert.False(string.IsNullOrWhiteSpace(claim!["text"]!.GetValue<string>()));
            Assert.False(string.IsNullOrWhiteSpace(claim["measure"]!.GetValue<string>()));
            Assert.Equal(seeds.Count, claim["n"]!.GetValue<int>());
            var interval = claim["interval"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            Assert.Equal(2, interval.Length);
            Assert.InRange(claim["difference"]!.GetValue<double>(), interval[0], interval[1]);
            Assert.Contains(claim["verdict"]!.GetValue<string>().ToLowerInvariant(), Verdicts);
            var pairs = claim["pairs"]!.AsArray();
            Assert.Equal(claim["difference"]!.GetValue<double>(), pairs.Average(p => p!["difference"]!.GetValue<double>()), 12);
            if (claim["measure"]!.GetValue<string>() == "test F1")
                Assert.All(pairs, p => Assert.Contains(f1, r => r.Seed == p!["seed"]!.GetValue<int>() && r.F1 == p["treatment"]!.GetValue<double>()));
        }
        var csv = File.ReadAllLines(Path.Combine(output, "05-s4mi-dino-vs-cass.runs.csv")).Where(l => l.Length > 0).ToArray();
        Assert.Equal("Backbone,Method,LabelFraction,Seed,F1,SaliencyOnLesion,EmbeddingSpread,TeacherEntropy,CassOutputSpread", csv[0]);
        Assert.Equal(f1.Count, csv.Length - 1);
    }
}

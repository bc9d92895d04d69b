using System.Text.Json.Nodes;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Notebooks;

public class S4miClassificationNotebookTests
{
    [Fact]
    public void The_quick_profile_runs_and_writes_every_classifier_and_the_paired_CASS_minus_DINO()
    {
        var output = Path.Combine(Medssl.TemporaryFolder(), "out");
        var run = Medssl.RunWithin(TimeSpan.FromMinutes(8), new Dictionary<string, string>(), "run",
            Path.Combine(Medssl.RepoRoot, "notebooks", "05-s4mi-dino-vs-cass.ipynb"), "--out", output, "--profile", "quick");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Medssl.AssertValidNotebook(Path.Combine(output, "05-s4mi-dino-vs-cass.ipynb"));
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "05-s4mi-dino-vs-cass.results.json")))!;
        var f1 = results["f1"]!.AsArray().Select(r => (
            Backbone: r!["backbone"]!.GetValue<string>(), Method: r["method"]!.GetValue<string>(),
            Fraction: r["label_fraction"]!.GetValue<double>(), Seed: r["seed"]!.GetValue<int>(), F1: r["f1"]!.GetValue<double>())).ToList();
        // Quick profile: 2 seeds × 2 backbones × 3 methods × 2 label fractions, each combination once.
        Assert.Equal(2 * 2 * 3 * 2, f1.Count);
        Assert.Equal(f1.Count, f1.Select(r => (r.Backbone, r.Method, r.Fraction, r.Seed)).Distinct().Count());
        Assert.Equal(["cnn", "vit"], f1.Select(r => r.Backbone).Distinct().Order());
        Assert.Equal(["cass", "dino", "supervised"], f1.Select(r => r.Method).Distinct().Order());
        Assert.Equal([0.1, 1.0], f1.Select(r => r.Fraction).Distinct().Order());
        Assert.Equal([0, 1], f1.Select(r => r.Seed).Distinct().Order());
        Assert.All(f1, r => Assert.InRange(r.F1, 0.0, 1.0));
        // cass_minus_dino is the mean of the paired differences.
        var paired = f1.Where(r => r.Method == "cass")
            .Select(c => c.F1 - f1.Single(d => d.Method == "dino" && d.Backbone == c.Backbone && d.Fraction == c.Fraction && d.Seed == c.Seed).F1);
        Assert.Equal(paired.Average(), results["cass_minus_dino"]!.GetValue<double>(), 12);
        var csv = File.ReadAllLines(Path.Combine(output, "05-s4mi-dino-vs-cass.runs.csv")).Where(l => l.Length > 0).ToArray();
        Assert.Equal("Backbone,Method,LabelFraction,Seed,F1,SaliencyOnLesion", csv[0]);
        Assert.Equal(f1.Count, csv.Length - 1);
    }
}

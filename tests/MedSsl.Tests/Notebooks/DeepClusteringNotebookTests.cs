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
    public void TheQuickProfileWritesTheIssuesResultsAndTheBackbone()
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

        // The sweep: every (loss, λ, seed) once; the headline means and bests are those of its λ = 2 rows.
        var sweep = results["lambda_sweep"]!.AsArray().Select(r => (Loss: r!["loss"]!.GetValue<string>(), Lambda: r["lambda"]!.GetValue<double>(),
            Seed: r["seed"]!.GetValue<int>(), F1: r["f1_weighted"]!.GetValue<double>())).ToList();
        Assert.Equal(2 * settings.Lambdas.Length * settings.Seeds, sweep.Count);
        Assert.Equal(sweep.Count, sweep.Select(r => (r.Loss, r.Lambda, r.Seed)).Distinct().Count());
        Assert.Equal(["lsd", "pica"], sweep.Select(r => r.Loss).Distinct().Order());
        Assert.Equal(settings.Lambdas, sweep.Select(r => r.Lambda).Distinct().Order());
        Assert.All(sweep, r => Assert.InRange(r.F1, 0.0, 1.0));
        foreach (var loss in new[] { "pica", "lsd" })
        {
            var atDefault = sweep.Where(r => r.Loss == loss && r.Lambda == PicaStudy.DefaultLambda).Select(r => r.F1).ToList();
            Assert.Equal(atDefault.Average(), results[$"f1_weighted_{loss}"]!.GetValue<double>(), 12);
            Assert.Equal(atDefault.Max(), results[$"f1_weighted_best_{loss}"]!.GetValue<double>(), 12);
            Assert.InRange(results[$"cluster_size_distance_{loss}"]!.GetValue<double>(), 0.0, 1.0);
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
        Assert.Equal(rows.Where(r => r[0] == "lsd" && Cell(r, "Lambda") == PicaStudy.DefaultLambda).Average(r => Cell(r, "ClusterSizeDistance")),
            results["cluster_size_distance_lsd"]!.GetValue<double>(), 12);
        Assert.True(File.Exists(Path.Combine(output, Stem + ".classes.csv")));

        // The contract with the FixMatch notebook: the example backbone loads into the profile's architecture.
        using var backbone = PicaStudy.NewBackbone(RunProfile.Quick, seed: 1);
        backbone.LoadSafetensors(Path.Combine(output, Stem + ".backbone.safetensors"));
    }
}

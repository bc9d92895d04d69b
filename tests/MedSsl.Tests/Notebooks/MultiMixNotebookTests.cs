using System.Text.Json.Nodes;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Notebooks;

/// <summary>notebooks/07-multimix.ipynb in the quick profile: it runs headless and writes results.json with its runs,
/// seeds and claims, consistent with its rows. The paper's claims are decided by the notebook, not asserted here.</summary>
public class MultiMixNotebookTests
{
    [Fact]
    public void The_multimix_notebook_runs_in_the_quick_profile_and_writes_its_results_and_claims()
    {
        var output = Medssl.TemporaryFolder();
        // The quick profile is sized for 4 minutes on an idle 2-core machine; the suite shares the cores.
        var run = Medssl.RunWithin(TimeSpan.FromMinutes(8), new Dictionary<string, string>(), "run",
            Path.Combine(Medssl.RepoRoot, "notebooks", "07-multimix.ipynb"), "--out", output, "--profile", "quick");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Medssl.AssertValidNotebook(Path.Combine(output, "07-multimix.ipynb"));
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "07-multimix.results.json")))!;
        var runs = results["runs"]!.AsArray().Select(r => r!).ToList();

        // Quick: every model at (4 masks, 20 labels) and Enc also with all 400 labels; two domains; fresh seeds 1000, 1001.
        var trained = runs.Select(r => (Model: r["model"]!.GetValue<string>(), Masks: r["labelled_masks"]!.GetValue<int>(),
            Labels: r["labelled_labels"]!.GetValue<int>(), Seed: r["seed"]!.GetValue<int>())).Distinct().ToList();
        Assert.Equal(2 * (7 + 1), trained.Count);
        Assert.Equal(2 * trained.Count, runs.Count);
        Assert.Equal(["cross", "in"], runs.Select(r => r["domain"]!.GetValue<string>()).Distinct().Order());
        Assert.Equal([1000, 1001], results["seeds"]!.AsArray().Select(s => s!.GetValue<int>()));
        Assert.True(results["fresh_seeds"]!.GetValue<bool>());
        Assert.Equal([1000, 1001], runs.Select(r => r["seed"]!.GetValue<int>()).Distinct().Order());
        foreach (var r in runs)
        {
            var model = r["model"]!.GetValue<string>();
            Assert.Equal(model == "U-Net", r["accuracy"] is null);
            Assert.Equal(model == "U-Net", r["auc"] is null);
            Assert.Equal(model is "Enc" or "Enc-SSL", r["dice"] is null);
            foreach (var key in new[] { "accuracy", "auc", "dice" })
                if (r[key] is { } value) Assert.InRange(value.GetValue<double>(), 0, 1);
        }

        // The claims: each with its numbers, paired over both seeds; their pairs are the runs' own values.
        var claims = results["claims"]!.AsArray().Select(c => c!).ToList();
        Assert.Equal(2 * 5 + 1, claims.Count);
        foreach (var c in claims)
        {
            Assert.False(string.IsNullOrEmpty(c["text"]!.GetValue<string>()));
            Assert.False(string.IsNullOrEmpty(c["measure"]!.GetValue<string>()));
            Assert.Equal(2, c["n"]!.GetValue<int>());
            var interval = c["interval"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            var difference = c["difference"]!.GetValue<double>();
            Assert.Equal(2, interval.Length);
            Assert.InRange(difference, interval[0], interval[1]);
            Assert.Contains(c["verdict"]!.GetValue<string>(), new[] { "Supported", "Contradicted", "Inconclusive" });
        }
        double Dice(string model, int seed, string domain) => runs.Single(r => r["model"]!.GetValue<string>() == model
            && r["seed"]!.GetValue<int>() == seed && r["domain"]!.GetValue<string>() == domain)["dice"]!.GetValue<double>();
        var unet = claims.Single(c => c["text"]!.GetValue<string>().StartsWith("MultiMix's Dice > U-Net's") && c["text"]!.GetValue<string>().EndsWith("cross-domain"));
        foreach (var pair in unet["pairs"]!.AsArray().Select(p => p!))
        {
            var seed = pair["seed"]!.GetValue<int>();
            Assert.Equal(Dice("MultiMix", seed, "cross"), pair["treatment"]!.GetValue<double>(), 12);
            Assert.Equal(Dice("U-Net", seed, "cross"), pair["control"]!.GetValue<double>(), 12);
        }
        Assert.Equal(new[] { 1000, 1001 }.Average(s => Dice("MultiMix", s, "cross") - Dice("U-Net", s, "cross")), unet["difference"]!.GetValue<double>(), 12);

        var csv = File.ReadAllLines(Path.Combine(output, "07-multimix.runs.csv")).Where(l => l.Length > 0).ToArray();
        Assert.Equal("Model,LabelledMasks,LabelledLabels,Domain,Seed,Accuracy,Auc,F1Normal,F1Pneumonia,Dice,Jaccard,AverageHausdorff,Precision,Recall," +
            "SaliencyOnLungs,PseudoLabelRate,PseudoLabelAccuracy,MaskKl,CpuSeconds", csv[0]);
        Assert.Equal(runs.Count, csv.Length - 1);
    }
}

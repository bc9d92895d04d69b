using System.Text.Json.Nodes;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Notebooks;

/// <summary>Notebook 03 runs headless in the quick profile and writes issue 14's results.json contract. The paper's
/// claims are reported by the notebook and docs/methods/inerrant.md, not re-tested here on one seed.</summary>
public sealed class InerrantNotebookTests
{
    private const string Stem = "03-inerrant-mcp-vs-learned-confidence";
    private static readonly string[] Methods = ["naive", "inerrant0", "inerrant_mcp", "inerrant_learned"];
    private static readonly string[] Organs = ["liver", "spleen", "right_kidney", "left_kidney", "pancreas", "gallbladder", "stomach"];
    private static readonly double[] Alphas = [0.1, 0.3, 0.5, 0.7];

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
        Assert.Equal(new HashSet<string> { "format", "dice", "dice_mean", "confidence", "relabeling" }, results.Select(p => p.Key).ToHashSet());

        // dice: one row per method × α × seed × organ (quick: one seed), values in [0, 1].
        var dice = results["dice"]!.AsArray().Select(r => r!.AsObject()).ToList();
        var seeds = dice.Select(r => r["seed"]!.GetValue<int>()).Distinct().ToList();
        Assert.Equal(Methods.Length * Alphas.Length * seeds.Count * Organs.Length, dice.Count);
        Assert.Equal(Methods.ToHashSet(), dice.Select(r => r["method"]!.GetValue<string>()).ToHashSet());
        Assert.Equal(Organs.ToHashSet(), dice.Select(r => r["organ"]!.GetValue<string>()).ToHashSet());
        Assert.Equal(Alphas.ToHashSet(), dice.Select(r => r["alpha"]!.GetValue<double>()).ToHashSet());
        Assert.All(dice, r => Assert.InRange(r["dice"]!.GetValue<double>(), 0.0, 1.0));

        // dice_mean: method → α → the mean of its rows over organs and seeds.
        var means = results["dice_mean"]!.AsObject();
        Assert.Equal(Methods.ToHashSet(), means.Select(p => p.Key).ToHashSet());
        foreach (var method in Methods)
            foreach (var alpha in Alphas)
            {
                var key = alpha.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
                var expected = dice.Where(r => r["method"]!.GetValue<string>() == method && r["alpha"]!.GetValue<double>() == alpha).Average(r => r["dice"]!.GetValue<double>());
                Assert.Equal(expected, means[method]![key]!.GetValue<double>(), 12);
            }

        // confidence: MCP and learned per α (Table 6), each a probability-like score. An α whose first-step candidates
        // are all correct (or all wrong) has no row, which short quick-profile training can make common.
        var confidence = results["confidence"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.All(confidence, r => Assert.Contains(r["alpha"]!.GetValue<double>(), Alphas));
        foreach (var alpha in confidence.Select(r => r["alpha"]!.GetValue<double>()).Distinct())
            Assert.Equal(["learned", "mcp"], confidence.Where(r => r["alpha"]!.GetValue<double>() == alpha).Select(r => r["measure"]!.GetValue<string>()).Order());
        foreach (var row in confidence)
            foreach (var key in new[] { "auc", "ap_success", "ap_error" }) Assert.InRange(row[key]!.GetValue<double>(), 0.0, 1.0);

        // relabeling: steps 1 … T per α (Table 7), precision and recall in [0, 1].
        var relabeling = results["relabeling"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(Alphas.ToHashSet(), relabeling.Select(r => r["alpha"]!.GetValue<double>()).ToHashSet());
        foreach (var perAlpha in relabeling.GroupBy(r => r["alpha"]!.GetValue<double>()))
        {
            var steps = perAlpha.OrderBy(r => r["step"]!.GetValue<int>()).ToList();
            Assert.Equal(Enumerable.Range(1, steps.Count), steps.Select(r => r["step"]!.GetValue<int>()));
            Assert.All(steps, r => Assert.InRange(r["precision"]!.GetValue<double>(), 0.0, 1.0));
            Assert.All(steps, r => Assert.InRange(r["recall"]!.GetValue<double>(), 0.0, 1.0));
        }

        var csv = File.ReadAllLines(Path.Combine(output, Stem + ".dice.csv")).Where(l => l.Length > 0).ToArray();
        Assert.Equal("Method,Alpha,Seed,Organ,Dice", csv[0]);
        Assert.Equal(dice.Count, csv.Length - 1);
    }
}

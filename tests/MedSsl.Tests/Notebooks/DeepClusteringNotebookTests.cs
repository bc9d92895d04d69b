using System.Globalization;
using MedSsl.Data;
using MedSsl.Experiments;
using MedSsl.Training;

namespace MedSsl.Tests.Notebooks;

public class DeepClusteringNotebookTests
{
    private const string Stem = "01-deep-clustering-pica-vs-lsd";

    [Fact]
    public void TheQuickProfileWritesItsRowsClaimsAndBackbone()
    {
        // Budget: 3 minutes on an idle 2-core machine; twice that on a shared one.
        var run = QuickProfileRun.Of(Stem, TimeSpan.FromMinutes(6));
        var results = run.Results;
        var settings = PicaSettings.For(RunProfile.Quick);

        // Fresh evaluation seeds, one per profile seed.
        Assert.True(results["fresh_seeds"]!.GetValue<bool>());
        Assert.Equal([.. SeedPlan.Evaluation(settings.Seeds).Seeds], results["seeds"]!.AsArray().Select(s => s!.GetValue<int>()));

        // The runs' CSV: both losses at every λ and L_SD at every other ε, once per seed.
        var csv = run.CsvLines(".runs.csv");
        var header = csv[0].Split(',');
        var rows = csv[1..].Select(l => l.Split(',')).ToList();
        string Text(string[] row, string name) => row[Array.IndexOf(header, name)];
        double Cell(string[] row, string name) => double.Parse(Text(row, name), CultureInfo.InvariantCulture);
        Assert.Equal((2 * settings.Lambdas.Length + settings.Epsilons.Length - 1) * settings.Seeds, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (Text(r, "Loss"), Cell(r, "Lambda"), Cell(r, "Epsilon"), Cell(r, "Seed"))).Distinct().Count());
        Assert.Equal(settings.Lambdas, rows.Where(r => Text(r, "Loss") == "pica").Select(r => Cell(r, "Lambda")).Distinct().Order());
        Assert.Equal(settings.Epsilons, rows.Where(r => Text(r, "Loss") == "lsd" && Cell(r, "Lambda") == PicaStudy.DefaultLambda).Select(r => Cell(r, "Epsilon")).Distinct().Order());
        foreach (var column in new[] { "F1Weighted", "SoftToUniform", "HardToUniform", "SoftToTrue", "HardToTrue" })
            Assert.All(rows, r => Assert.InRange(Cell(r, column), 0.0, 1.0));

        // The headline: per loss, the means (and best F1) of its λ = 2 rows.
        foreach (var loss in PicaStudy.Losses)
        {
            var atDefault = rows.Where(r => PicaStudy.AtDefault(loss).Matches(Text(r, "Loss"), Cell(r, "Lambda"), Cell(r, "Epsilon"))).ToList();
            Assert.Equal(settings.Seeds, atDefault.Count);
            Assert.Equal(atDefault.Max(r => Cell(r, "F1Weighted")), results[$"f1_weighted_best_{loss}"]!.GetValue<double>(), 12);
            foreach (var (column, key) in new[] { ("F1Weighted", "f1_weighted"), ("SoftToUniform", "soft_size_to_uniform"), ("HardToUniform", "hard_size_to_uniform"),
                         ("SoftToTrue", "soft_size_to_true"), ("HardToTrue", "hard_size_to_true") })
                Assert.Equal(atDefault.Average(r => Cell(r, column)), results[$"{key}_{loss}"]!.GetValue<double>(), 12);
        }
        var classes = run.CsvLines(".classes.csv");
        Assert.Equal(rows.Count * 7 + 1, classes.Length);

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
        backbone.LoadSafetensors(run.PathOf(".backbone.safetensors"));
    }
}

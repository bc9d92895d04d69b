using MedSsl.Data;
using MedSsl.Data.Loaders;
using MedSsl.Experiments;

namespace MedSsl.Tests.Notebooks;

/// <summary>Notebook 08 runs headless in the quick profile on the real digits and writes results consistent with its
/// rows: every method once per fresh seed, the claims recomputable from the runs, the mean accuracies from the rows.
/// The verdicts are reported by the notebook, not asserted here.</summary>
public sealed class YourDataNotebookTests
{
    private const string Stem = "08-your-own-data";
    private static readonly string[] Methods = ["supervised", "fixmatch", "supervisedmlp", "ssldec", "pica", "kmeans"];

    [Fact]
    public void The_your_own_data_notebook_runs_in_the_quick_profile()
    {
        // The quick profile is CI-sized (its measured CPU time: docs/methods/your-own-data.md); the suite shares the cores,
        // hence the generous wall limit.
        var run = QuickProfileRun.Of(Stem, TimeSpan.FromMinutes(6));
        var results = run.Results;
        var settings = YourDataSettings.For(RunProfile.Quick, 4);
        var seeds = results["seeds"]!.AsArray().Select(s => s!.GetValue<int>()).ToList();
        Assert.True(results["fresh_seeds"]!.GetValue<bool>());
        Assert.Equal(settings.Seeds.Seeds, seeds);
        Assert.Equal(4, results["labels_per_class"]!.GetValue<int>());

        var rows = results["runs"]!.AsArray().Select(r => (Method: r!["method"]!.GetValue<string>(), Seed: r["seed"]!.GetValue<int>(),
            Labelled: r["labelled_images"]!.GetValue<int>(), Accuracy: r["test_accuracy"]!.GetValue<double>(),
            Nmi: r["nmi"]?.GetValue<double>(), Wrong: r["wrong_pseudo_labels"]?.GetValue<double>(), Correct: r["correct_pseudo_labels"]?.GetValue<double>(),
            Rounds: r["ssldec_rounds"]?.GetValue<int>())).ToList();
        Assert.Equal(seeds.Count * Methods.Length, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.Method, r.Seed)).Distinct().Count());
        Assert.All(rows, r => Assert.Contains(r.Method, Methods));
        Assert.All(rows, r => Assert.Equal(40, r.Labelled));
        Assert.All(rows, r => Assert.InRange(r.Accuracy, 0.0, 1.0));
        Assert.All(rows.Where(r => r.Method is "pica" or "kmeans"), r => Assert.InRange(r.Nmi!.Value, 0.0, 1.0));
        Assert.All(rows.Where(r => r.Method == "fixmatch"), r => Assert.InRange(r.Correct!.Value + r.Wrong!.Value, 0.0, 1.0));
        // SSLDEC ran at least one round of Algorithm 1 and at most the preset's; its supervised start none.
        Assert.All(rows, r => Assert.Equal(r.Method == "ssldec", r.Rounds is not null));
        Assert.All(rows.Where(r => r.Method == "ssldec"), r => Assert.InRange(r.Rounds!.Value, 1, 50));
        foreach (var method in Methods)
            Assert.Equal(rows.Where(r => r.Method == method).Average(r => r.Accuracy), results["mean_test_accuracy"]![method]!.GetValue<double>(), 12);

        var claims = results["claims"]!.AsArray();
        Assert.Equal(3, claims.Count);
        foreach (var claim in claims)
        {
            Assert.False(string.IsNullOrWhiteSpace(claim!["text"]!.GetValue<string>()));
            Assert.Matches(@"et al\. 20(19|20)", claim["source"]!.GetValue<string>());
            Assert.False(string.IsNullOrWhiteSpace(claim["measure"]!.GetValue<string>()));
            Assert.Equal(seeds.Count, claim["n"]!.GetValue<int>());
            Assert.Equal(2, claim["interval"]!.AsArray().Count);
            Assert.Contains(claim["verdict"]!.GetValue<string>(), new[] { "Supported", "Contradicted", "Inconclusive" });
        }
        double Difference(string treatment, string control) =>
            seeds.Average(s => rows.Single(r => r.Method == treatment && r.Seed == s).Accuracy - rows.Single(r => r.Method == control && r.Seed == s).Accuracy);
        Assert.Equal(Difference("fixmatch", "supervised"), claims[0]!["difference"]!.GetValue<double>(), 12);
        Assert.Equal(Difference("ssldec", "supervisedmlp"), claims[1]!["difference"]!.GetValue<double>(), 12);
        Assert.Equal(Difference("pica", "kmeans"), claims[2]!["difference"]!.GetValue<double>(), 12);

        Assert.Equal(rows.Count, run.CsvLines(".runs.csv").Length - 1);

        // Section 5 wrote its MultiMix folder into the run's output (not a temporary folder) and trained on it: the
        // executed notebook shows the report of the folder's test rows.
        var xrays = ImageFolder.LoadSegmentation(run.PathOf(".chest-xray"), classNames: null);
        Assert.Equal(400, xrays.Count);
        var tested = xrays.IndicesOf(DataSplit.Test).Length;
        var notebook = File.ReadAllText(run.PathOf(".ipynb"));
        Assert.Contains($"test: {tested} images, accuracy", notebook);
        Assert.Contains($"test: {tested} masks, Dice", notebook);

        // Section 6 wrote partially annotated training volumes and complete test volumes beside it and scored INERRANT
        // on the test volumes.
        var train = VolumeFolder.Load(Path.Combine(run.PathOf(".ct"), "train", "volumes_alpha70.csv"));
        var test = VolumeFolder.Load(Path.Combine(run.PathOf(".ct"), "test", "volumes.csv"));
        Assert.Equal((6, 3), (train.Count, test.Count));
        Assert.Contains(Enumerable.Range(0, train.Count), v => Enumerable.Range(0, train.OrganNames.Count).Any(k => !train.IsAnnotated(v, k)));
        Assert.All(Enumerable.Range(0, train.Count), v => Assert.False(train[v].Intensities.SequenceEqual(test[0].Intensities), "a test volume is a training volume"));
        Assert.Contains($"test: {test.Count} volumes, mean foreground Dice", notebook);
    }

    /// <summary>SSLDEC gives each image one class: on multi-label data the protocol leaves out its two arms and its claim
    /// (and keeps them on single-label data).</summary>
    [Fact]
    public void Multi_label_data_run_without_SSLDEC()
    {
        ImageDataset Data(bool[] labels) => new(1, 2, 2, ["a", "b"], new float[3 * 4], labels, ["p", "q", "r"], ["p", "q", "r"]);
        var settings = YourDataSettings.For(RunProfile.Quick, 1);
        var multi = new YourDataProtocol(Data([true, false, false, true, true, true]), settings, 1000);
        Assert.False(multi.SingleLabel);
        Assert.Equal([YourDataMethod.Supervised, YourDataMethod.FixMatch, YourDataMethod.Pica, YourDataMethod.KMeans], multi.Grid);
        Assert.DoesNotContain(multi.Claims, c => c.Text.Contains("SSLDEC"));
        var single = new YourDataProtocol(Data([true, false, false, true, true, false]), settings, 1000);
        Assert.True(single.SingleLabel);
        Assert.Equal(Enum.GetValues<YourDataMethod>(), single.Grid);
        Assert.Single(single.Claims, c => c.Text.Contains("SSLDEC"));
    }

    [Fact]
    public void A_seed_outside_the_plan_is_a_named_error()
    {
        var e = Assert.Throws<ArgumentException>(() => YourDataSettings.For(RunProfile.Quick, 4).Seeds.RequireExample(7));
        Assert.Contains("Seed 7 is not one of this profile's seeds", e.Message);
    }
}

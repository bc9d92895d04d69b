using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Reports;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Experiments;

/// <summary>How the labelled points are chosen: at random within each moon (the paper's protocol), or spread
/// evenly along each moon (the "fairly distributed" points behind the paper's 99.8 %).</summary>
public enum LabelPlacement { Random, WellSpread }

/// <summary>The two models the experiment compares from the same initial weights.</summary>
public enum HalfMoonsModel { SupervisedOnly, Ssldec }

/// <summary>One trained model of the protocol: its accuracy over all points and its final clustering loss KL(P‖Q) over
/// all points (eq. 3 with P from eq. 2), which needs no label.</summary>
public sealed record HalfMoonsRow(int Seed, LabelPlacement Placement, HalfMoonsModel Model, double Accuracy, double ClusteringLoss);

/// <summary>One seed of the half-moons experiment: the data, which points were labelled, and both trained models.</summary>
public sealed record HalfMoonsRun(int Seed, LabelPlacement Placement, PointDataset Data, int[] Labelled, Ssldec Supervised, Ssldec Semisupervised) : IDisposable
{
    public double Accuracy(HalfMoonsModel model) => Row(model).Accuracy;

    public double ClusteringLoss(HalfMoonsModel model) => Row(model).ClusteringLoss;

    public Ssldec Model(HalfMoonsModel model) => model == HalfMoonsModel.Ssldec ? Semisupervised : Supervised;

    public IEnumerable<HalfMoonsRow> Rows() => Enum.GetValues<HalfMoonsModel>().Select(Row);

    /// <summary>Both numbers from one prediction q over all points.</summary>
    private HalfMoonsRow Row(HalfMoonsModel model)
    {
        using var scope = torch.NewDisposeScope();
        var (x, y) = Data.ToTensors();
        var q = Model(model).Predict(x);
        return new HalfMoonsRow(Seed, Placement, model, Classification.Accuracy(y, q.argmax(1)),
            Ssldec.KlDivergence(Ssldec.TargetDistribution(q), q).ToDouble());
    }

    /// <summary>The probability of moon 1 under a model, for decision-boundary plots.</summary>
    public Func<Tensor, Tensor> MoonOneProbability(HalfMoonsModel model) => points => Model(model).Predict(points)[.., 1];

    public void Dispose()
    {
        Supervised.Dispose();
        Semisupervised.Dispose();
    }
}

/// <summary>The values results.json reports (the nightly comparison and the test suite read these names).</summary>
public sealed record HalfMoonsHeadline(
    [property: JsonPropertyName("accuracy_supervised")] double AccuracySupervised,
    [property: JsonPropertyName("accuracy_ssldec")] double AccuracySsldec,
    [property: JsonPropertyName("accuracy_ssldec_median")] double AccuracySsldecMedian,
    [property: JsonPropertyName("accuracy_supervised_well_spread")] double AccuracySupervisedWellSpread,
    [property: JsonPropertyName("accuracy_ssldec_well_spread")] double AccuracySsldecWellSpread,
    [property: JsonPropertyName("worst_random_run_has_highest_clustering_loss")] bool WorstRunHasHighestLoss,
    [property: JsonPropertyName("seeds")] int[] Seeds,
    [property: JsonPropertyName("per_seed")] HalfMoonsSeedResult[] PerSeed);

public sealed record HalfMoonsSeedResult(
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("accuracy_supervised")] double AccuracySupervised,
    [property: JsonPropertyName("accuracy_ssldec")] double AccuracySsldec,
    [property: JsonPropertyName("clustering_loss_ssldec")] double ClusteringLossSsldec);

/// <summary>The protocol's results: every row, the summary per model and placement, the headline values, and the run
/// of the example seed kept for its figures (so plots show the very models the numbers come from).</summary>
public sealed class HalfMoonsStudy(Study<HalfMoonsRow> study, HalfMoonsRun example) : IDisposable
{
    public Study<HalfMoonsRow> Study { get; } = study;
    public IReadOnlyList<HalfMoonsRow> Rows => Study.Rows;
    public HalfMoonsRun Example { get; } = example;

    /// <summary>Mean accuracy and clustering loss with 95 % CIs per model and label placement.</summary>
    public Microsoft.Data.Analysis.DataFrame Summary =>
        Study.Summarize(r => new { r.Model, r.Placement }, [("accuracy", r => r.Accuracy), ("clustering_loss", r => r.ClusteringLoss)]);

    public IReadOnlyList<double> Accuracies(HalfMoonsModel model, LabelPlacement placement) =>
        Rows.Where(r => r.Model == model && r.Placement == placement).OrderBy(r => r.Seed).Select(r => r.Accuracy).ToList();

    public HalfMoonsHeadline Headline
    {
        get
        {
            var random = Rows.Where(r => r.Model == HalfMoonsModel.Ssldec && r.Placement == LabelPlacement.Random).OrderBy(r => r.Seed).ToList();
            var supervised = Accuracies(HalfMoonsModel.SupervisedOnly, LabelPlacement.Random);
            var worst = random.MinBy(r => r.Accuracy)!;
            return new HalfMoonsHeadline(
                supervised.Average(), random.Average(r => r.Accuracy), Median(random.Select(r => r.Accuracy)),
                Accuracies(HalfMoonsModel.SupervisedOnly, LabelPlacement.WellSpread).Average(),
                Accuracies(HalfMoonsModel.Ssldec, LabelPlacement.WellSpread).Average(),
                random.All(r => r.ClusteringLoss <= worst.ClusteringLoss),
                [.. random.Select(r => r.Seed)],
                [.. random.Select((r, i) => new HalfMoonsSeedResult(r.Seed, supervised[i], r.Accuracy, r.ClusteringLoss))]);
        }
    }

    /// <summary>results.json (the headline) and the CSV of all rows beside it, in one call.</summary>
    public string? Save(string? path = null) => ResultsFile.Save(Headline, Study, path);

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public void Dispose() => Example.Dispose();
}

/// <summary>SSLDEC's half-moons demonstration (Enguehard et al. 2019, §IV-C, Figure 4): 1000 points, noise 0.1,
/// 4 labelled points per moon, a 4 × Dense(10, ReLU) → Dense(2) network under the clustering layer.</summary>
public static class SsldecHalfMoons
{
    public const int Points = 1000;
    public const double Noise = 0.1;
    public const int LabelledPerMoon = 4;

    /// <summary>Seeds of the protocol: 5 in the quick profile, 20 in the full one.</summary>
    public static int SeedCount(RunProfile profile) => profile.Pick(quick: 5, workshop: 10, full: 20);

    /// <summary>The paper's network under SSLDEC, initialised from <paramref name="seed"/>.</summary>
    public static Ssldec NewModel(int seed, SsldecOptions? options = null)
    {
        torch.manual_seed(seed);   // libtorch draws the initial weights
        return new Ssldec(new ClusteringNetwork(Mlp.Create(2, [10, 10, 10, 10], 2), embeddingDim: 2, clusters: 2), options ?? SsldecOptions.HalfMoons(seed));
    }

    /// <summary>Draws the moons and the labelled points for a seed, then trains the supervised-only baseline and SSLDEC
    /// from the same initial weights.</summary>
    public static HalfMoonsRun Run(int seed, LabelPlacement placement = LabelPlacement.Random, SsldecOptions? options = null, Trainer? trainer = null)
    {
        var data = Moons.Make(Points, Noise, seed);
        var labelled = placement == LabelPlacement.Random ? LabelledPicker.PerClass(data.Y, LabelledPerMoon, seed) : WellSpread(data);
        // Models are made outside the dispose scope: TorchSharp would dispose their parameters with it.
        var supervised = NewModel(seed, options);
        var ssldec = NewModel(seed, options);
        var owned = trainer is null;
        trainer ??= new Trainer();
        try
        {
            using var scope = torch.NewDisposeScope();
            var (x, y) = data.ToTensors();
            var labelledIndex = torch.tensor(labelled.Select(i => (long)i).ToArray());
            var unlabelledIndex = torch.tensor(LabelledPicker.Rest(data.Count, labelled).Select(i => (long)i).ToArray());
            var xLabelled = x.index_select(0, labelledIndex);
            var yLabelled = y.index_select(0, labelledIndex);
            supervised.FitSupervised(xLabelled, yLabelled, trainer);
            ssldec.Fit(xLabelled, yLabelled, x.index_select(0, unlabelledIndex), trainer);
        }
        finally { if (owned) trainer.Dispose(); }
        return new HalfMoonsRun(seed, placement, data, labelled, supervised, ssldec);
    }

    /// <summary>The protocol: for each seed and both label placements, supervised-only vs SSLDEC. The run of
    /// (<paramref name="exampleSeed"/>, random placement) is kept for figures.</summary>
    public static HalfMoonsStudy RunStudy(RunProfile profile, int exampleSeed = 0, SsldecOptions? options = null)
    {
        var seeds = Enumerable.Range(0, SeedCount(profile)).ToList();
        if (!seeds.Contains(exampleSeed)) seeds.Add(exampleSeed);
        var rows = new List<HalfMoonsRow>();
        HalfMoonsRun? example = null;
        using var trainer = new Trainer();
        try
        {
            foreach (var seed in seeds)
                foreach (var placement in Enum.GetValues<LabelPlacement>())
                {
                    var run = Run(seed, placement, options is null ? null : options with { Seed = seed }, trainer);
                    if (seed < SeedCount(profile)) rows.AddRange(run.Rows());
                    if (seed == exampleSeed && placement == LabelPlacement.Random) example = run;
                    else run.Dispose();
                }
        }
        catch
        {
            example?.Dispose();
            throw;
        }
        return new HalfMoonsStudy(new Study<HalfMoonsRow>("runs", rows), example!);
    }

    /// <summary>For each moon, the points nearest to evenly spaced positions along its arc: angles (k + ½)·π/4 around
    /// the moon's centre — (0, 0) for the upper moon, (1, 0.5) for the lower one, as make_moons draws them.</summary>
    public static int[] WellSpread(PointDataset data)
    {
        double Angle(int i) => data.Y[i] == 0 ? Math.Atan2(data[i, 1], data[i, 0]) : Math.Atan2(0.5 - data[i, 1], 1 - data[i, 0]);
        return [.. Enumerable.Range(0, 2).SelectMany(moon => Enumerable.Range(0, LabelledPerMoon).Select(k =>
        {
            var target = (k + 0.5) * Math.PI / LabelledPerMoon;
            return Enumerable.Range(0, data.Count).Where(i => data.Y[i] == moon).MinBy(i => Math.Abs(Angle(i) - target));
        }))];
    }
}

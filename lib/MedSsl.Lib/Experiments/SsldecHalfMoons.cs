using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Reports;
using MedSsl.Training;
using Microsoft.Data.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Experiments;

/// <summary>How the labelled points are chosen: at random within each moon (the paper's protocol), or spread
/// evenly along each moon (the "fairly distributed" points behind the paper's 99.8 %).</summary>
public enum LabelPlacement { Random, WellSpread }

/// <summary>The two models the experiment compares from the same initial weights.</summary>
public enum HalfMoonsModel { SupervisedOnly, Ssldec }

/// <summary>One point of the grid: where the 8 labels are, and which model trains on them.</summary>
public sealed record HalfMoonsSetting(LabelPlacement Placement, HalfMoonsModel Model);

/// <summary>One trained model: its accuracy over all points and its final clustering loss KL(P‖Q) over all points
/// (eq. 3 with P from eq. 2) — the quantity SSLDEC's rounds minimise, which needs no label.</summary>
public sealed record HalfMoonsRow(int Seed, LabelPlacement Placement, HalfMoonsModel Model, double Accuracy, double ClusteringLoss) : ISeededRow;

/// <summary>One trained model of one seed: the data, which points were labelled, and the model.</summary>
public sealed record HalfMoonsRun(int Seed, HalfMoonsSetting Setting, PointDataset Data, int[] Labelled, Ssldec Model) : IDisposable
{
    /// <summary>Accuracy and clustering loss from one prediction q over all points.</summary>
    public HalfMoonsRow Row()
    {
        using var scope = torch.NewDisposeScope();
        var (x, y) = Data.ToTensors();
        var q = Model.Predict(x);
        return new HalfMoonsRow(Seed, Setting.Placement, Setting.Model, Classification.Accuracy(y, q.argmax(1)),
            Ssldec.KlDivergence(Ssldec.TargetDistribution(q), q).ToDouble());
    }

    /// <summary>The probability of moon 1, for decision-boundary plots.</summary>
    public Func<Tensor, Tensor> MoonOneProbability => points => Model.Predict(points)[.., 1];

    public void Dispose() => Model.Dispose();
}

/// <summary>SSLDEC's half-moons demonstration (Enguehard et al. 2019, §IV-C, Figure 4): 1000 points with noise 0.1,
/// 4 labelled points per moon, the rest unlabelled; a 4 × Dense(10, ReLU) → Dense(2) network under the clustering
/// layer, trained once on the 8 labels alone (Figure 4b) and once with Algorithm 1 (Figure 4c) from the same initial
/// weights. The paper reports 99.8 % for labels "fairly distributed over the dataset"; we draw them at random within
/// each moon (the protocol) and, as a second condition, spread evenly along each moon.</summary>
public sealed class HalfMoonsProtocol : Protocol<HalfMoonsSetting, HalfMoonsRun, HalfMoonsRow>
{
    private const string Paper = "Enguehard et al. 2019, §IV-C, Fig. 4";
    private readonly SsldecOptions? options;
    private readonly int exampleSeed;

    public HalfMoonsProtocol(RunProfile profile, int? exampleSeed = null, SsldecOptions? options = null)
    {
        Seeds = SeedPlan.Evaluation(SsldecHalfMoons.SeedCount(profile));
        this.exampleSeed = exampleSeed ?? Seeds.Seeds[0];
        if (!Seeds.Seeds.Contains(this.exampleSeed))
            throw new ArgumentException($"Seed {this.exampleSeed} is not one of the {profile.Name()} profile's seeds ({Seeds.Seeds[0]}–{Seeds.Seeds[^1]})", nameof(exampleSeed));
        this.options = options;
    }

    public override SeedPlan Seeds { get; }

    public override IReadOnlyList<HalfMoonsSetting> Grid { get; } =
        [.. from placement in Enum.GetValues<LabelPlacement>() from model in Enum.GetValues<HalfMoonsModel>() select new HalfMoonsSetting(placement, model)];

    public override HalfMoonsRun Train(int seed, HalfMoonsSetting setting, Trainer trainer) =>
        SsldecHalfMoons.Run(seed, setting, options is null ? null : options with { Seed = seed }, trainer);

    public override IEnumerable<HalfMoonsRow> Evaluate(int seed, HalfMoonsSetting setting, HalfMoonsRun run) => [run.Row()];

    public override bool IsExample(int seed, HalfMoonsSetting setting) => seed == exampleSeed && setting.Placement == LabelPlacement.Random;

    public override IEnumerable<Claim<HalfMoonsRow>> Claims =>
    [
        Beats("SSLDEC is more accurate than training on the 8 labels alone (random labels)", LabelPlacement.Random),
        Beats("SSLDEC is more accurate than training on the 8 labels alone (well-spread labels)", LabelPlacement.WellSpread),
        // The mechanism: Algorithm 1's rounds minimise eq. 3 over all points, so SSLDEC's final KL(P‖Q) should sit below
        // that of the supervised start it began from.
        new("SSLDEC lowers the clustering loss KL(P‖Q) over all points", $"{Paper}; eq. 3", "KL(P‖Q), all points",
            r => r.ClusteringLoss, r => r.Model == HalfMoonsModel.Ssldec && r.Placement == LabelPlacement.Random,
            r => r.Model == HalfMoonsModel.SupervisedOnly && r.Placement == LabelPlacement.Random, ClaimDirection.Lower),
    ];

    private static Claim<HalfMoonsRow> Beats(string text, LabelPlacement placement) =>
        new(text, Paper, "accuracy, all points", r => r.Accuracy,
            r => r.Model == HalfMoonsModel.Ssldec && r.Placement == placement,
            r => r.Model == HalfMoonsModel.SupervisedOnly && r.Placement == placement);

    public override string Describe(HalfMoonsSetting setting) => $"{setting.Model}, {setting.Placement} labels";
}

/// <summary>The values results.json reports (the nightly comparison and the test suite read these names).</summary>
public sealed record HalfMoonsHeadline(
    [property: JsonPropertyName("accuracy_supervised")] double AccuracySupervised,
    [property: JsonPropertyName("accuracy_ssldec")] double AccuracySsldec,
    [property: JsonPropertyName("accuracy_ssldec_median")] double AccuracySsldecMedian,
    [property: JsonPropertyName("accuracy_supervised_well_spread")] double AccuracySupervisedWellSpread,
    [property: JsonPropertyName("accuracy_ssldec_well_spread")] double AccuracySsldecWellSpread,
    [property: JsonPropertyName("worst_random_run_has_highest_clustering_loss")] bool WorstRunHasHighestLoss,
    [property: JsonPropertyName("per_seed")] HalfMoonsSeedResult[] PerSeed);

public sealed record HalfMoonsSeedResult(
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("accuracy_supervised")] double AccuracySupervised,
    [property: JsonPropertyName("accuracy_ssldec")] double AccuracySsldec,
    [property: JsonPropertyName("clustering_loss_ssldec")] double ClusteringLossSsldec);

/// <summary>The protocol's results: every row, the summary per model and placement, the claims, the headline values,
/// and the example seed's two runs with random labels (so the figures show the very models the numbers come from).</summary>
public sealed class HalfMoonsStudy(ProtocolResult<HalfMoonsSetting, HalfMoonsRun, HalfMoonsRow> result) : IDisposable
{
    public IReadOnlyList<HalfMoonsRow> Rows => result.Rows;
    public SeedPlan Seeds => result.Seeds;
    public ClaimTable Claims => result.Claims;

    /// <summary>The example seed's run of <paramref name="model"/> with random labels.</summary>
    public HalfMoonsRun Example(HalfMoonsModel model) => result.Example(new HalfMoonsSetting(LabelPlacement.Random, model));

    /// <summary>Mean accuracy and clustering loss with 95 % CIs per model and label placement.</summary>
    public DataFrame Summary =>
        result.Study.Summarize(r => new { r.Model, r.Placement }, [("accuracy", r => r.Accuracy), ("clustering_loss", r => r.ClusteringLoss)]);

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
                [.. random.Select((r, i) => new HalfMoonsSeedResult(r.Seed, supervised[i], r.Accuracy, r.ClusteringLoss))]);
        }
    }

    /// <summary>"What this run shows", generated from the rows: the claims, and whether the worst SSLDEC run is the one
    /// its own objective flags.</summary>
    public Findings WhatThisRunShows
    {
        get
        {
            var h = Headline;
            var worst = h.PerSeed.MinBy(s => s.AccuracySsldec)!;
            return Claims.Findings($"Random labels: SSLDEC's median accuracy is {h.AccuracySsldecMedian:0.000} (mean {h.AccuracySsldec:0.000}); " +
                $"its worst run (seed {worst.Seed}, {worst.AccuracySsldec:0.000}) {(h.WorstRunHasHighestLoss ? "has" : "does not have")} the highest final KL(P‖Q) of the " +
                $"{h.PerSeed.Length} runs, so the method's own objective {(h.WorstRunHasHighestLoss ? "flags" : "does not flag")} it without labels.");
        }
    }

    /// <summary>results.json (headline, seeds, claims) and the CSV of all rows beside it, in one call.</summary>
    public string? Save(RunContext? context = null) => result.Save(Headline, context);

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public void Dispose() => result.Dispose();
}

/// <summary>The half-moons data, network and single runs behind <see cref="HalfMoonsProtocol"/>.</summary>
public static class SsldecHalfMoons
{
    public const int Points = 1000;
    public const double Noise = 0.1;
    public const int LabelledPerMoon = 4;

    /// <summary>Seeds of the protocol: 5 in the quick profile, 20 in the workshop and full ones (a run takes seconds).</summary>
    public static int SeedCount(RunProfile profile) => profile.Pick(quick: 5, workshop: 20, full: 20);

    /// <summary>The paper's network under SSLDEC, initialised from <paramref name="seed"/>.</summary>
    public static Ssldec NewModel(int seed, SsldecOptions? options = null)
    {
        torch.manual_seed(seed);   // libtorch draws the initial weights
        return new Ssldec(new ClusteringNetwork(Mlp.Create(2, [10, 10, 10, 10], 2), embeddingDim: 2, clusters: 2), options ?? SsldecOptions.HalfMoons(seed));
    }

    /// <summary>Draws the moons and the labelled points for a seed and trains one model on them: both models of a seed
    /// start from the same initial weights and see the same labels.</summary>
    public static HalfMoonsRun Run(int seed, HalfMoonsSetting setting, SsldecOptions? options, Trainer trainer)
    {
        var data = Moons.Make(Points, Noise, seed);
        var labelled = setting.Placement == LabelPlacement.Random ? LabelledPicker.PerClass(data.Y, LabelledPerMoon, seed) : WellSpread(data);
        // The model is made outside the dispose scope: TorchSharp would dispose its parameters with it.
        var model = NewModel(seed, options);
        try
        {
            using var scope = torch.NewDisposeScope();
            var (x, y) = data.ToTensors();
            var labelledIndex = torch.tensor(labelled.Select(i => (long)i).ToArray());
            var xLabelled = x.index_select(0, labelledIndex);
            var yLabelled = y.index_select(0, labelledIndex);
            if (setting.Model == HalfMoonsModel.SupervisedOnly) model.FitSupervised(xLabelled, yLabelled, trainer);
            else
            {
                var unlabelledIndex = torch.tensor(LabelledPicker.Rest(data.Count, labelled).Select(i => (long)i).ToArray());
                model.Fit(xLabelled, yLabelled, x.index_select(0, unlabelledIndex), trainer);
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return new HalfMoonsRun(seed, setting, data, labelled, model);
    }

    /// <summary>The protocol over the profile's seeds; the runs of <paramref name="exampleSeed"/> (default: the first
    /// seed) with random labels are kept for figures.</summary>
    public static HalfMoonsStudy RunStudy(RunProfile profile, int? exampleSeed = null, SsldecOptions? options = null) =>
        new(ProtocolRunner.Run(new HalfMoonsProtocol(profile, exampleSeed, options)));

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

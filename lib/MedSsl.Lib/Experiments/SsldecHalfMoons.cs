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

/// <summary>The models compared from the same initial weights: the 8 labels alone without augmentation (Figure 4b as the
/// paper drew it) and with SSLDEC's input jitter (the baseline that isolates the unlabelled points), the pseudo-labelling
/// baseline of §IV-F, and SSLDEC (Figure 4c).</summary>
public enum HalfMoonsModel { SupervisedOnly, SupervisedJitter, PseudoLabel, Ssldec }

/// <summary>One point of the grid: where the 8 labels are, and which model trains on them.</summary>
public sealed record HalfMoonsSetting(LabelPlacement Placement, HalfMoonsModel Model);

/// <summary>One trained model: its accuracy over all points, its final clustering loss KL(P‖Q) over all points (eq. 3
/// with P from eq. 2, which needs no label), and the fraction of all points its last round trained on (P′, or the
/// labelled + pseudo-labelled points; NaN for the supervised models).</summary>
public sealed record HalfMoonsRow(int Seed, LabelPlacement Placement, HalfMoonsModel Model, double Accuracy, double ClusteringLoss, double RoundFraction) : ISeededRow;

/// <summary>One trained model of one seed: the data, which points were labelled, and the model.</summary>
public sealed record HalfMoonsRun(int Seed, HalfMoonsSetting Setting, PointDataset Data, int[] Labelled, Ssldec Model) : IDisposable
{
    public HalfMoonsRow Row()
    {
        using var scope = torch.NewDisposeScope();
        var (x, y) = Data.ToTensors();
        var q = Model.Predict(x);
        return new HalfMoonsRow(Seed, Setting.Placement, Setting.Model, Classification.Accuracy(y, q.argmax(1)),
            Ssldec.KlDivergence(Ssldec.TargetDistribution(q), q).ToDouble(), Model.Rounds.Count == 0 ? double.NaN : Model.Rounds[^1].TrainedFraction);
    }

    /// <summary>The probability of moon 1, for decision-boundary plots.</summary>
    public Func<Tensor, Tensor> MoonOneProbability => points => Model.Predict(points)[.., 1];

    public void Dispose() => Model.Dispose();
}

/// <summary>SSLDEC's half-moons demonstration (Enguehard et al. 2019, §IV-C, Figure 4): 1000 points with noise 0.1,
/// 4 labelled points per moon, the rest unlabelled; a 4 × Dense(10, ReLU) → Dense(2) network under the clustering
/// layer. Per seed and from the same initial weights: the 8 labels alone (Figure 4b) without and with SSLDEC's input
/// jitter, the pseudo-labelling baseline the paper compares against on iSeg (§IV-F, Figs. 9–11: the same rounds with
/// hard pseudo-labels instead of the target distribution), and SSLDEC (Algorithm 1, Figure 4c). The paper reports
/// 99.8 % for labels "fairly distributed over the dataset"; labels are drawn at random within each moon (the protocol)
/// and, as a second condition for the jittered baseline and SSLDEC, spread evenly along each moon.</summary>
public sealed class HalfMoonsProtocol(SeedPlan seeds, int exampleSeed, SsldecOptions? options = null) : Protocol<HalfMoonsSetting, HalfMoonsRun, HalfMoonsRow>
{
    private const string Paper = "Enguehard et al. 2019, §IV-C, Fig. 4";

    public override SeedPlan Seeds => seeds;

    public override IReadOnlyList<HalfMoonsSetting> Grid { get; } =
    [
        .. Enum.GetValues<HalfMoonsModel>().Select(model => new HalfMoonsSetting(LabelPlacement.Random, model)),
        new(LabelPlacement.WellSpread, HalfMoonsModel.SupervisedJitter), new(LabelPlacement.WellSpread, HalfMoonsModel.Ssldec),
    ];

    public override HalfMoonsRun Train(int seed, HalfMoonsSetting setting, Trainer trainer) =>
        SsldecHalfMoons.Run(seed, setting, options is null ? null : options with { Seed = seed }, trainer);

    public override IEnumerable<HalfMoonsRow> Evaluate(int seed, HalfMoonsSetting setting, HalfMoonsRun run) => [run.Row()];

    public override bool IsExample(int seed, HalfMoonsSetting setting) => seed == exampleSeed && setting.Placement == LabelPlacement.Random;

    public override IEnumerable<Claim<HalfMoonsRow>> Claims =>
    [
        Beats("SSLDEC is more accurate than the 8 labels alone with the same jitter (random labels)", HalfMoonsModel.SupervisedJitter, LabelPlacement.Random),
        Beats("SSLDEC is more accurate than the 8 labels alone with the same jitter (well-spread labels)", HalfMoonsModel.SupervisedJitter, LabelPlacement.WellSpread),
        Beats("SSLDEC is more accurate than the 8 labels alone without augmentation (Fig. 4b as drawn)", HalfMoonsModel.SupervisedOnly, LabelPlacement.Random),
        Beats("SSLDEC is more accurate than pseudo-labelling (random labels)", HalfMoonsModel.PseudoLabel, LabelPlacement.Random,
            "Enguehard et al. 2019, §IV-F, Figs. 9–11 (shown there on iSeg)"),
        // The mechanism: Algorithm 1's rounds minimise eq. 3 over all points, so SSLDEC's final KL(P‖Q) should sit below
        // that of the supervised start it began from (pre-training without jitter, the same weights and batches).
        new("SSLDEC lowers the clustering loss KL(P‖Q) over all points below its supervised start", $"{Paper}; eq. 3", "KL(P‖Q), all points",
            r => r.ClusteringLoss, r => Is(r, HalfMoonsModel.Ssldec, LabelPlacement.Random), r => Is(r, HalfMoonsModel.SupervisedOnly, LabelPlacement.Random),
            ClaimDirection.Lower),
    ];

    private static bool Is(HalfMoonsRow r, HalfMoonsModel model, LabelPlacement placement) => r.Model == model && r.Placement == placement;

    private static Claim<HalfMoonsRow> Beats(string text, HalfMoonsModel control, LabelPlacement placement, string source = Paper) =>
        new(text, source, "accuracy, all points", r => r.Accuracy, r => Is(r, HalfMoonsModel.Ssldec, placement), r => Is(r, control, placement));

    public override string Describe(HalfMoonsSetting setting) => $"{setting.Model}, {setting.Placement} labels";
}

/// <summary>The half-moons data, network and single runs behind <see cref="HalfMoonsProtocol"/>.</summary>
public static class SsldecHalfMoons
{
    public const int Points = 1000;
    public const double Noise = 0.1;
    public const int LabelledPerMoon = 4;

    /// <summary>The paper's network under SSLDEC, initialised from <paramref name="seed"/>.</summary>
    public static Ssldec NewModel(int seed, SsldecOptions options)
    {
        torch.manual_seed(seed);   // libtorch draws the initial weights
        return new Ssldec(new ClusteringNetwork(Mlp.Create(2, [10, 10, 10, 10], 2), embeddingDim: 2, clusters: 2), options);
    }

    /// <summary>The settings of one model: <see cref="SsldecOptions.HalfMoons"/> (or <paramref name="options"/>), with the
    /// jitter on the labelled batches for the jittered baseline and hard pseudo-labels for the pseudo-labelling one.</summary>
    public static SsldecOptions Options(int seed, HalfMoonsModel model, SsldecOptions? options = null) =>
        (options ?? SsldecOptions.HalfMoons(seed)) with
        {
            AugmentLabelled = model == HalfMoonsModel.SupervisedJitter || (options?.AugmentLabelled ?? false),
            Targets = model == HalfMoonsModel.PseudoLabel ? RoundTargets.PseudoLabels : options?.Targets ?? RoundTargets.Clustering,
        };

    /// <summary>Draws the moons and the labelled points for a seed and trains one model on them: all models of a seed
    /// start from the same initial weights and see the same labels.</summary>
    public static HalfMoonsRun Run(int seed, HalfMoonsSetting setting, SsldecOptions? options, Trainer trainer)
    {
        var data = Moons.Make(Points, Noise, seed);
        var labelled = setting.Placement == LabelPlacement.Random ? LabelledPicker.PerClass(data.Y, LabelledPerMoon, seed) : Moons.WellSpread(data, LabelledPerMoon);
        // The model is made outside the dispose scope: TorchSharp would dispose its parameters with it.
        var model = NewModel(seed, Options(seed, setting.Model, options));
        try
        {
            using var scope = torch.NewDisposeScope();
            var (xLabelled, yLabelled) = data.Subset(labelled).ToTensors();
            if (setting.Model is HalfMoonsModel.SupervisedOnly or HalfMoonsModel.SupervisedJitter) model.FitSupervised(xLabelled, yLabelled, trainer);
            else model.Fit(xLabelled, yLabelled, data.Subset(LabelledPicker.Rest(data.Count, labelled)).ToTensors().X, trainer);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return new HalfMoonsRun(seed, setting, data, labelled, model);
    }

    /// <summary>The protocol over the profile's fresh seeds: 3 in the quick profile (CI), 20 in the workshop and full ones
    /// (a run takes seconds). The runs of <paramref name="exampleSeed"/> (default: the first seed) with random labels are
    /// kept for figures.</summary>
    public static HalfMoonsStudy RunStudy(RunProfile profile, int? exampleSeed = null, SsldecOptions? options = null)
    {
        var seeds = SeedPlan.Evaluation(profile.Pick(quick: 3, workshop: 20, full: 20));
        return new(ProtocolRunner.Run(new HalfMoonsProtocol(seeds, seeds.RequireExample(exampleSeed ?? seeds.Seeds[0]), options)));
    }
}

using MedSsl.Data;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
using MedSsl.Reports;
using MedSsl.Training;

namespace MedSsl.Experiments;

/// <summary>One point of the grid: a method (supervised, cross_teaching, cross_teaching_ramp, picie) at a labelled
/// fraction of the training images (0 for PiCIE).</summary>
public sealed record SegmentationSetting(string Method, double LabelFraction);

/// <summary>One trained network of one run: its method and network (cnn: the U-Net, swin: the Swin-UNet), the labelled
/// fraction, the mean per-image lesion IoU and Dice on the test images, the IoU on the validation images, and the
/// mechanism cross-teaching acts on: the IoU between the U-Net's and the Swin-UNet's lesion masks on the unlabelled
/// training images (the same for both networks of a run; NaN where there are none, or one network).</summary>
public sealed record SegmentationRow(int Seed, string Method, string Network, double LabelFraction, double Iou, double Dice,
    double ValidationIou, double Agreement) : ISeededRow;

/// <summary>S4MI's segmentation comparison (Singh et al. 2024, Sci. Rep., §Segmentation and Fig. 5) on synthetic
/// skin-lesion images. Per seed a new image set split 70/10/20 (§"Experimental details"); at each labelled fraction
/// (§Segmentation: "four distinct label fractions") the supervised baseline and CNN↔Transformer cross-teaching
/// (Luo et al. 2022) start from the same initial U-Net and Swin-UNet weights and see the same labelled images; PiCIE
/// (Cho et al. 2021) sees no label. Every network is evaluated: the Swin-UNet is the "Semi" model of Fig. 5, the U-Net
/// the CNN it is taught with and the supervised "Full" model's architecture.</summary>
public sealed class S4miSegmentationProtocol(S4miSegmentationSettings settings) : Protocol<SegmentationSetting, SegmentationRun, SegmentationRow>
{
    public const string Supervised = "supervised";
    public const string CrossTeaching = "cross_teaching";
    /// <summary>The ablation: SSL4MIS's λ(t) = 0.1·exp(−5(1 − t/T)²) in place of S4MI's λ = 1.</summary>
    public const string CrossTeachingRamp = "cross_teaching_ramp";
    public const string Picie = "picie";
    public const string Cnn = "cnn";
    public const string Swin = "swin";

    private SegmentationDataset? data;

    public S4miSegmentationSettings Settings { get; } = settings;

    /// <summary>"We repeat all experiments with different seed values five times" (§"Experimental details").</summary>
    public override SeedPlan Seeds => SeedPlan.Evaluation(Settings.Seeds);

    /// <summary>The seed whose runs at the lowest fraction (and PiCIE's) are kept for the figure of predicted masks.</summary>
    public int ExampleSeed { get; init; } = SeedPlan.FirstFresh;

    /// <summary>Per fraction: the supervised baseline ("Full"), cross-teaching with S4MI's summed losses (step (4),
    /// λ = 1; "Semi"), and, at the ablation's fractions, cross-teaching with SSL4MIS's 0.1·ramp. PiCIE at 0 % ("we present
    /// results for PiCIE using 0 % label fractions", Fig. 5).</summary>
    public override IReadOnlyList<SegmentationSetting> Grid =>
    [
        .. from f in Settings.Fractions
           from method in new[] { Supervised, CrossTeaching, CrossTeachingRamp }
           where method == Supervised || (method == CrossTeaching ? Settings.CrossTeachingFractions : Settings.AblationFractions).Contains(f)
           select new SegmentationSetting(method, f),
        new(Picie, 0),
    ];

    public override void BeginSeed(int seed) => data = Settings.Data(seed);

    public override void EndSeed(int seed) => data = null;

    /// <summary>Every arm through <see cref="SegmentationTraining"/>: per seed the same initial U-Net and Swin-UNet weights
    /// and, at a fraction, the same labelled images.</summary>
    public override SegmentationRun Train(int seed, SegmentationSetting setting, Trainer trainer)
    {
        var options = Settings.Training with { Seed = seed, LabelledFraction = setting.Method == Picie ? null : setting.LabelFraction };
        var crossTeaching = options with { Method = SegmentationMethod.CrossTeaching };
        SegmentationRun Run(SegmentationTrainingOptions o) => new(SegmentationTraining.Train(Data, o, trainer));
        return setting.Method switch
        {
            // "the semi-supervised model uses a batch size of 16, … eight labeled images and eight unlabeled images"; at 100 %
            // "15 labeled images and one unlabeled image" (§Segmentation). The supervised baseline: 16 labelled images.
            Supervised => SegmentationRun.TrainedApart(Data, options, trainer),
            CrossTeaching => Run(crossTeaching),
            CrossTeachingRamp => Run(crossTeaching with { CrossTeaching = options.CrossTeaching with { MaxConsistencyWeight = 0.1, RampUp = true } }),
            // "labels were only used for validation and testing": clusters are matched to lesion/skin on the validation images.
            Picie => Run(options with { Method = SegmentationMethod.Picie }),
            _ => throw new ArgumentException($"unknown segmentation method '{setting.Method}'", nameof(setting)),
        };
    }

    /// <summary>One row per trained network: IoU(U, V) = |U ∩ V| / |U ∪ V| of the lesion per test image, averaged
    /// (§Segmentation; the last iterate, no checkpoint chosen), the Dice and the validation IoU beside it, and the run's
    /// U-Net ↔ Swin-UNet agreement on the unlabelled images.</summary>
    public override IEnumerable<SegmentationRow> Evaluate(int seed, SegmentationSetting setting, SegmentationRun run)
    {
        var agreement = run.Agreement(Data);
        foreach (var (network, segmenter, which) in run.Networks)
        {
            var test = segmenter.Report(Data, DataSplit.Test, which);
            yield return new(seed, setting.Method, network, setting.LabelFraction, test.MeanIou, test.MeanDice,
                segmenter.Report(Data, DataSplit.Validation, which).MeanIou, agreement);
        }
    }

    public override bool IsExample(int seed, SegmentationSetting setting) =>
        seed == ExampleSeed && (setting.Method == Picie || setting.LabelFraction == Settings.Fractions.Min() && setting.Method != CrossTeachingRamp);

    public override string Describe(SegmentationSetting s) => s.Method == Picie ? "PiCIE, no labels" : $"{s.Method}, {s.LabelFraction:P0} labels";

    private SegmentationDataset Data => data ?? throw new InvalidOperationException("BeginSeed draws a seed's data first");

    public override IEnumerable<Claim<SegmentationRow>> Claims
    {
        get
        {
            const string fig5 = "Singh et al. 2024, §Segmentation, Fig. 5";
            static Func<SegmentationRow, bool> Is(string method, string network, double fraction) =>
                r => r.Method == method && r.Network == network && r.LabelFraction == fraction;
            static double Iou(SegmentationRow r) => r.Iou;
            var (lowest, all) = (Settings.Fractions.Min(), Settings.Fractions.Max());
            // The precondition: with few labels the supervised network falls short, so there is something to recover.
            yield return new($"supervised U-Net: 100 % of the labels > {lowest:P0}", fig5, "lesion IoU (test)", Iou,
                Is(Supervised, Cnn, all), Is(Supervised, Cnn, lowest));
            foreach (var network in new[] { Swin, Cnn })
                foreach (var f in Settings.Fractions.Where(f => f < 0.5))
                    yield return new($"{NetworkName(network)}: cross-teaching > supervised at {f:P0} labels", fig5 + "; Luo et al. 2022, Table 1",
                        "lesion IoU (test)", Iou, Is(CrossTeaching, network, f), Is(Supervised, network, f));
            // Fig. 5's "Semi" is the Swin-UNet, its "Full" the supervised ResNet-34 U-Net (DEDL): the paper's own pairing.
            foreach (var f in Settings.Fractions.Where(f => f < 0.5))
                yield return new($"cross-taught Swin-UNet > supervised U-Net at {f:P0} labels (the paper's pairing)", fig5, "lesion IoU (test)", Iou,
                    Is(CrossTeaching, Swin, f), Is(Supervised, Cnn, f));
            if (Settings.Fractions.Contains(0.5) && all == 1.0)
                foreach (var network in new[] { Swin, Cnn })
                    yield return new($"{NetworkName(network)}: cross-teaching with 50 % of the labels ≥ supervised with 100 %",
                        fig5 + " (\"surpasses the fully-supervised approach by requiring 50 % fewer labels\")", "lesion IoU (test)", Iou,
                        Is(CrossTeaching, network, 0.5), Is(Supervised, network, 1.0));
            // The mechanism: the unsupervised term pulls each network towards the other's masks on the unlabelled images.
            foreach (var f in Settings.Fractions.Where(f => f < 0.5))
                yield return new($"cross-teaching makes the U-Net and the Swin-UNet agree on the unlabelled images ({f:P0} labels)",
                    "Luo et al. 2022, §2, eq. 3; Singh et al. 2024, §Segmentation, steps (2)–(3)", "U-Net ↔ Swin-UNet lesion IoU (unlabelled)",
                    r => r.Agreement, Is(CrossTeaching, Cnn, f), Is(Supervised, Cnn, f));
            foreach (var f in Settings.AblationFractions)
                foreach (var network in new[] { Swin, Cnn })
                    yield return new($"{NetworkName(network)}: λ = 1 (S4MI's summed losses) vs SSL4MIS's 0.1·ramp at {f:P0} labels",
                        "Singh et al. 2024, §Segmentation, step (4); SSL4MIS train_cross_teaching_between_cnn_transformer_2D.py", "lesion IoU (test)", Iou,
                        Is(CrossTeaching, network, f), Is(CrossTeachingRamp, network, f));
            yield return new($"PiCIE (no labels) < supervised U-Net with {lowest:P0}: the lower bound",
                "Singh et al. 2024, §Segmentation (\"sets the lower bound\"), Fig. 5", "lesion IoU (test)", Iou,
                Is(Picie, Cnn, 0), Is(Supervised, Cnn, lowest), ClaimDirection.Lower);
        }
    }

    /// <summary>How a network of the rows reads in claims and figures.</summary>
    public static string NetworkName(string network) => network == Swin ? "Swin-UNet" : "U-Net";
}

/// <summary>The sizes of one profile: data, networks, training length and batches.</summary>
public sealed record S4miSegmentationSettings
{
    /// <summary>Images per seed (70 % training, 10 % validation, 20 % test, the paper's split).</summary>
    public int Images { get; init; } = 200;
    public int ImageSize { get; init; } = 32;
    /// <summary>How hard the lesions are to see (<see cref="LesionAppearance.Subtle"/>: faint, fading borders and hairs).</summary>
    public LesionAppearance Appearance { get; init; } = LesionAppearance.Subtle;
    public IReadOnlyList<double> Fractions { get; init; } = [0.1, 0.3, 0.5, 0.7, 1.0];
    /// <summary>Fractions at which cross-teaching runs (λ = 1). At 100 % it has no unlabelled image (15 + 1 labelled, the
    /// one's label unused): nearly the supervised run, and no claim compares it, so the workshop profile leaves it out.</summary>
    public IReadOnlyList<double> CrossTeachingFractions { get; init; } = [0.1, 0.3, 0.5, 0.7, 1.0];
    /// <summary>Fractions at which cross-teaching also runs with SSL4MIS's 0.1·ramp (the λ ablation).</summary>
    public IReadOnlyList<double> AblationFractions { get; init; } = [0.1, 0.3, 0.5, 0.7, 1.0];
    public int Seeds { get; init; } = 5;
    /// <summary>Every run's networks, batches and length (<see cref="SegmentationTrainingOptions"/>'s defaults: Singh et al.'s
    /// batches, 600 steps, U-Net widths 8/16/32, Swin-UNet width 16; PiCIE 10 rounds of 30 steps); each run sets its method,
    /// fraction and seed.</summary>
    public SegmentationTrainingOptions Training { get; init; } = new() { Picie = new PicieOptions { Rounds = 10, StepsPerRound = 30 } };
    /// <summary>Training steps of every supervised and cross-teaching run (T of the poly decay and of the ablation's ramp).</summary>
    public int Steps => Training.Steps;

    /// <summary>One seed's images, split 70/10/20 (the paper's split).</summary>
    public SegmentationDataset Data(int seed) => SyntheticSkinLesions.Make(Images, seed, ImageSize, Appearance);

    /// <summary>Quick: the code path (2 seeds, 2 fractions, short runs); workshop: 5 fresh seeds, 10/50/100 % (cross-teaching
    /// at 10 and 50 %), the ablation at 10 %, sized to ≤ 10 minutes on 2 cores; full: the paper's 5 fractions × 5 seeds,
    /// cross-teaching and the ablation at every fraction.</summary>
    public static S4miSegmentationSettings For(RunProfile profile) => profile.Pick(
        quick: new S4miSegmentationSettings { Fractions = [0.1, 1.0], CrossTeachingFractions = [0.1], AblationFractions = [0.1], Seeds = 2,
            Training = new() { Steps = 60, Picie = new PicieOptions { Rounds = 2, StepsPerRound = 15 } } },
        workshop: new S4miSegmentationSettings { Fractions = [0.1, 0.5, 1.0], CrossTeachingFractions = [0.1, 0.5], AblationFractions = [0.1], Seeds = 5,
            Training = new() { Steps = 200, Picie = new PicieOptions { Rounds = 5, StepsPerRound = 20 } } },
        full: new S4miSegmentationSettings());
}

/// <summary>The notebook's entry point: the protocol run on the shared runner.</summary>
public static class S4miSegmentation
{
    /// <summary>Runs the protocol; <paramref name="exampleSeed"/> (one of the plan's seeds) is the run whose masks are drawn.</summary>
    public static S4miSegmentationStudy RunStudy(RunProfile profile, int exampleSeed = SeedPlan.FirstFresh, S4miSegmentationSettings? settings = null)
    {
        settings ??= S4miSegmentationSettings.For(profile);
        var protocol = new S4miSegmentationProtocol(settings) { ExampleSeed = SeedPlan.Evaluation(settings.Seeds).RequireExample(exampleSeed) };
        return new S4miSegmentationStudy(protocol, ProtocolRunner.Run(protocol));
    }
}

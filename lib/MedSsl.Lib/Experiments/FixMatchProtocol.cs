using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Methods;
using MedSsl.Models;
using MedSsl.Training;

namespace MedSsl.Experiments;

/// <summary>The sizes of one profile of the study.</summary>
public sealed record FixMatchStudySettings
{
    public required int Images { get; init; }
    /// <summary>Image side and backbone widths: the deep-clustering backbone's (<see cref="PicaSettings.For"/>), so its
    /// weights fit.</summary>
    public required int ImageSize { get; init; }
    public required long[] Widths { get; init; }
    public required int Steps { get; init; }
    public required SeedPlan Seeds { get; init; }
    /// <summary>Fractions of the labelled split; the claims are judged at the smallest.</summary>
    public required double[] LabelFractions { get; init; }
    /// <summary>Labelled exams per step; μ times as many unlabelled exams (Dadoun et al. 2022, §3.2: 16 unlabelled exams).</summary>
    public required int LabelledExamsPerBatch { get; init; }
    public required int Mu { get; init; }
    /// <summary>libtorch threads while the study runs (0: libtorch's default). On networks this small a second thread
    /// spends more CPU time waiting than it saves.</summary>
    public int Threads { get; init; } = 1;
    /// <summary>The weak view: a shift of up to ⅛ of the side, without FixMatch's horizontal flip — the renderer puts the
    /// liver on the left and the spleen on the right, and a flip would turn one organ's cue into the other's.</summary>
    public IAugmentation Weak { get; init; } = new WeakAugment { FlipProbability = 0 };
    /// <summary>The strong view: RandAugment(2, 10) (flip-free operations) without Cutout. FixMatch's Cutout square is half
    /// the side: on a 16×16 frame that is 8×8, and even a quarter-side square covers a whole gallbladder or the pancreas
    /// band (1–2 px here), so the weak view's pseudo-label would describe an organ the strong view no longer shows.</summary>
    public IAugmentation Strong { get; init; } = new RandAugment { CutoutFraction = 0 };

    /// <summary>Quick (CI smoke): 900 images, 2 seeds, 10 % and 100 % of the labelled split, 100 steps, μ = 2. Workshop:
    /// the same data and fractions, 5 seeds, 800 steps — sized from the quick profile's measured ≈ 0.3 ms of CPU per
    /// image and step to ≈ 450 CPU-seconds of training (a 1000-step run had used 612 CPU-seconds unfinished when the
    /// loaded machine's one-hour cell limit stopped it). Full: the paper's
    /// shape — 4000 images, 5000 steps (§3.2), 5 seeds, 10/20/50/100 %, μ = 7. Image size and widths are the
    /// deep-clustering backbone's.</summary>
    public static FixMatchStudySettings For(RunProfile profile)
    {
        var backbone = PicaSettings.For(profile);
        var quick = new FixMatchStudySettings
        {
            Images = 900, ImageSize = backbone.ImageSize, Widths = backbone.Widths, Steps = 100, Seeds = SeedPlan.Evaluation(2),
            LabelFractions = [0.1, 1.0], LabelledExamsPerBatch = 1, Mu = 2,
        };
        return profile.Pick(quick, workshop: quick with { Steps = 800, Seeds = SeedPlan.Evaluation(5) },
            full: quick with
            {
                Images = 4000, Steps = 5000, Seeds = SeedPlan.Evaluation(5), LabelFractions = [0.1, 0.2, 0.5, 1.0], LabelledExamsPerBatch = 2, Mu = 7, Threads = 0,
            });
    }
}

/// <summary>
/// Dadoun et al. (2022)'s semi-supervised comparison (§3.2–3.3.2, Fig. 6, Table 2) on synthetic ultrasound exams.
/// One data set is split by patient into labelled, unlabelled, validation and test images; each seed draws a labelled
/// subset (whole exams, nested over the fractions), the initial weights and the batches. For every fraction the study
/// trains One-Head and Two-Head FixMatch (§2.3.2) and the supervised baseline from the deep-clustering backbone
/// (PICA + L_SD, §2.3.3), and Two-Head and the supervised baseline from random weights; at the smallest fraction also
/// Two-Head with λ_u = 0. Batches hold whole exams, μ unlabelled exams per labelled one (§3.2). Each model's EMA copy is
/// scored on the test images with per-class thresholds that maximise F1 on the validation images (§3.2).
/// </summary>
public sealed class FixMatchProtocol(FixMatchStudySettings settings, ImageDataset data, ResNet backbone, int exampleSeed)
    : Protocol<FixMatchSetting, FixMatchRun, FixMatchRow>
{
    private const string Paper = "Dadoun et al. 2022";
    private readonly LabelCombinations combinations = LabelCombinations.Of(data.Where(DataSplit.Labelled));
    private readonly Dictionary<(int Seed, FixMatchSetting Setting), FixMatchEvaluation> evaluations = [];

    public override SeedPlan Seeds => settings.Seeds;

    public double SmallestFraction => settings.LabelFractions.Min();

    /// <summary>The test reports and mask rates of every run, for Table 2 and the figures.</summary>
    public IReadOnlyDictionary<(int Seed, FixMatchSetting Setting), FixMatchEvaluation> Evaluations => evaluations;

    public override IReadOnlyList<FixMatchSetting> Grid =>
    [
        .. from fraction in settings.LabelFractions
           from s in new (StudyModel, Initialisation)[]
           {
               (StudyModel.OneHead, Initialisation.DeepClustering), (StudyModel.TwoHead, Initialisation.DeepClustering),
               (StudyModel.Supervised, Initialisation.DeepClustering), (StudyModel.TwoHead, Initialisation.Random),
               (StudyModel.Supervised, Initialisation.Random), (StudyModel.TwoHeadLabelledOnly, Initialisation.DeepClustering),
           }
           where s.Item1 != StudyModel.TwoHeadLabelledOnly || fraction == SmallestFraction
           select new FixMatchSetting(s.Item1, s.Item2, fraction),
    ];

    /// <summary>The figures' model: Two-Head from the deep-clustering backbone at the largest fraction.</summary>
    public FixMatchSetting ExampleSetting => new(StudyModel.TwoHead, Initialisation.DeepClustering, settings.LabelFractions.Max());

    public override bool IsExample(int seed, FixMatchSetting setting) => seed == exampleSeed && setting == ExampleSetting;

    public override FixMatchRun Train(int seed, FixMatchSetting setting, Trainer trainer) =>
        FixMatchRuns.Train(data, combinations, settings, setting, setting.Init == Initialisation.DeepClustering ? backbone : null, seed, trainer);

    public override IEnumerable<FixMatchRow> Evaluate(int seed, FixMatchSetting setting, FixMatchRun run)
    {
        var (row, evaluation) = FixMatchRuns.Evaluate(data, setting, seed, run);
        evaluations[(seed, setting)] = evaluation;
        return [row];
    }

    /// <summary>§3.3.2 and Fig. 6, judged at the smallest labelled fraction, where the paper's gaps are largest; paired by
    /// seed (same labelled images, same initial draw). The λ_u = 0 ablation splits "semi-supervised ≥ supervised" into
    /// the unlabelled images' part and the combination head's labelled part; the pseudo-label claim is the mechanism the
    /// paper gives for Two-Head (§2.3.2.2: One-Head turns every class below ½ into a negative pseudo-label, and the
    /// errors propagate).</summary>
    public override IEnumerable<Claim<FixMatchRow>> Claims
    {
        get
        {
            const string f1 = "weighted F1 (test)";
            var dc = Initialisation.DeepClustering;
            var random = Initialisation.Random;
            Func<FixMatchRow, bool> At(StudyModel model, Initialisation init) => r => r.LabelFraction == SmallestFraction && r.Is(model, init);
            double F1(FixMatchRow r) => r.F1Weighted;
            return
            [
                new($"Semi-supervised (Two-Head) ≥ supervised at {SmallestFraction:P0} labelled", $"{Paper}, §3.3.2, Fig. 6 (right)", f1, F1,
                    At(StudyModel.TwoHead, dc), At(StudyModel.Supervised, dc)),
                new("Two-Head ≥ One-Head", $"{Paper}, §3.3.2, Fig. 6 (left)", f1, F1, At(StudyModel.TwoHead, dc), At(StudyModel.OneHead, dc)),
                new("Deep-clustering initialisation ≥ random (Two-Head)", $"{Paper}, §2.3.3, §3.3.2, Fig. 6 (right)", f1, F1,
                    At(StudyModel.TwoHead, dc), At(StudyModel.TwoHead, random)),
                new("Deep-clustering initialisation ≥ random (supervised)", $"{Paper}, §3.3.2, Fig. 6 (right)", f1, F1,
                    At(StudyModel.Supervised, dc), At(StudyModel.Supervised, random)),
                new("The unlabelled images help Two-Head (λ_u = 1 vs 0)", $"{Paper}, §2.3.1 (FixMatch's premise, Sohn et al. 2020)", f1, F1,
                    At(StudyModel.TwoHead, dc), At(StudyModel.TwoHeadLabelledOnly, dc)),
                new("Two-Head's labelled loss H(w, p) alone beats supervised (ablation, not a claim of the paper)", $"{Paper}, §2.3.2.2 (the loss)", f1, F1,
                    At(StudyModel.TwoHeadLabelledOnly, dc), At(StudyModel.Supervised, dc)),
                new("Two-Head gives fewer wrong pseudo-labels than One-Head", $"{Paper}, §2.3.2.2", "wrong pseudo-labels per unlabelled image",
                    r => r.WrongPseudoLabels, At(StudyModel.TwoHead, dc), At(StudyModel.OneHead, dc), ClaimDirection.Lower),
            ];
        }
    }
}

using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Training;

namespace MedSsl.Experiments;

/// <summary>How the backbone f starts (Dadoun et al. 2022, §2.3.3): random weights, or the weights learned by deep
/// clustering on the unlabelled images (§2.2). ImageNet weights, the paper's third option, cannot be had offline.</summary>
public enum Initialisation { Random, DeepClustering }

/// <summary>The models the study trains: the two FixMatch heads (§2.3.2), the Two-Head network with λ_u = 0 (trained
/// on the labelled images only: the ablation that separates its extra labelled loss H(w, p) from the unlabelled
/// images), and the supervised baseline (sigmoid head, labelled images only).</summary>
public enum StudyModel { OneHead, TwoHead, TwoHeadLabelledOnly, Supervised }

/// <summary>One point of the study's grid.</summary>
public sealed record FixMatchSetting(StudyModel Model, Initialisation Init, double LabelFraction)
{
    public override string ToString() => $"{FixMatchRuns.DisplayName(Model, Init)}, {LabelFraction:P0} labelled";
}

/// <summary>One trained model: the weighted F1 on the test images and on the validation images (per-class thresholds
/// chosen on the validation images, §3.2), the labelled images it saw, the mean fraction of unlabelled images that
/// passed τ over its last 10 % of steps (null without unlabelled loss), and its pseudo-labels at the end of training
/// on the unlabelled images (the student network, no augmentation, the head's own rule: One-Head's for the sigmoid
/// head, Two-Head's for the combination head): the fraction passing τ, and the fractions passing τ with the exact
/// true label set and with a wrong one. Classes without a positive among the validation images keep the threshold ½
/// (<c>unfitted_thresholds</c> counts them).</summary>
public sealed record FixMatchRow(
    [property: JsonPropertyName("head")] string Head,
    [property: JsonPropertyName("init")] string Init,
    [property: JsonPropertyName("label_fraction")] double LabelFraction,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("f1_weighted")] double F1Weighted,
    [property: JsonPropertyName("f1_weighted_validation")] double F1WeightedValidation,
    [property: JsonPropertyName("labelled_images")] int LabelledImages,
    [property: JsonPropertyName("final_mask_rate")] double? FinalMaskRate,
    [property: JsonPropertyName("pseudo_label_rate")] double PseudoLabelRate,
    [property: JsonPropertyName("correct_pseudo_labels")] double CorrectPseudoLabels,
    [property: JsonPropertyName("wrong_pseudo_labels")] double WrongPseudoLabels,
    [property: JsonPropertyName("unfitted_thresholds")] int UnfittedThresholds) : ISeededRow;

/// <summary>A trained model with its per-step mask rates, until the runner disposes it.</summary>
public sealed record FixMatchRun(FixMatchMultiLabel Method, double[] MaskRates, int LabelledImages) : IDisposable
{
    public void Dispose() => Method.Dispose();
}

/// <summary>What the figures need of every run after its model is gone: the test report, which classes kept the
/// default threshold, and the mask rate per step.</summary>
public sealed record FixMatchEvaluation(MultiLabelReport Test, bool[] Unfitted, double[] MaskRates);

/// <summary>The plumbing of one FixMatch run: data, labelled subsets, training, scoring.</summary>
public static class FixMatchRuns
{
    public static string HeadName(StudyModel model) =>
        model switch { StudyModel.OneHead => "one", StudyModel.TwoHead => "two", StudyModel.TwoHeadLabelledOnly => "two_labelled_only", _ => "supervised" };

    public static string InitName(Initialisation init) => init == Initialisation.Random ? "random" : "deep_clustering";

    /// <summary>How figures name a model: "Two-Head, deep clustering", "supervised, random", …</summary>
    public static string DisplayName(StudyModel model, Initialisation init) =>
        model switch { StudyModel.OneHead => "One-Head", StudyModel.TwoHead => "Two-Head", StudyModel.TwoHeadLabelledOnly => "Two-Head λ_u = 0", _ => "supervised" }
        + (init == Initialisation.Random ? ", random" : ", deep clustering");

    public static bool Is(this FixMatchRow row, StudyModel model, Initialisation init) => row.Head == HeadName(model) && row.Init == InitName(init);

    /// <summary>The study's data: one synthetic set (the seeds vary the labelled subset, the weights and the batches, as in
    /// the paper, where the data is fixed), its patients split 20 % labelled, 50 % unlabelled, 10 % validation, 20 % test.</summary>
    public static ImageDataset MakeData(FixMatchStudySettings settings) =>
        SyntheticUltrasound.Make(settings.Images, seed: 0, settings.ImageSize, splitFractions: [0.2, 0.5, 0.1, 0.2]);

    /// <summary>The labelled images of a fraction for a seed: whole exams of the labelled split in a seeded order until the
    /// fraction of its images is reached (at least one exam), so the subsets of one seed are nested (10 % ⊂ 20 % ⊂ …).</summary>
    public static int[] LabelledSubset(ImageDataset labelled, double fraction, int seed)
    {
        if (fraction is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the labelled fraction must be in (0, 1]");
        var exams = Enumerable.Range(0, labelled.Count).GroupBy(labelled.ExamId).Select(g => g.ToArray()).ToArray();
        var chosen = new List<int>();
        foreach (var e in SeededRandom.Permutation(exams.Length, seed, RandomStreams.Data))
        {
            if (chosen.Count > 0 && chosen.Count >= fraction * labelled.Count - 1e-9) break;
            chosen.AddRange(exams[e]);
        }
        chosen.Sort();
        return [.. chosen];
    }

    /// <summary>Trains one model through the library's FixMatch entry point (<see cref="FixMatchTraining"/>).
    /// <paramref name="backbone"/> gives the initial weights of deep-clustering runs; random weights are drawn from
    /// <paramref name="seed"/> (the same backbone draw and heads for every model of a seed).</summary>
    public static FixMatchRun Train(ImageDataset data, LabelCombinations combinations, FixMatchStudySettings settings,
        FixMatchSetting setting, ResNet? backbone, int seed, Trainer trainer)
    {
        if (setting.Init == Initialisation.DeepClustering && backbone is null)
            throw new ArgumentException("deep-clustering initialisation needs the pre-trained backbone", nameof(backbone));
        var labelledSplit = data.Where(DataSplit.Labelled);
        var subset = labelledSplit.Subset(LabelledSubset(labelledSplit, setting.LabelFraction, seed));
        var options = new FixMatchTrainingOptions
        {
            Head = setting.Model is StudyModel.TwoHead or StudyModel.TwoHeadLabelledOnly ? FixMatchHead.Two : FixMatchHead.One,
            Method = new FixMatchOptions { UnlabelledWeight = setting.Model == StudyModel.TwoHeadLabelledOnly ? 0 : 1 },
            SupervisedOnly = setting.Model == StudyModel.Supervised, Steps = settings.Steps, LabelledPerBatch = settings.LabelledExamsPerBatch,
            Mu = settings.Mu, Widths = settings.Widths, Weak = settings.Weak, Strong = settings.Strong, Seed = seed, Threads = 0,
            InitialBackbone = setting.Init == Initialisation.DeepClustering ? backbone : null,
        };
        var (method, maskRates) = FixMatchTraining.Train(subset, data.Where(DataSplit.Unlabelled), options, trainer, setting.ToString(), combinations);
        return new FixMatchRun(method, maskRates, subset.Count);
    }

    /// <summary>Scores a trained model (Dadoun et al. 2022, §3.2): the EMA model's probabilities on the validation images
    /// choose each class's threshold (maximum F1), which then binarises the test probabilities; the validation F1 at
    /// those thresholds is what settings are selected on. Adds the end-of-training pseudo-labels.</summary>
    public static (FixMatchRow Row, FixMatchEvaluation Evaluation) Evaluate(ImageDataset data, FixMatchSetting setting, int seed, FixMatchRun run)
    {
        var validation = data.Where(DataSplit.Validation);
        var test = data.Where(DataSplit.Test);
        var validationScores = run.Method.Probabilities(validation);
        var thresholds = new F1Thresholds().Fit(validation.LabelMatrix(), validationScores);
        var onValidation = MultiLabelReport.Compute(validation.LabelMatrix(), thresholds.Predict(validationScores));
        var report = MultiLabelReport.Compute(test.LabelMatrix(), thresholds.Predict(run.Method.Probabilities(test)));
        var (rate, correct, wrong) = run.Method.PseudoLabelOutcomes(data.Where(DataSplit.Unlabelled));
        var row = new FixMatchRow(HeadName(setting.Model), InitName(setting.Init), setting.LabelFraction, seed, report.WeightedF1,
            onValidation.WeightedF1, run.LabelledImages, FinalMaskRate(run.MaskRates), rate, correct, wrong, thresholds.Unfitted.Count(u => u));
        return (row, new FixMatchEvaluation(report, thresholds.Unfitted, run.MaskRates));
    }

    /// <summary>The mean fraction of unlabelled images passing τ over the last 10 % of steps (at least the last step);
    /// null without unlabelled loss (no rates).</summary>
    public static double? FinalMaskRate(IReadOnlyList<double> maskRates) =>
        maskRates.Count == 0 ? null : maskRates.Skip(maskRates.Count - Math.Max(1, maskRates.Count / 10)).Average();
}

using System.Diagnostics;
using MedSsl.Data;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
using MedSsl.Training;

namespace MedSsl.Experiments;

/// <summary>One trained model on one test source ("in": A, "cross": B). Classification measures (accuracy, ROC AUC of
/// P(pneumonia), F1 per class) are NaN without a classifier, segmentation measures (per test image at threshold ½, then
/// averaged; the average Hausdorff distance in pixels, an empty mask counting the image diagonal) NaN without a decoder.
/// Mechanisms: <see cref="SaliencyOnLungs"/> (<see cref="Saliency.MeanConcentrationOnMask"/>), the saliency map's (eq. 3) mass per lung pixel over its mass per image
/// pixel (1: spread evenly; the bridge hands the decoder lungs where it is above 1); <see cref="PseudoLabelRate"/> and
/// <see cref="PseudoLabelAccuracy"/>, the share of the unlabelled training images whose pseudo-label passes t and how
/// many of those are right (eq. 1's targets; the same in both rows of a run); <see cref="MaskKl"/>, eq. 2's KL between
/// the mean predicted masks of the labelled training images and of this source's test images. <see cref="CpuSeconds"/>:
/// the process's CPU time while the model trained.</summary>
public sealed record MultiMixRow(string Model, int LabelledMasks, int LabelledLabels, string Domain, int Seed,
    double Accuracy, double Auc, double F1Normal, double F1Pneumonia, double Dice, double Jaccard, double AverageHausdorff, double Precision, double Recall,
    double SaliencyOnLungs, double PseudoLabelRate, double PseudoLabelAccuracy, double MaskKl, double CpuSeconds) : ISeededRow;

/// <summary>One trained model with the data of its seed, as the model saw them (<see cref="MultiMixRuns.AsSeen"/>), and
/// its training's CPU seconds.</summary>
public sealed record MultiMixRun(TrainedMultiMix Trained, ChestXrayData Data, SegmentationDataset Classification, SegmentationDataset Segmentation, double CpuSeconds) : IDisposable
{
    public MultiMix Method => Trained.Method;

    public void Dispose() => Trained.Dispose();
}

/// <summary>The plumbing of <see cref="MultiMixProtocol"/>: the labelled subsets, training one model, its measures.</summary>
public static class MultiMixRuns
{
    public static readonly IReadOnlyList<string> Domains = ["in", "cross"];

    private static readonly string[] Names = ["U-Net", "Enc", "Enc-SSL", "UMTL", "UMTL-S", "UMTL-SSL", "MultiMix"];

    /// <summary>The paper's name of a model.</summary>
    public static string Name(MultiMixModel model) => Names[(int)model];

    public static ChestXraySet TestSet(ChestXrayData data, string domain) => domain == "in" ? data.TestInDomain
        : domain == "cross" ? data.TestCrossDomain : throw new ArgumentException($"domain is \"in\" or \"cross\", not \"{domain}\"", nameof(domain));

    /// <summary>Which classification images have their class and which segmentation images their mask: for a seed, a
    /// class-balanced draw of <paramref name="labels"/> and a uniform draw of <paramref name="masks"/>; smaller counts are
    /// subsets of larger ones, so label counts compare like with like.</summary>
    public static (int[] Labelled, int[] Masked) Labelled(ChestXrayData data, int masks, int labels, int seed)
    {
        var byClass = Enumerable.Range(0, 2).Select(c =>
        {
            var members = Enumerable.Range(0, data.Classification.Count).Where(i => data.Classification.Classes[i] == c).ToArray();
            new SeededRandom(seed, RandomStreams.ClassMembers + (ulong)c).Shuffle(members);
            return members;
        }).ToArray();
        var labelled = byClass[0].Take(labels / 2).Concat(byClass[1].Take(labels - labels / 2)).Order().ToArray();
        var masked = SeededRandom.Permutation(data.Segmentation.Count, seed, RandomStreams.LabelledMasks).Take(masks).Order().ToArray();
        if (labelled.Length != labels || masked.Length != masks)
            throw new ArgumentException($"cannot label {labels} classification images and {masks} masks of {data.Classification.Count} and {data.Segmentation.Count}");
        return (labelled, masked);
    }

    /// <summary>The seed's training sets as a user's data: the classification images in the labelled split where their
    /// class is seen, the segmentation images where their mask is, the rest unlabelled.</summary>
    public static (SegmentationDataset Classification, SegmentationDataset Segmentation) AsSeen(ChestXrayData data, MultiMixSetting setting, int seed)
    {
        var (labelled, masked) = Labelled(data, setting.Masks, setting.Labels, seed);
        static Func<int, DataSplit> In(int[] seen) => i => Array.BinarySearch(seen, i) >= 0 ? DataSplit.Labelled : DataSplit.Unlabelled;
        return (data.Classification.ToDataset(In(labelled)), data.Segmentation.ToDataset(In(masked)));
    }

    /// <summary>Trains one model (initial weights from <paramref name="seed"/>) for the settings' steps through
    /// <see cref="MultiMixTraining"/>, the API a user's images go through.</summary>
    public static MultiMixRun Train(MultiMixSetting setting, ChestXrayData data, int seed, MultiMixSettings settings, Trainer trainer)
    {
        var (classification, segmentation) = AsSeen(data, setting, seed);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var trained = MultiMixTraining.Train(classification.Images, segmentation, new MultiMixTrainingOptions
        {
            Model = setting.Model, Steps = settings.Steps, Widths = settings.Widths, Method = settings.Options, Seed = seed,
        }, trainer);
        return new MultiMixRun(trained, data, classification, segmentation, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
    }

    /// <summary>The trained model's rows, one per test source.</summary>
    public static IEnumerable<MultiMixRow> Evaluate(MultiMixSetting setting, int seed, MultiMixRun run)
    {
        var trained = run.Trained;
        var (rate, pseudoAccuracy) = trained.Classifies ? trained.PseudoLabelOutcomes(run.Classification.Images) : (double.NaN, double.NaN);
        foreach (var domain in Domains)
        {
            var test = TestSet(run.Data, domain).ToDataset(_ => DataSplit.Test);
            var report = trained.Report(test.Images, test, domain);
            var (c, m) = (report.Classification, report.Segmentation);
            yield return new MultiMixRow(Name(setting.Model), setting.Masks, setting.Labels, domain, seed, c?.Accuracy ?? double.NaN, report.Auc,
                c?.Classes[0].F1 ?? double.NaN, c?.Classes[1].F1 ?? double.NaN, m?.Dice ?? double.NaN, m?.Jaccard ?? double.NaN,
                m?.AverageHausdorff ?? double.NaN, m?.Precision ?? double.NaN, m?.Recall ?? double.NaN, report.SaliencyOnMask, rate, pseudoAccuracy, report.MaskKl, run.CpuSeconds);
        }
    }
}

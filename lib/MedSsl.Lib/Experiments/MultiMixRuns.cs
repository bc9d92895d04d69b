using System.Diagnostics;
using MedSsl.Data;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

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

/// <summary>One trained model with the data of its seed, the indices it saw labelled and its training's CPU seconds.</summary>
public sealed record MultiMixRun(MultiMix Method, ChestXrayData Data, int[] Labelled, int[] Masked, double CpuSeconds) : IDisposable
{
    public void Dispose() => Method.Dispose();
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

    /// <summary>Trains one model (initial weights from <paramref name="seed"/>) for the settings' steps.</summary>
    public static MultiMixRun Train(MultiMixSetting setting, ChestXrayData data, int seed, MultiMixSettings settings, Trainer trainer)
    {
        var options = settings.Options.For(setting.Model) with { Seed = seed };
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        torch.manual_seed(seed);   // libtorch draws the initial weights
        var method = new MultiMix(new MultiMixNet(options.Network(settings.Widths)), options);
        var (labelled, masked) = Labelled(data, setting.Masks, setting.Labels, seed);
        trainer.Run(method, method.Batches(data.Classification, labelled, data.Segmentation, masked), setting.ToString(), settings.Steps);
        return new MultiMixRun(method, data, labelled, masked, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
    }

    /// <summary>The trained model's rows, one per test source.</summary>
    public static IEnumerable<MultiMixRow> Evaluate(MultiMixSetting setting, int seed, MultiMixRun run)
    {
        var (method, data) = (run.Method, run.Data);
        var (rate, pseudoAccuracy) = method.Options.Classification
            ? method.PseudoLabelOutcomes(data.Classification, LabelledPicker.Rest(data.Classification.Count, run.Labelled)) : (double.NaN, double.NaN);
        foreach (var domain in Domains)
        {
            using var scope = torch.NewDisposeScope();
            var set = TestSet(data, domain);
            var images = set.Images();
            double accuracy = double.NaN, auc = double.NaN, f1Normal = double.NaN, f1Pneumonia = double.NaN, onLungs = double.NaN, kl = double.NaN;
            if (method.Options.Classification)
            {
                var p = method.Predict(images);
                var truth = set.Classes.ToArray();
                var predicted = p.argmax(1).data<long>().Select(v => (int)v).ToArray();
                accuracy = Classification.Accuracy(truth, predicted);
                auc = Ranking.RocAuc([.. truth.Select(c => c == 1)], [.. p[.., 1].data<float>().Select(v => (double)v)]);
                var f1 = Classification.F1PerClass(truth, predicted, 2);
                (f1Normal, f1Pneumonia) = (f1[0], f1[1]);
                onLungs = Saliency.MeanConcentrationOnMask(method.Saliency(images), set.Masks());
            }
            var seg = (Dice: double.NaN, Jaccard: double.NaN, Hausdorff: double.NaN, Precision: double.NaN, Recall: double.NaN);
            if (method.Options.Segmentation)
            {
                var masks = method.PredictMasks(images);
                seg = SegmentationScores(masks, set);
                kl = MultiMix.SegmentationKl(Logit(method.PredictMasks(data.Segmentation.Images(run.Masked))), Logit(masks)).ToDouble();
            }
            yield return new MultiMixRow(Name(setting.Model), setting.Masks, setting.Labels, domain, seed, accuracy, auc, f1Normal, f1Pneumonia,
                seg.Dice, seg.Jaccard, seg.Hausdorff, seg.Precision, seg.Recall, onLungs, rate, pseudoAccuracy, kl, run.CpuSeconds);
        }
    }

    private static Tensor Logit(Tensor probabilities) => torch.logit(probabilities, 1e-6);

    private static (double Dice, double Jaccard, double Hausdorff, double Precision, double Recall) SegmentationScores(Tensor probabilities, ChestXraySet set)
    {
        var values = probabilities.data<float>().ToArray();
        var size = set.Size;
        var scores = Enumerable.Range(0, set.Count).Select(i =>
        {
            var predicted = new bool[size, size];
            for (var y = 0; y < size; y++)
                for (var x = 0; x < size; x++) predicted[y, x] = values[(i * size + y) * size + x] >= 0.5f;
            var reference = set.Mask(i);
            var empty = !predicted.Cast<bool>().Any();
            return (Segmentation.Dice(predicted, reference), Segmentation.Iou(predicted, reference),
                empty ? Math.Sqrt(2) * size : Segmentation.AverageHausdorff(predicted, reference),
                Segmentation.Precision(predicted, reference), Segmentation.Recall(predicted, reference));
        }).ToList();
        return (scores.Average(s => s.Item1), scores.Average(s => s.Item2), scores.Average(s => s.Item3), scores.Average(s => s.Item4), scores.Average(s => s.Item5));
    }
}

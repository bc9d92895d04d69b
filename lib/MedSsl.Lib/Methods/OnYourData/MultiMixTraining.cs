using MedSsl.Data;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods.OnYourData;

/// <summary>Everything one MultiMix training needs besides the images. The defaults are notebook 07's quick and workshop
/// setting: Haque et al. 2021's losses and weights (<see cref="MultiMixOptions"/>: t = 0.7, λ = 0.25, α = 5, β = 0.01), on
/// a backbone of widths 8-16-32-64 for 120 steps of 16 images per stream at a constant Adam 1e-3 — the paper's 1e-4 and
/// decay need its 100 epochs (docs/methods/multimix.md).</summary>
public sealed record MultiMixTrainingOptions
{
    /// <summary>Which model of §3.2: MultiMix, or a baseline or ablation (U-Net, Enc, Enc-SSL, UMTL, UMTL-S, UMTL-SSL).</summary>
    public MultiMixModel Model { get; init; } = MultiMixModel.MultiMix;
    public int Steps { get; init; } = 120;
    /// <summary>Channels of the encoder's blocks (<see cref="MultiMixNetOptions.Widths"/>); image sides must be divisible
    /// by 2^(blocks − 1).</summary>
    public IReadOnlyList<int> Widths { get; init; } = [8, 16, 32, 64];
    /// <summary>Losses, weights, optimiser and batches; the model's switches and <see cref="Seed"/> are set on it. Null:
    /// <see cref="MultiMixOptions"/>' defaults with Adam at 1e-3, no decay within <see cref="Steps"/> and 16 images per stream.</summary>
    public MultiMixOptions? Method { get; init; }
    /// <summary>Draws the initial weights (<c>torch.manual_seed</c>), the batches and the augmentations.</summary>
    public int Seed { get; init; }

    /// <summary>The method's settings for this model and seed.</summary>
    public MultiMixOptions MethodOptions =>
        (Method ?? new MultiMixOptions { LearningRate = 1e-3, DecayEvery = Steps, BatchSize = 16 }).For(Model) with { Seed = Seed };
}

/// <summary>Binary masks scored image by image, then averaged: Dice, Jaccard (IoU), the average Hausdorff distance in
/// pixels (an empty prediction or reference against a non-empty one counts the image diagonal), precision and recall —
/// Haque et al. 2021's segmentation measures (Tables 2–3), with <see cref="Segmentation"/>'s conventions for empty masks.</summary>
public sealed record BinaryMaskReport(string Split, int Images, double Dice, double Jaccard, double AverageHausdorff, double Precision, double Recall)
{
    public static BinaryMaskReport Compute(string split, IReadOnlyList<bool[,]> predicted, IReadOnlyList<bool[,]> reference)
    {
        if (predicted.Count != reference.Count) throw new ArgumentException($"{predicted.Count} predicted masks for {reference.Count} reference masks");
        if (predicted.Count == 0) throw new ArgumentException($"no annotated image in the {split} split to score");
        var pairs = predicted.Zip(reference).ToList();
        double Mean(Func<bool[,], bool[,], double> score) => pairs.Average(p => score(p.First, p.Second));
        return new(split, pairs.Count, Mean(Segmentation.Dice), Mean(Segmentation.Iou), Mean(Hausdorff), Mean(Segmentation.Precision), Mean(Segmentation.Recall));
    }

    /// <summary>The average Hausdorff distance, which needs a pixel in both masks: the image diagonal when one is empty, 0 when both are.</summary>
    private static double Hausdorff(bool[,] predicted, bool[,] reference) => (predicted.Cast<bool>().Any(v => v), reference.Cast<bool>().Any(v => v)) switch
    {
        (true, true) => Segmentation.AverageHausdorff(predicted, reference),
        (false, false) => 0,
        _ => Math.Sqrt(predicted.GetLength(0) * predicted.GetLength(0) + predicted.GetLength(1) * predicted.GetLength(1)),
    };

    public override string ToString() => $"{Split}: {Images} masks, Dice {Dice:F3}, Jaccard {Jaccard:F3}, average Hausdorff {AverageHausdorff:F2} px";
}

/// <summary>How a MultiMix model does on one split. <see cref="Classification"/> (accuracy, per-class precision, recall and
/// F1) and <see cref="Auc"/> (two classes: ROC AUC of the second class's probability) on the classification images;
/// <see cref="Segmentation"/> on the segmentation images with masks. The mechanisms: <see cref="SaliencyOnMask"/>, how
/// much the saliency map (eq. 3, what the bridge hands the decoder) concentrates on the mask (1: spread evenly,
/// <see cref="Saliency.MeanConcentrationOnMask"/>), and <see cref="MaskKl"/>, eq. 2's KL between the mean predicted mask
/// of the labelled training images and of these. What the model does not predict, or the split does not hold (no
/// classification image, no annotated image, one class only for the AUC), is null or NaN.</summary>
public sealed record MultiMixReport(string Split, ClassifierReport? Classification, double Auc, BinaryMaskReport? Segmentation, double SaliencyOnMask, double MaskKl)
{
    public override string ToString() => string.Join("; ", new object?[] { Classification, Segmentation }.Where(r => r is not null));
}

/// <summary>A trained MultiMix model on a user's images (<see cref="MultiMixTraining.Train"/>): class probabilities, lung
/// (organ) masks, saliency maps, reports per split and the training history.</summary>
public sealed class TrainedMultiMix : IDisposable
{
    private const int PredictionBatch = 256;
    private readonly SegmentationDataset segmentation;

    internal TrainedMultiMix(MultiMix method, ImageDataset classification, SegmentationDataset segmentation, int[] labelledImages, int[] labelledMasks,
        IReadOnlyList<StepRecord> history)
    {
        (Method, ClassNames, this.segmentation, LabelledImages, LabelledMasks, History) =
            (method, classification.LabelNames, segmentation, labelledImages, labelledMasks, history);
    }

    public MultiMix Method { get; }
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>Indices of the classification images whose classes trained it, and of the segmentation images whose masks did.</summary>
    public IReadOnlyList<int> LabelledImages { get; }
    public IReadOnlyList<int> LabelledMasks { get; }
    /// <summary>The loss terms of every step (cls_sup, cls_unsup, seg_dice, seg_kl, total, mask_rate).</summary>
    public IReadOnlyList<StepRecord> History { get; }
    public bool Classifies => Method.Options.Classification;
    public bool Segments => Method.Options.Segmentation;

    /// <summary>Class probabilities [N, C] of images [N, C_in, H, W], in eval mode.</summary>
    public Tensor Probabilities(Tensor images) => Method.Predict(images);

    /// <summary>Mask probabilities [N, 1, H, W] (through the saliency bridge when the model has one), in eval mode.</summary>
    public Tensor PredictMasks(Tensor images) => Method.PredictMasks(images);

    /// <summary>Saliency maps [N, 1, H, W] of the predicted class (eq. 3).</summary>
    public Tensor Saliency(Tensor images) => Method.Saliency(images);

    /// <summary>Eq. 1's pseudo-labels on the unlabelled images of <paramref name="classification"/>: the share whose
    /// confidence reaches t, and how many of those are right (their labels are read for this only; NaN when one lacks a
    /// single label).</summary>
    public (double Rate, double Accuracy) PseudoLabelOutcomes(ImageDataset classification) =>
        Method.PseudoLabelOutcomes(classification, classification.IndicesOf(DataSplit.Unlabelled));

    /// <summary>Scores the images of one split (e.g. Test): the classification images of <paramref name="classification"/>
    /// and the annotated segmentation images of <paramref name="segmentation"/>.</summary>
    public MultiMixReport Report(ImageDataset classification, SegmentationDataset segmentation, DataSplit split) =>
        Report(classification.Where(split), segmentation.Subset([.. segmentation.IndicesOf(split).Where(segmentation.IsAnnotated)]), split.ToString().ToLowerInvariant());

    /// <summary>Scores every image of <paramref name="classification"/> and every (annotated) image of <paramref name="segmentation"/>.</summary>
    public MultiMixReport Report(ImageDataset classification, SegmentationDataset segmentation, string name)
    {
        using var scope = torch.NewDisposeScope();
        ClassifierReport? classes = null;
        double auc = double.NaN, onMask = double.NaN, kl = double.NaN;
        var all = Enumerable.Range(0, segmentation.Count).ToArray();
        var (images, masks) = (segmentation.ImageBatch(all), segmentation.MaskBatch(all).unsqueeze(1).to(ScalarType.Float32));
        if (Classifies && classification.Count > 0)
        {
            var p = Batched(classification.Batch(Enumerable.Range(0, classification.Count).ToArray()).Images, Probabilities);
            var predicted = p.argmax(1).data<long>().ToArray();
            var truth = classification.LabelMatrix();
            var hard = new bool[predicted.Length, ClassNames.Count];
            for (var i = 0; i < predicted.Length; i++) hard[i, predicted[i]] = true;
            classes = ClassifierReport.Compute(name, truth, hard, ClassNames);
            var positive = Enumerable.Range(0, predicted.Length).Select(i => truth[i, 1]).ToArray();
            if (ClassNames.Count == 2 && positive.Distinct().Count() == 2)   // a ROC curve needs both classes
                auc = Ranking.RocAuc(positive, [.. p[.., 1].data<float>().Select(v => (double)v)]);
            if (segmentation.Count > 0) onMask = Methods.Saliency.MeanConcentrationOnMask(Batched(images, Saliency), masks);
        }
        BinaryMaskReport? overlap = null;
        if (Segments && segmentation.Count > 0)
        {
            var probabilities = Batched(images, PredictMasks);
            overlap = BinaryMaskReport.Compute(name, Planes(probabilities.ge(0.5)), Planes(masks.ge(0.5)));
            var labelled = Batched(this.segmentation.ImageBatch(LabelledMasks), PredictMasks);
            kl = MultiMix.SegmentationKl(torch.logit(labelled, 1e-6), torch.logit(probabilities, 1e-6)).ToDouble();
        }
        return new MultiMixReport(name, classes, auc, overlap, onMask, kl);
    }

    /// <summary>The loss term <paramref name="term"/> per step, averaged over windows of <paramref name="window"/> steps.</summary>
    public (double[] Steps, double[] Values) Curve(string term = "total", int window = 10) => LossCurve.Windowed(History, term, window);

    /// <summary><paramref name="predict"/> over <paramref name="images"/> in batches, concatenated.</summary>
    private static Tensor Batched(Tensor images, Func<Tensor, Tensor> predict) =>
        images.size(0) <= PredictionBatch ? predict(images) : torch.cat([.. images.split(PredictionBatch).Select(predict)]);

    private static bool[][,] Planes(Tensor masks)
    {
        var (n, h, w) = ((int)masks.size(0), (int)masks.size(2), (int)masks.size(3));
        var values = masks.data<bool>().ToArray();
        return [.. Enumerable.Range(0, n).Select(i =>
        {
            var plane = new bool[h, w];
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++) plane[y, x] = values[(i * h + y) * w + x];
            return plane;
        })];
    }

    public void Dispose() => Method.Dispose();
}

/// <summary>MultiMix (Haque et al. 2021) on a user's images in one call: <paramref name="classification"/> single-label
/// images (the <see cref="DataSplit.Labelled"/> ones with their classes, the <see cref="DataSplit.Unlabelled"/> ones for
/// eq. 1's pseudo-labels) and <paramref name="segmentation"/> images with binary masks (background and one structure, the
/// paper's lungs: the labelled split's masks train eq. 2's Dice term, the unlabelled split's images its KL term). The
/// two may be the same images (<c>data.Images</c> and <c>data</c> of one folder with labels and a mask column) or two
/// sources, as the paper's pneumonia labels and lung masks are.</summary>
public static class MultiMixTraining
{
    /// <summary>Trains <see cref="MultiMixTrainingOptions.Model"/>. Progress and cancellation come from
    /// <paramref name="trainer"/> (default: a progress line in the notebook).</summary>
    public static TrainedMultiMix Train(ImageDataset classification, SegmentationDataset segmentation, MultiMixTrainingOptions? options = null, Trainer? trainer = null)
    {
        options ??= new MultiMixTrainingOptions();
        var method = options.MethodOptions;
        Check(classification, segmentation, options, method);
        var (labelled, unlabelled) = (classification.IndicesOf(DataSplit.Labelled), classification.IndicesOf(DataSplit.Unlabelled));
        var (masked, unmasked) = (segmentation.IndicesOf(DataSplit.Labelled), segmentation.IndicesOf(DataSplit.Unlabelled));
        torch.manual_seed(options.Seed);   // libtorch draws the initial weights
        var network = new MultiMixNet(method.Network(options.Widths) with { InputChannels = classification.Channels, Classes = classification.LabelNames.Count });
        var multiMix = new MultiMix(network, method);
        try
        {
            using var lease = new TrainerLease(trainer);
            lease.Trainer.Run(multiMix, multiMix.Batches(classification, labelled, unlabelled, segmentation, masked, unmasked), options.Model.ToString(), options.Steps);
            return new TrainedMultiMix(multiMix, classification, segmentation, labelled, masked, lease.Steps());
        }
        catch
        {
            multiMix.Dispose();
            throw;
        }
    }

    /// <summary>What the network and the losses take, checked before anything trains.</summary>
    private static void Check(ImageDataset classification, SegmentationDataset segmentation, MultiMixTrainingOptions options, MultiMixOptions method)
    {
        if (options.Steps < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Steps, "MultiMix trains at least one step");
        if (classification.LabelNames.Count < 2)
            throw new ArgumentException($"classification needs at least two classes; the data have {classification.LabelNames.Count}", nameof(classification));
        if (segmentation.Classes != 2)
            throw new ArgumentException($"MultiMix segments one structure against the background: the masks have {segmentation.Classes} classes " +
                $"({string.Join(", ", segmentation.ClassNames)}); merge them into two", nameof(segmentation));
        var (c, h, w) = (classification.Channels, classification.Height, classification.Width);
        if (segmentation.Images.Channels != c || segmentation.Height != h || segmentation.Width != w)
            throw new ArgumentException($"the classification images are {c}×{h}×{w}, the segmentation images {segmentation.Images.Channels}×{segmentation.Height}×{segmentation.Width}: " +
                "one network takes both, so they need one size", nameof(segmentation));
        var factor = 1 << (options.Widths.Count - 1);
        if (h % factor != 0 || w % factor != 0)
            throw new ArgumentException($"the images are {h}×{w}: an encoder of {options.Widths.Count} blocks takes sides divisible by {factor}", nameof(classification));
        // A labelled image without exactly one label is named when the batches start.
        if (method.Classification && classification.IndicesOf(DataSplit.Labelled).Length == 0)
            throw new ArgumentException($"{options.Model} classifies: the classification data need images in the labelled split (none)", nameof(classification));
        if (method.Segmentation && segmentation.IndicesOf(DataSplit.Labelled).Length == 0)
            throw new ArgumentException($"{options.Model} segments: the segmentation data need masked images in the labelled split (none)", nameof(segmentation));
    }
}

using MedSsl.Data;
using MedSsl.Training;
using Microsoft.Data.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods.OnYourData;

/// <summary>One class's overlap on a split: the mean over its images of the per-image Dice and IoU of that class
/// (<see cref="Metrics.Segmentation"/>; an image where the class is neither true nor predicted scores 1), and how many
/// of the images hold the class.</summary>
public sealed record ClassOverlap(string Name, double Dice, double Iou, int ImagesWithClass);

/// <summary>How a segmenter does on the annotated images of one split: per class (background first) the mean per-image
/// Dice and IoU, and their means over the foreground classes (<see cref="MeanDice"/>, <see cref="MeanIou"/>; for two
/// classes the lesion's, the measure of Singh et al. 2024, Fig. 5).</summary>
public sealed record SegmentationReport(string Split, int Images, IReadOnlyList<ClassOverlap> Classes)
{
    /// <summary>Scores predicted label maps against reference ones, image by image, each [H·W].</summary>
    public static SegmentationReport Compute(string split, IReadOnlyList<byte[]> predicted, IReadOnlyList<byte[]> reference, IReadOnlyList<string> classNames)
    {
        if (predicted.Count != reference.Count) throw new ArgumentException($"{predicted.Count} predicted label maps for {reference.Count} reference maps");
        if (predicted.Count == 0) throw new ArgumentException($"no annotated image in the {split} split to score");
        return new(split, predicted.Count, [.. classNames.Select((name, k) => new ClassOverlap(name,
            predicted.Zip(reference).Average(p => Metrics.Segmentation.Dice(p.First, p.Second, (byte)k)),
            predicted.Zip(reference).Average(p => Metrics.Segmentation.Iou(p.First, p.Second, (byte)k)),
            reference.Count(r => r.Contains((byte)k))))]);
    }

    public double MeanDice => Classes.Skip(1).Average(c => c.Dice);
    public double MeanIou => Classes.Skip(1).Average(c => c.Iou);

    /// <summary>The per-class table (one row per class, then the foreground mean).</summary>
    public DataFrame Table => new(
        new StringDataFrameColumn("class", [.. Classes.Select(c => c.Name), "foreground mean"]),
        new DoubleDataFrameColumn("dice", [.. Classes.Select(c => c.Dice), MeanDice]),
        new DoubleDataFrameColumn("iou", [.. Classes.Select(c => c.Iou), MeanIou]),
        new Int32DataFrameColumn("images_with_class", [.. Classes.Select(c => c.ImagesWithClass), Images]));

    /// <summary>What <see cref="Images"/> counts: images, or volumes for a 3-D report.</summary>
    public string Items { get; init; } = "images";

    public override string ToString() => $"{Split}: {Images} {Items}, mean foreground Dice {MeanDice:F3}, IoU {MeanIou:F3}";
}

/// <summary>A trained segmenter on a user's images (<see cref="SegmentationTraining.Train"/>): class probabilities and
/// hard label maps from each network it trained (cross-teaching trains both the U-Net and the Swin-UNet; by default the
/// U-Net answers, the network SSL4MIS tests; Singh et al. report the Swin-UNet), reports per split, and the training
/// history. PiCIE's probabilities are one-hot: the class each pixel's cluster was matched to.</summary>
public sealed class TrainedSegmenter : IDisposable
{
    private const int PredictionBatch = 64;
    private readonly IReadOnlyDictionary<SegmentationNetwork, Func<Tensor, Tensor>> networks;
    private readonly IDisposable[] owned;

    internal TrainedSegmenter(SegmentationMethod method, IReadOnlyList<string> classNames, Dictionary<SegmentationNetwork, Func<Tensor, Tensor>> networks,
        SegmentationNetwork network, int[] labelled, int[] unlabelled, IReadOnlyList<StepRecord> history, params IDisposable[] owned)
    {
        Method = method;
        ClassNames = classNames;
        this.networks = networks;
        Network = network;
        LabelledImages = labelled;
        UnlabelledImages = unlabelled;
        History = history;
        this.owned = owned;
    }

    public SegmentationMethod Method { get; }
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>The networks this method trained.</summary>
    public IReadOnlyList<SegmentationNetwork> Networks => [.. networks.Keys];
    /// <summary>The network that answers when none is named.</summary>
    public SegmentationNetwork Network { get; }
    /// <summary>Indices (into the training data) of the images whose masks trained it, and of the training images used
    /// without their masks (PiCIE: every training image).</summary>
    public IReadOnlyList<int> LabelledImages { get; }
    public IReadOnlyList<int> UnlabelledImages { get; }
    /// <summary>PiCIE: the class each cluster stands for (matched on the validation masks); null for the other methods.</summary>
    public IReadOnlyList<int>? ClusterClasses { get; init; }
    /// <summary>The loss terms of every step.</summary>
    public IReadOnlyList<StepRecord> History { get; }

    /// <summary>Class probabilities [N, K, H, W] of images [N, C, H, W], in eval mode without gradients.</summary>
    public Tensor Probabilities(Tensor images, SegmentationNetwork? network = null)
    {
        var name = network ?? Network;
        return networks.TryGetValue(name, out var predict) ? predict(images)
            : throw new ArgumentException($"{Method} trained no {name} (it trained {string.Join(", ", networks.Keys)})", nameof(network));
    }

    /// <summary>Hard label maps [N, H, W] (int64): each pixel's most probable class.</summary>
    public Tensor Predict(Tensor images, SegmentationNetwork? network = null)
    {
        using var scope = torch.NewDisposeScope();
        return Probabilities(images, network).argmax(1).MoveToOuterDisposeScope();
    }

    /// <summary>Hard label maps of some images of <paramref name="data"/>, each [H·W] row-major as
    /// <see cref="SegmentationDataset.Mask"/>, predicted in batches.</summary>
    public byte[][] Predict(SegmentationDataset data, IReadOnlyList<int> indices, SegmentationNetwork? network = null)
    {
        var maps = new List<byte[]>(indices.Count);
        for (var start = 0; start < indices.Count; start += PredictionBatch)
        {
            using var scope = torch.NewDisposeScope();
            var batch = indices.Skip(start).Take(PredictionBatch).ToArray();
            var labels = Predict(data.ImageBatch(batch), network).to(ScalarType.Byte).data<byte>().ToArray();
            var plane = data.Height * data.Width;
            for (var k = 0; k < batch.Length; k++) maps.Add(labels[(k * plane)..((k + 1) * plane)]);
        }
        return [.. maps];
    }

    /// <summary>Scores the annotated images of one split of <paramref name="data"/> (e.g. Test).</summary>
    public SegmentationReport Report(SegmentationDataset data, DataSplit split, SegmentationNetwork? network = null)
    {
        if (data.Classes != ClassNames.Count)
            throw new ArgumentException($"the data have {data.Classes} classes, the segmenter was trained on {ClassNames.Count}", nameof(data));
        var images = data.IndicesOf(split).Where(data.IsAnnotated).ToArray();
        return SegmentationReport.Compute(split.ToString().ToLowerInvariant(), Predict(data, images, network),
            [.. images.Select(i => data.Mask(i).ToArray())], ClassNames);
    }

    public void Dispose()
    {
        foreach (var o in owned) o.Dispose();
    }
}

using MedSsl.Data;
using MedSsl.Methods.OnYourData;
using MedSsl.Training;
using static TorchSharp.torch;

namespace MedSsl.Experiments;

/// <summary>What one arm of <see cref="S4miSegmentationProtocol"/> trained through <see cref="SegmentationTraining"/> (the
/// API a user's data takes): one segmenter (cross-teaching's U-Net and Swin-UNet, or PiCIE's U-Net) or two (the supervised
/// U-Net and Swin-UNet, trained apart).</summary>
public sealed class SegmentationRun(params TrainedSegmenter[] segmenters) : IDisposable
{
    /// <summary>Every trained network, U-Net first, under its rows' name (<see cref="S4miSegmentationProtocol.Cnn"/>: the
    /// U-Net, <see cref="S4miSegmentationProtocol.Swin"/>: the Swin-UNet), with the segmenter that predicts for it.</summary>
    public IReadOnlyList<(string Name, TrainedSegmenter Segmenter, SegmentationNetwork Network)> Networks { get; } =
        [.. from s in segmenters from n in s.Networks select (n == SegmentationNetwork.UNet ? S4miSegmentationProtocol.Cnn : S4miSegmentationProtocol.Swin, s, n)];

    /// <summary>The supervised U-Net and Swin-UNet, each trained apart on the same labelled batches.</summary>
    public static SegmentationRun TrainedApart(SegmentationDataset data, SegmentationTrainingOptions options, Trainer trainer)
    {
        var cnn = SegmentationTraining.Train(data, options with { Method = SegmentationMethod.SupervisedUNet }, trainer);
        try { return new(cnn, SegmentationTraining.Train(data, options with { Method = SegmentationMethod.SupervisedSwinUNet }, trainer)); }
        catch
        {
            cnn.Dispose();
            throw;
        }
    }

    /// <summary>The mechanism cross-teaching acts on: the per-image IoU between the U-Net's and the Swin-UNet's lesion masks
    /// on the unlabelled training images, averaged; NaN where the run has no unlabelled image or one network.</summary>
    public double Agreement(SegmentationDataset data)
    {
        var unlabelled = Networks[0].Segmenter.UnlabelledImages;
        if (Networks.Count < 2 || unlabelled.Count == 0) return double.NaN;
        using var scope = NewDisposeScope();
        var images = data.ImageBatch(unlabelled);
        Tensor Masks(int k) => Networks[k].Segmenter.Predict(images, Networks[k].Network);
        return Metrics.Segmentation.PerImage(Masks(0), Masks(1)).Average(p => p.Iou);
    }

    public void Dispose()
    {
        foreach (var s in segmenters) s.Dispose();
    }
}

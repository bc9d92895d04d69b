using MedSsl.Data;
using MedSsl.Data.Synthetic;
using MedSsl.Methods.OnYourData;
using MedSsl.Training;
using static TorchSharp.torch;

namespace MedSsl.Experiments;

/// <summary>One seed's images: the set, and its validation and test splits as tensors with their masks.</summary>
public sealed record S4miSegmentationData(SegmentationDataset Set, Tensor ValidationImages, Tensor ValidationMasks, Tensor TestImages, Tensor TestMasks) : IDisposable
{
    public static S4miSegmentationData Make(S4miSegmentationSettings settings, int seed)
    {
        var set = SyntheticSkinLesions.Make(settings.Images, seed, settings.ImageSize, settings.Appearance);
        var (validation, test) = (set.IndicesOf(DataSplit.Validation), set.IndicesOf(DataSplit.Test));
        return new(set, set.ImageBatch(validation).DetachFromDisposeScope(), set.MaskBatch(validation).DetachFromDisposeScope(),
            set.ImageBatch(test).DetachFromDisposeScope(), set.MaskBatch(test).DetachFromDisposeScope());
    }

    public void Dispose()
    {
        foreach (var t in new[] { ValidationImages, ValidationMasks, TestImages, TestMasks }) t.Dispose();
    }
}

/// <summary>What one run leaves: each trained network's class probabilities by name (cnn, swin), and what to dispose.</summary>
public sealed class SegmentationRun(IReadOnlyDictionary<string, Func<Tensor, Tensor>> networks, double[] unlabelledAgreement, params IDisposable[] owned) : IDisposable
{
    public IReadOnlyDictionary<string, Func<Tensor, Tensor>> Networks { get; } = networks;
    /// <summary>Per-image IoU of the U-Net's and the Swin-UNet's lesion masks on the unlabelled training images (empty where none).</summary>
    public double[] UnlabelledAgreement { get; } = unlabelledAgreement;

    public void Dispose()
    {
        foreach (var o in owned) o.Dispose();
    }
}

/// <summary>How each arm of the protocol trains (through <see cref="SegmentationTraining"/>, the API a user's data takes)
/// and is measured.</summary>
public static class SegmentationRuns
{
    /// <summary>The U-Net and the Swin-UNet, each trained apart on batches of the labelled images (the same batches for both).</summary>
    public static SegmentationRun Supervised(S4miSegmentationSettings settings, S4miSegmentationData data, int seed, double fraction, Trainer trainer)
    {
        var options = settings.Training with { Seed = seed, LabelledFraction = fraction };
        var cnn = SegmentationTraining.Train(data.Set, options with { Method = SegmentationMethod.SupervisedUNet }, trainer);
        try
        {
            var swin = SegmentationTraining.Train(data.Set, options with { Method = SegmentationMethod.SupervisedSwinUNet }, trainer);
            return new(new Dictionary<string, Func<Tensor, Tensor>> { [S4miSegmentationProtocol.Cnn] = x => cnn.Probabilities(x), [S4miSegmentationProtocol.Swin] = x => swin.Probabilities(x) },
                Agreement(x => cnn.Probabilities(x), x => swin.Probabilities(x), data, cnn.UnlabelledImages), cnn, swin);
        }
        catch
        {
            cnn.Dispose();
            throw;
        }
    }

    /// <summary>Cross-teaching with λ = 1, or SSL4MIS's 0.1·ramp with <paramref name="rampUp"/>.</summary>
    public static SegmentationRun CrossTeaching(S4miSegmentationSettings settings, S4miSegmentationData data, int seed, double fraction, Trainer trainer, bool rampUp)
    {
        var options = settings.Training with { Seed = seed, LabelledFraction = fraction, Method = SegmentationMethod.CrossTeaching };
        if (rampUp) options = options with { CrossTeaching = options.CrossTeaching with { MaxConsistencyWeight = 0.1, RampUp = true } };
        var method = SegmentationTraining.Train(data.Set, options, trainer);
        Tensor Cnn(Tensor x) => method.Probabilities(x, SegmentationNetwork.UNet);
        Tensor Swin(Tensor x) => method.Probabilities(x, SegmentationNetwork.SwinUNet);
        return new(new Dictionary<string, Func<Tensor, Tensor>> { [S4miSegmentationProtocol.Cnn] = Cnn, [S4miSegmentationProtocol.Swin] = Swin },
            Agreement(Cnn, Swin, data, method.UnlabelledImages), method);
    }

    /// <summary>PiCIE on the training images without labels, its clusters matched to lesion/skin on the validation images.</summary>
    public static SegmentationRun Picie(S4miSegmentationSettings settings, S4miSegmentationData data, int seed, Trainer trainer)
    {
        var picie = SegmentationTraining.Train(data.Set, settings.Training with { Seed = seed, Method = SegmentationMethod.Picie }, trainer);
        return new(new Dictionary<string, Func<Tensor, Tensor>> { [S4miSegmentationProtocol.Cnn] = x => picie.Probabilities(x) }, [], picie);
    }

    /// <summary>One row per trained network.</summary>
    public static IEnumerable<SegmentationRow> Evaluate(S4miSegmentationData data, int seed, SegmentationSetting setting, SegmentationRun run)
    {
        var agreement = run.UnlabelledAgreement.Length == 0 ? double.NaN : run.UnlabelledAgreement.Average();
        foreach (var (network, predict) in run.Networks)
        {
            var test = PerImage(predict, data.TestImages, data.TestMasks);
            var validation = PerImage(predict, data.ValidationImages, data.ValidationMasks);
            yield return new SegmentationRow(seed, setting.Method, network, setting.LabelFraction, test.Average(p => p.Iou), test.Average(p => p.Dice),
                validation.Average(p => p.Iou), agreement);
        }
    }

    /// <summary>Hard lesion masks [N, H, W] of a network's argmax prediction.</summary>
    public static Tensor Hard(Func<Tensor, Tensor> predict, Tensor images)
    {
        using var scope = NewDisposeScope();
        return predict(images).argmax(1).MoveToOuterDisposeScope();
    }

    /// <summary>Per-image IoU between two networks' lesion masks on the unlabelled training images.</summary>
    private static double[] Agreement(Func<Tensor, Tensor> a, Func<Tensor, Tensor> b, S4miSegmentationData data, IReadOnlyList<int> unlabelled)
    {
        if (unlabelled.Count == 0) return [];
        using var scope = NewDisposeScope();
        var images = data.Set.ImageBatch(unlabelled);
        return [.. PerImage(a, images, Hard(b, images)).Select(p => p.Iou)];
    }

    /// <summary>Per-image lesion IoU and Dice of a network's argmax prediction against masks (class 1 = lesion).</summary>
    private static (double Iou, double Dice)[] PerImage(Func<Tensor, Tensor> predict, Tensor images, Tensor masks)
    {
        using var predicted = Hard(predict, images);
        return Metrics.Segmentation.PerImage(predicted, masks);
    }
}

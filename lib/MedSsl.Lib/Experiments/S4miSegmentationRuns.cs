using System.Globalization;
using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Experiments;

/// <summary>One seed's images as tensors: the training, validation and test splits with their masks.</summary>
public sealed record S4miSegmentationData(LesionDataset Set, int[] Training, Tensor TrainImages, Tensor ValidationImages,
    Tensor ValidationMasks, Tensor TestImages, Tensor TestMasks) : IDisposable
{
    public static S4miSegmentationData Make(S4miSegmentationSettings settings, int seed)
    {
        var set = SyntheticSkinLesions.Make(settings.Images, seed, settings.ImageSize, settings.Appearance);
        var training = set.Images.IndicesOf(DataSplit.Labelled);
        var validation = set.Images.IndicesOf(DataSplit.Validation);
        var test = set.Images.IndicesOf(DataSplit.Test);
        return new(set, training, ImagesOf(set, training), ImagesOf(set, validation), set.MaskBatch(validation).DetachFromDisposeScope(),
            ImagesOf(set, test), set.MaskBatch(test).DetachFromDisposeScope());
    }

    /// <summary>The images [N, 3, H, W] of some indices, outside any dispose scope.</summary>
    public static Tensor ImagesOf(LesionDataset set, IReadOnlyList<int> indices)
    {
        using var scope = torch.NewDisposeScope();
        return set.Images.Batch(indices).Images.DetachFromDisposeScope();
    }

    /// <summary>The labelled training images of a fraction: the first ⌈f·n⌉ of a seeded order of the training split, so a
    /// larger fraction contains the smaller ones.</summary>
    public static int[] LabelledIndices(int[] training, double fraction, int seed)
    {
        if (fraction is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "a labelled fraction lies in (0, 1]");
        var order = SeededRandom.Permutation(training.Length, seed, RandomStreams.LabelledOrder);
        return [.. order.Take((int)Math.Ceiling(fraction * training.Length - 1e-9)).Select(k => training[k])];
    }

    public void Dispose()
    {
        foreach (var t in new[] { TrainImages, ValidationImages, ValidationMasks, TestImages, TestMasks }) t.Dispose();
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

/// <summary>How each arm of the protocol trains and is measured.</summary>
public static class SegmentationRuns
{
    public static UNet NewUNet(S4miSegmentationSettings settings, int seed)
    {
        torch.manual_seed(seed);   // libtorch draws the initial weights
        return new UNet(3, 2, settings.UNetWidths);
    }

    public static SwinUNet NewSwinUNet(S4miSegmentationSettings settings, int seed)
    {
        torch.manual_seed(seed + 1_000);
        return new SwinUNet(3, 2, settings.ImageSize, embedDim: settings.SwinWidth, heads: settings.SwinHeads);
    }

    /// <summary>The U-Net and the Swin-UNet, each trained apart on batches of <see cref="S4miSegmentationSettings.SupervisedBatch"/>
    /// labelled images (the same batches for both).</summary>
    public static SegmentationRun Supervised(S4miSegmentationSettings settings, S4miSegmentationData data, int seed, double fraction, Trainer trainer)
    {
        var options = new CrossTeachingOptions { TotalSteps = settings.Steps };
        var (labelled, unlabelled) = Split(data, fraction, seed);
        var cnn = new SupervisedSegmentation(NewUNet(settings, seed), options);
        var swin = new SupervisedSegmentation(NewSwinUNet(settings, seed), options);
        return Guarded([cnn, swin], () =>
        {
            trainer.Run(cnn, Batches(data, labelled, [], settings.SupervisedBatch, 0, seed), "U-Net", settings.Steps);
            trainer.Run(swin, Batches(data, labelled, [], settings.SupervisedBatch, 0, seed), "Swin-UNet", settings.Steps);
            return new(new Dictionary<string, Func<Tensor, Tensor>> { [S4miSegmentationProtocol.Cnn] = cnn.Predict, [S4miSegmentationProtocol.Swin] = swin.Predict },
                Agreement(cnn.Predict, swin.Predict, data, unlabelled), cnn, swin);
        });
    }

    /// <summary>The run <paramref name="train"/> returns, or <paramref name="owned"/> disposed when it fails.</summary>
    private static SegmentationRun Guarded(IDisposable[] owned, Func<SegmentationRun> train)
    {
        try { return train(); }
        catch
        {
            foreach (var o in owned) o.Dispose();
            throw;
        }
    }

    /// <summary>Cross-teaching: 8 labelled + 8 unlabelled images per step, 15 + 1 at 100 % (the one "unlabelled" image
    /// drawn from the training images, its label unused); λ = 1, or SSL4MIS's 0.1·ramp with <paramref name="rampUp"/>.</summary>
    public static SegmentationRun CrossTeaching(S4miSegmentationSettings settings, S4miSegmentationData data, int seed, double fraction, Trainer trainer, bool rampUp)
    {
        var options = rampUp ? new CrossTeachingOptions { TotalSteps = settings.Steps, MaxConsistencyWeight = 0.1, RampUp = true }
            : new CrossTeachingOptions { TotalSteps = settings.Steps };
        var (labelled, unlabelled) = Split(data, fraction, seed);
        var (labelledBatch, unlabelledBatch) = unlabelled.Length == 0
            ? (settings.LabelledBatch + settings.UnlabelledBatch - 1, 1)
            : (settings.LabelledBatch, settings.UnlabelledBatch);
        var method = new Methods.CrossTeaching(NewUNet(settings, seed), NewSwinUNet(settings, seed), options);
        return Guarded([method], () =>
        {
            trainer.Run(method, Batches(data, labelled, unlabelled.Length == 0 ? data.Training : unlabelled, labelledBatch, unlabelledBatch, seed), "U-Net ↔ Swin-UNet", settings.Steps);
            return new(new Dictionary<string, Func<Tensor, Tensor>> { [S4miSegmentationProtocol.Cnn] = method.Predict, [S4miSegmentationProtocol.Swin] = method.PredictTransformer },
                Agreement(method.Predict, method.PredictTransformer, data, unlabelled), method);
        });
    }

    /// <summary>PiCIE on the training images without labels; its clusters matched to lesion/skin on the validation images
    /// (Hungarian matching, as PiCIE evaluates).</summary>
    public static SegmentationRun Picie(S4miSegmentationSettings settings, S4miSegmentationData data, int seed, Trainer trainer)
    {
        var picie = new Methods.Picie(NewUNet(settings, seed), settings.Picie with { Seed = seed });
        return Guarded([picie], () =>
        {
            picie.Fit(data.TrainImages, trainer);
            int[] map;
            using (var clusters = picie.Predict(data.ValidationImages).argmax(1))
                map = Methods.Picie.MatchClusters(clusters, data.ValidationMasks, settings.Picie.Clusters, 2);
            var match = torch.tensor(map.Select(m => (long)m).ToArray()).DetachFromDisposeScope();
            Tensor Matched(Tensor images)
            {
                using var scope = torch.NewDisposeScope();
                using var c = picie.Predict(images).argmax(1);
                return nn.functional.one_hot(match[c], 2).permute(0, 3, 1, 2).to(ScalarType.Float32).MoveToOuterDisposeScope();
            }
            return new(new Dictionary<string, Func<Tensor, Tensor>> { [S4miSegmentationProtocol.Cnn] = Matched }, [], picie, match);
        });
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
        using var scope = torch.NewDisposeScope();
        return predict(images).argmax(1).MoveToOuterDisposeScope();
    }

    private static (int[] Labelled, int[] Unlabelled) Split(S4miSegmentationData data, double fraction, int seed)
    {
        var labelled = S4miSegmentationData.LabelledIndices(data.Training, fraction, seed);
        return (labelled, [.. data.Training.Except(labelled)]);
    }

    private static IEnumerable<SegmentationBatch> Batches(S4miSegmentationData data, int[] labelled, int[] pool, int labelledBatch, int unlabelledBatch, int seed)
    {
        // Made now, outside the trainer's per-step scopes; they live as long as the run's batches.
        var x = S4miSegmentationData.ImagesOf(data.Set, labelled);
        var y = data.Set.MaskBatch(labelled).DetachFromDisposeScope();
        var u = pool.Length > 0 ? S4miSegmentationData.ImagesOf(data.Set, pool) : torch.empty(0, x.size(1), x.size(2), x.size(3)).DetachFromDisposeScope();
        return Drawn(x, y, u, labelledBatch, unlabelledBatch, new SeededRandom(seed, RandomStreams.SegmentationBatches).TorchGenerator());
    }

    private static IEnumerable<SegmentationBatch> Drawn(Tensor x, Tensor y, Tensor u, int labelledBatch, int unlabelledBatch, Generator generator)
    {
        try
        {
            foreach (var batch in Training.Batches.Segmentation(x, y, u, labelledBatch, unlabelledBatch, generator, new RandomDihedral())) yield return batch;
        }
        finally
        {
            foreach (var t in new[] { x, y, u }) t.Dispose();
            generator.Dispose();
        }
    }

    /// <summary>Per-image IoU between two networks' lesion masks on the unlabelled training images.</summary>
    private static double[] Agreement(Func<Tensor, Tensor> a, Func<Tensor, Tensor> b, S4miSegmentationData data, int[] unlabelled)
    {
        if (unlabelled.Length == 0) return [];
        using var scope = torch.NewDisposeScope();
        var images = data.Set.Images.Batch(unlabelled).Images;
        return [.. PerImage(a, images, Hard(b, images)).Select(p => p.Iou)];
    }

    /// <summary>Per-image lesion IoU and Dice of a network's argmax prediction against masks (class 1 = lesion).</summary>
    private static (double Iou, double Dice)[] PerImage(Func<Tensor, Tensor> predict, Tensor images, Tensor masks)
    {
        using var predicted = Hard(predict, images);
        return Segmentation.PerImage(predicted, masks);
    }
}

using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods.OnYourData;

/// <summary>The segmentation methods of Singh et al. 2024 (S4MI, §Segmentation, Fig. 5).</summary>
public enum SegmentationMethod
{
    /// <summary>The U-Net alone on the labelled images: the "Full" baseline (½(Dice + CE), eq. (1)).</summary>
    SupervisedUNet,
    /// <summary>The Swin-UNet alone on the labelled images, with the same loss, optimiser and batches.</summary>
    SupervisedSwinUNet,
    /// <summary>U-Net ↔ Swin-UNet cross-teaching (Luo et al. 2022), the unannotated images as unlabelled: the "Semi" model.</summary>
    CrossTeaching,
    /// <summary>PiCIE (Cho et al. 2021) on every training image without its mask; clusters matched to classes on the
    /// validation images.</summary>
    Picie,
}

/// <summary>The two networks the methods train.</summary>
public enum SegmentationNetwork
{
    UNet,
    SwinUNet,
}

/// <summary>Everything one segmentation training needs besides the images. The defaults are Singh et al. 2024's
/// (§Segmentation: a batch of 16 for the supervised baseline, 8 labelled + 8 unlabelled images per cross-teaching step,
/// λ = 1) with SSL4MIS's optimiser (SGD 0.01, momentum 0.9, weight decay 1e-4, poly decay; <see cref="CrossTeachingOptions"/>)
/// and random rotations/flips, on networks and a step count sized for CPU minutes on 32×32 images (notebook 06's).</summary>
public sealed record SegmentationTrainingOptions
{
    public SegmentationMethod Method { get; init; } = SegmentationMethod.CrossTeaching;
    /// <summary>The share of the <see cref="DataSplit.Labelled"/> images whose masks are used: the first ⌈f·n⌉ of a seeded
    /// order of that split (so a larger fraction holds the smaller ones); the rest join the unlabelled images, their masks
    /// unread. Null: every labelled-split image keeps its mask (the manifest's split as it stands).</summary>
    public double? LabelledFraction { get; init; }
    /// <summary>Training steps of the supervised and cross-teaching runs (T of the poly decay and of λ's ramp; SSL4MIS
    /// trains 30 000 on a GPU). PiCIE's length is its <see cref="PicieOptions.Rounds"/> × <see cref="PicieOptions.StepsPerRound"/>.</summary>
    public int Steps { get; init; } = 600;
    /// <summary>The supervised baseline's labelled images per step ("a batch size of 16", §Segmentation).</summary>
    public int SupervisedBatch { get; init; } = 16;
    /// <summary>Cross-teaching's labelled and unlabelled images per step ("eight labeled images and eight unlabeled images",
    /// §Segmentation). Without unlabelled images it takes <c>LabelledBatch + UnlabelledBatch − 1</c> labelled ones and one
    /// labelled image as "unlabelled", its mask unread (the paper's "15 labeled images and one unlabeled image" at 100 %).</summary>
    public int LabelledBatch { get; init; } = 8;
    public int UnlabelledBatch { get; init; } = 8;
    /// <summary>Channel widths of the U-Net's levels (<see cref="UNet"/>).</summary>
    public IReadOnlyList<long> UNetWidths { get; init; } = [8, 16, 32];
    /// <summary>Width of the Swin-UNet's first stage and its attention heads per stage (<see cref="SwinUNet"/>).</summary>
    public long SwinWidth { get; init; } = 16;
    public IReadOnlyList<int> SwinHeads { get; init; } = [2, 4];
    /// <summary>Optimiser and λ (S4MI's λ = 1; SSL4MIS's 0.1·ramp with <c>MaxConsistencyWeight = 0.1, RampUp = true</c>);
    /// its TotalSteps and Classes are set from <see cref="Steps"/> and the data.</summary>
    public CrossTeachingOptions CrossTeaching { get; init; } = new();
    /// <summary>PiCIE's rounds, steps and optimiser; its Seed is set from <see cref="Seed"/>. Null: 10 rounds of 30 steps
    /// (PiCIE's 10 epochs) with one cluster per class of the data.</summary>
    public PicieOptions? Picie { get; init; }
    /// <summary>Applied to each training batch (images and masks alike): the eight symmetries of the square, as SSL4MIS's
    /// random rotation and flip. Null: none.</summary>
    public IAugmentation? Augment { get; init; } = new RandomDihedral();
    /// <summary>Draws the initial weights (<c>torch.manual_seed</c>: the U-Net's from the seed, the Swin-UNet's from the
    /// seed + 1000, so both methods start from the same networks), the labelled order and the batches.</summary>
    public int Seed { get; init; }
}

/// <summary>A segmentation method of S4MI on a user's masked images in one call
/// (<see cref="Data.Loaders.ImageFolder.LoadSegmentation"/> gives the data): the <see cref="DataSplit.Labelled"/> images with their masks (all, or
/// <see cref="SegmentationTrainingOptions.LabelledFraction"/> of them), the <see cref="DataSplit.Unlabelled"/> images
/// (unannotated ones among them) without, the <see cref="DataSplit.Validation"/> masks for PiCIE's cluster matching.</summary>
public static class SegmentationTraining
{
    /// <summary>Trains <see cref="SegmentationTrainingOptions.Method"/> on <paramref name="data"/>. Progress and
    /// cancellation come from <paramref name="trainer"/> (default: a progress line in the notebook).</summary>
    public static TrainedSegmenter Train(SegmentationDataset data, SegmentationTrainingOptions? options = null, Trainer? trainer = null)
    {
        options ??= new SegmentationTrainingOptions();
        CheckSize(data, options);
        var (labelled, unlabelled) = Split(data, options);
        using var lease = new TrainerLease(trainer);
        return options.Method switch
        {
            SegmentationMethod.SupervisedUNet => Supervised(data, options, lease, SegmentationNetwork.UNet, labelled, unlabelled),
            SegmentationMethod.SupervisedSwinUNet => Supervised(data, options, lease, SegmentationNetwork.SwinUNet, labelled, unlabelled),
            SegmentationMethod.CrossTeaching => CrossTeaching(data, options, lease, labelled, unlabelled),
            SegmentationMethod.Picie => Picie(data, options, lease, [.. labelled.Concat(unlabelled).Order()]),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Method, "unknown segmentation method"),
        };
    }

    /// <summary>The images whose masks train (in the seeded order when a fraction draws them) and the training images
    /// without (ascending): the labelled split's rest, then the unlabelled split, unannotated images included.</summary>
    public static (int[] Labelled, int[] Unlabelled) Split(SegmentationDataset data, SegmentationTrainingOptions options)
    {
        var training = data.IndicesOf(DataSplit.Labelled);
        if (options.Method != SegmentationMethod.Picie && training.Length == 0)
            throw new ArgumentException("segmentation needs annotated images in the labelled split (none): give the manifest a split column (labelled, unlabelled, validation, test)", nameof(data));
        var labelled = options.LabelledFraction is { } fraction ? LabelledIndices(training, fraction, options.Seed) : training;
        return (labelled, [.. training.Except(labelled).Concat(data.IndicesOf(DataSplit.Unlabelled)).Order()]);
    }

    /// <summary>The labelled images of a fraction: the first ⌈f·n⌉ of a seeded order of the training images, so a larger
    /// fraction contains the smaller ones.</summary>
    public static int[] LabelledIndices(int[] training, double fraction, int seed)
    {
        if (fraction is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "a labelled fraction lies in (0, 1]");
        var order = SeededRandom.Permutation(training.Length, seed, RandomStreams.LabelledOrder);
        return [.. order.Take((int)Math.Ceiling(fraction * training.Length - 1e-9)).Select(k => training[k])];
    }

    private static UNet NewUNet(SegmentationDataset data, SegmentationTrainingOptions options)
    {
        torch.manual_seed(options.Seed);   // libtorch draws the initial weights
        return new UNet(data.Images.Channels, data.Classes, options.UNetWidths);
    }

    private static SwinUNet NewSwinUNet(SegmentationDataset data, SegmentationTrainingOptions options)
    {
        torch.manual_seed(options.Seed + 1_000);
        return new SwinUNet(data.Images.Channels, data.Classes, data.Width, embedDim: options.SwinWidth, heads: options.SwinHeads);
    }

    private static TrainedSegmenter Supervised(SegmentationDataset data, SegmentationTrainingOptions options, TrainerLease lease, SegmentationNetwork network,
        int[] labelled, int[] unlabelled)
    {
        var method = new SupervisedSegmentation(network == SegmentationNetwork.UNet ? NewUNet(data, options) : NewSwinUNet(data, options), CrossTeachingOf(data, options));
        return Guarded(method, () =>
        {
            lease.Trainer.Run(method, Batches(data, labelled, [], options.SupervisedBatch, 0, options), network == SegmentationNetwork.UNet ? "U-Net" : "Swin-UNet", options.Steps);
            return new TrainedSegmenter(options.Method, data.ClassNames, new() { [network] = method.Predict }, network, labelled, unlabelled,
                lease.Steps(), method);
        });
    }

    private static TrainedSegmenter CrossTeaching(SegmentationDataset data, SegmentationTrainingOptions options, TrainerLease lease, int[] labelled, int[] unlabelled)
    {
        var (labelledBatch, unlabelledBatch, pool) = unlabelled.Length == 0
            ? (options.LabelledBatch + options.UnlabelledBatch - 1, 1, data.IndicesOf(DataSplit.Labelled))
            : (options.LabelledBatch, options.UnlabelledBatch, unlabelled);
        var method = new Methods.CrossTeaching(NewUNet(data, options), NewSwinUNet(data, options), CrossTeachingOf(data, options));
        return Guarded(method, () =>
        {
            lease.Trainer.Run(method, Batches(data, labelled, pool, labelledBatch, unlabelledBatch, options), "U-Net ↔ Swin-UNet", options.Steps);
            return new TrainedSegmenter(options.Method, data.ClassNames,
                new() { [SegmentationNetwork.UNet] = method.Predict, [SegmentationNetwork.SwinUNet] = method.PredictTransformer },
                SegmentationNetwork.UNet, labelled, unlabelled, lease.Steps(), method);
        });
    }

    /// <summary>PiCIE on the training images, masks unread; each cluster then stands for the class it overlaps most under a
    /// one-to-one matching on the validation images' masks (Hungarian, as PiCIE evaluates): the segmenter's probabilities are
    /// the one-hot matched classes.</summary>
    private static TrainedSegmenter Picie(SegmentationDataset data, SegmentationTrainingOptions options, TrainerLease lease, int[] training)
    {
        var validation = data.IndicesOf(DataSplit.Validation);
        if (training.Length == 0) throw new ArgumentException("PiCIE needs training images (the labelled and unlabelled splits are empty)", nameof(data));
        if (validation.Length == 0) throw new ArgumentException("PiCIE matches its clusters to classes on the validation images' masks: the validation split is empty", nameof(data));
        var settings = (options.Picie ?? new PicieOptions { Rounds = 10, StepsPerRound = 30, Clusters = data.Classes }) with { Seed = options.Seed };
        var picie = new Methods.Picie(NewUNet(data, options), settings);
        Tensor? match = null;
        try
        {
            using (var images = data.ImageBatch(training)) picie.Fit(images, lease.Trainer);
            int[] map;
            using (var scope = torch.NewDisposeScope())
                map = Methods.Picie.MatchClusters(picie.Predict(data.ImageBatch(validation)).argmax(1), data.MaskBatch(validation), settings.Clusters, data.Classes);
            match = torch.tensor(map.Select(m => (long)m).ToArray()).DetachFromDisposeScope();
            Tensor Matched(Tensor images)
            {
                using var scope = torch.NewDisposeScope();
                using var clusters = picie.Predict(images).argmax(1);
                return nn.functional.one_hot(match[clusters], data.Classes).permute(0, 3, 1, 2).to(ScalarType.Float32).MoveToOuterDisposeScope();
            }
            return new TrainedSegmenter(options.Method, data.ClassNames, new() { [SegmentationNetwork.UNet] = Matched }, SegmentationNetwork.UNet,
                [], training, lease.Steps(), picie, match) { ClusterClasses = map };
        }
        catch
        {
            picie.Dispose();
            match?.Dispose();
            throw;
        }
    }

    private static CrossTeachingOptions CrossTeachingOf(SegmentationDataset data, SegmentationTrainingOptions options) =>
        options.CrossTeaching with { TotalSteps = options.Steps, Classes = data.Classes };

    /// <summary>The segmenter <paramref name="train"/> returns, or <paramref name="method"/> disposed when it fails.</summary>
    private static TrainedSegmenter Guarded(IDisposable method, Func<TrainedSegmenter> train)
    {
        try { return train(); }
        catch
        {
            method.Dispose();
            throw;
        }
    }

    private static IEnumerable<SegmentationBatch> Batches(SegmentationDataset data, int[] labelled, int[] pool, int labelledBatch, int unlabelledBatch,
        SegmentationTrainingOptions options)
    {
        // Made now, outside the trainer's per-step scopes; they live as long as the run's batches.
        var x = data.ImageBatch(labelled).DetachFromDisposeScope();
        var y = data.MaskBatch(labelled).DetachFromDisposeScope();
        var u = (pool.Length > 0 ? data.ImageBatch(pool) : torch.empty(0, x.size(1), x.size(2), x.size(3))).DetachFromDisposeScope();
        return Drawn(x, y, u, labelledBatch, unlabelledBatch, new SeededRandom(options.Seed, RandomStreams.SegmentationBatches).TorchGenerator(), options.Augment);
    }

    private static IEnumerable<SegmentationBatch> Drawn(Tensor x, Tensor y, Tensor u, int labelledBatch, int unlabelledBatch, Generator generator, IAugmentation? augment)
    {
        try
        {
            foreach (var batch in Training.Batches.Segmentation(x, y, u, labelledBatch, unlabelledBatch, generator, augment)) yield return batch;
        }
        finally
        {
            foreach (var t in new[] { x, y, u }) t.Dispose();
            generator.Dispose();
        }
    }

    /// <summary>The image sizes the networks and the augmentation take, checked before anything trains.</summary>
    private static void CheckSize(SegmentationDataset data, SegmentationTrainingOptions options)
    {
        var (h, w) = (data.Height, data.Width);
        var unetFactor = 1 << (options.UNetWidths.Count - 1);
        var usesUNet = options.Method != SegmentationMethod.SupervisedSwinUNet;
        var usesSwin = options.Method is SegmentationMethod.SupervisedSwinUNet or SegmentationMethod.CrossTeaching;
        var square = usesSwin || options.Method == SegmentationMethod.Picie || options.Augment is RandomDihedral;
        if (square && h != w)
            throw new ArgumentException($"the images are {h}×{w}: {options.Method} takes square images (the Swin-UNet's windows and the rotations of the square); crop or pad them", nameof(data));
        if (usesUNet && (h % unetFactor != 0 || w % unetFactor != 0))
            throw new ArgumentException($"the images are {h}×{w}: a {options.UNetWidths.Count}-level U-Net takes sides divisible by {unetFactor}", nameof(data));
        if (usesSwin)
        {
            // Patches of 2 pixels, then the token grid halves per stage and each stage's grid splits into 4×4 windows
            // (or is one window when smaller).
            var grid = w / 2;
            var fits = w % 2 == 0 && grid > 0 && grid % (1 << (options.SwinHeads.Count - 1)) == 0
                && Enumerable.Range(0, options.SwinHeads.Count).All(s => (grid >> s) % Math.Min(4, grid >> s) == 0);
            if (!fits) throw new ArgumentException($"the images are {h}×{w}: the Swin-UNet takes sides whose {grid}×{grid} token grid of 2-pixel patches halves {options.SwinHeads.Count - 1} time(s) into 4×4 windows (e.g. 32 or 64)", nameof(data));
        }
    }
}

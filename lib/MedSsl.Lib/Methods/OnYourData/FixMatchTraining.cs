using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Data.Sampling;
using MedSsl.Models;
using MedSsl.Runtime;
using MedSsl.Training;
using TorchSharp;

namespace MedSsl.Methods.OnYourData;

/// <summary>Everything one FixMatch training needs besides the images. The defaults are FixMatch's (Sohn et al. 2020,
/// §4, Appendix B.1: μ = 7, τ = 0.95, λ_u = 1, SGD-Nesterov 0.03 with the cosine decay, weak flip-and-shift, strong
/// RandAugment with Cutout) on a small ResNet and a CPU-sized step count. <see cref="Head"/> null picks plain FixMatch
/// (<see cref="FixMatchHead.SingleLabel"/>) when every labelled image has exactly one label, else Two-Head.</summary>
public sealed record FixMatchTrainingOptions
{
    public FixMatchHead? Head { get; init; }
    /// <summary>τ, λ_u, the optimiser; its Steps and EMA decay are set from <see cref="Steps"/>.</summary>
    public FixMatchOptions Method { get; init; } = new();
    public int Steps { get; init; } = 500;
    /// <summary>B: labelled exams per step (one image each when every image is its own exam, as in a plain folder).</summary>
    public int LabelledPerBatch { get; init; } = 16;
    /// <summary>μ: unlabelled exams per labelled one.</summary>
    public int Mu { get; init; } = 7;
    /// <summary>Channel widths of the ResNet stages (<see cref="ResNet"/>).</summary>
    public long[] Widths { get; init; } = [16, 32];
    public IAugmentation Weak { get; init; } = new WeakAugment();
    public IAugmentation Strong { get; init; } = new RandAugment();
    /// <summary>Draws the initial weights (<c>torch.manual_seed</c>), the batches and the augmentations.</summary>
    public int Seed { get; init; }
    /// <summary>Weights the backbone starts from (e.g. PICA's, <see cref="PicaClustering"/>); null: random.</summary>
    public ResNet? InitialBackbone { get; init; }
    /// <summary>Train on the labelled images only (λ_u = 0), same optimiser, schedule and EMA: the supervised baseline.</summary>
    public bool SupervisedOnly { get; init; }
    /// <summary>libtorch threads while training (0: leave as is). Small networks waste a second thread's time waiting.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>The method's options for these settings and a dataset's labelled images.</summary>
    public FixMatchOptions Resolve(IImageDataset labelled)
    {
        var head = Head ?? (Enumerable.Range(0, labelled.Count).All(i => labelled.SingleClass(i) is not null)
            ? FixMatchHead.SingleLabel : FixMatchHead.Two);
        var options = (Method with { Head = head }).ForSteps(Steps);
        return SupervisedOnly ? options.SupervisedOnly() : options;
    }
}

/// <summary>The wiring of one FixMatch training: network, exam batch samplers, the two views, the trainer. Notebook 02's
/// study and <see cref="FixMatchClassifier"/> both train through here.</summary>
public static class FixMatchTraining
{
    /// <summary>Trains on <paramref name="labelled"/> and (unless the options train on labels only) <paramref name="unlabelled"/>.
    /// Two-Head's softmax head gets one output per combination in <paramref name="combinations"/> (default: every single
    /// class plus each label set among the labelled images, so no class goes without an output). Returns the method and
    /// the fraction of unlabelled images passing τ at each step (empty without unlabelled loss).</summary>
    public static (FixMatchMultiLabel Method, double[] MaskRates) Train(IImageDataset labelled, IImageDataset? unlabelled,
        FixMatchTrainingOptions settings, Trainer trainer, string phase, LabelCombinations? combinations = null)
    {
        if (labelled.Count == 0) throw new ArgumentException("FixMatch needs labelled images (none in the labelled split)", nameof(labelled));
        var options = settings.Resolve(labelled);
        if (options.UsesUnlabelled && (unlabelled is null || unlabelled.Count == 0))
            throw new ArgumentException("FixMatch needs unlabelled images (none in the unlabelled split); set SupervisedOnly to train on labels alone", nameof(unlabelled));
        var twoHead = options.Head == FixMatchHead.Two;
        if (twoHead) combinations ??= LabelCombinations.WithSingles(labelled);
        if (options.Head == FixMatchHead.SingleLabel) using (var labels = labelled.Batch([.. Enumerable.Range(0, labelled.Count)]).Labels) FixMatchMultiLabel.SingleLabels(labels).Dispose();
        var seed = settings.Seed;
        MultiLabelClassifier MakeNetwork()
        {
            torch.manual_seed(seed);
            var resnet = new ResNet(labelled.Channels, settings.Widths);
            if (settings.InitialBackbone is { } backbone) resnet.load_state_dict(backbone.state_dict());
            return new MultiLabelClassifier(resnet, labelled.LabelNames.Count, twoHead ? combinations!.K : 0);
        }
        using var threads = TorchRuntime.IntraOpThreads(settings.Threads);
        var method = new FixMatchMultiLabel(MakeNetwork, twoHead ? combinations : null, options);
        try
        {
            using var generator = new SeededRandom(seed, RandomStreams.SemiSupervisedSampler).TorchGenerator();
            var pool = options.UsesUnlabelled ? unlabelled : null;
            var batches = Batches.SemiSupervisedByExam(labelled, new ExamBatchSampler(ExamIds(labelled), settings.LabelledPerBatch, seed),
                pool, pool is null ? null : new ExamBatchSampler(ExamIds(pool), settings.LabelledPerBatch * settings.Mu, seed + 1),
                settings.Weak, settings.Strong, generator);
            using var lease = new TrainerLease(trainer);
            trainer.Run(method, batches, phase, settings.Steps);
            double[] maskRates = options.UsesUnlabelled ? [.. lease.Steps().Select(s => s.Losses["mask_rate"])] : [];
            return (method, maskRates);
        }
        catch
        {
            method.Dispose();
            throw;
        }
    }

    private static string[] ExamIds(IImageDataset data) => [.. Enumerable.Range(0, data.Count).Select(data.ExamId)];
}

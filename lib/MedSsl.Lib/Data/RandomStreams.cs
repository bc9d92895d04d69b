namespace MedSsl.Data;

/// <summary>The one table of random streams (the second argument of <see cref="SeededRandom"/>): each independent
/// source of randomness in a run draws from its own stream of the run's seed, so that changing how much one consumer
/// draws (more augmentation, a longer confidence training) leaves every other draw of the same seed as it was. Two runs
/// that share a seed therefore share their data split, labelled subset and initial batch order: that is what pairs them.</summary>
public static class RandomStreams
{
    /// <summary>Synthetic data, the labelled subset and other draws made once per seed.</summary>
    public const ulong Data = 0;
    /// <summary>A method's own draws (augmentations, views) inside its training step.</summary>
    public const ulong Method = 0;
    /// <summary>PICA's order of exams in its batches.</summary>
    public const ulong ExamOrder = 1;
    /// <summary>Order of training images (fine-tuning, supervised baselines).</summary>
    public const ulong BatchOrder = 1;
    /// <summary>Augmentations a protocol draws outside a method (fine-tuning views).</summary>
    public const ulong Augmentation = 2;
    /// <summary>Images held out for a t-SNE or a figure.</summary>
    public const ulong FigureSample = 3;
    /// <summary>MultiMix: shuffling each class's members before the labelled subset is taken (10 + class).</summary>
    public const ulong ClassMembers = 10;
    /// <summary>The seeded order of the training images whose first ⌈f·n⌉ are the labelled ones at fraction f (S4MI
    /// segmentation: a larger fraction contains the smaller ones).</summary>
    public const ulong LabelledOrder = 5;
    /// <summary>FixMatch's labelled/unlabelled batch sampler.</summary>
    public const ulong SemiSupervisedSampler = 11;
    /// <summary>MultiMix: the draw of the segmentation images whose masks are labelled.</summary>
    public const ulong LabelledMasks = 12;
    /// <summary>INERRANT's confidence-network training, apart from fine-tuning's batches (so MCP and learned-confidence
    /// variants fine-tune on the same batch order).</summary>
    public const ulong ConfidenceTraining = 12;
    /// <summary>PiCIE's photometric and geometric views.</summary>
    public const ulong Picie = 17;
    /// <summary>Cross-teaching's segmentation batches (20 + a per-run offset).</summary>
    public const ulong SegmentationBatches = 20;
    /// <summary>S4MI classification: the order in which training images enter the labelled subset (the first 10 % of it
    /// is the 10 % subset, shared by every arm of a seed).</summary>
    public const ulong LabelledSubset = 30;
    /// <summary>S4MI classification: the libtorch seeds of the initial weights (backbones, heads), so every arm of a seed
    /// starts from the same backbone.</summary>
    public const ulong InitialWeights = 31;
    /// <summary>Order of unlabelled images in self-supervised pre-training (DINO, CASS).</summary>
    public const ulong PretrainingBatches = 32;
}

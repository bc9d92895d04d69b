using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Data.Sampling;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedSsl.Methods;

/// <summary>The cluster-size term added to PICA's partition cross-entropy.</summary>
public enum ClusterSizeLoss
{
    /// <summary>PICA's L_NE = log K − H(Z) (Huang et al. 2020; Dadoun et al. 2022, §2.2.1, eq. 4): sizes pushed to uniform.</summary>
    NegativeEntropy,
    /// <summary>Dadoun et al. 2022's L_SD (§2.2.2, eq. 6): the negative log-likelihood of Z under a symmetric Dirichlet
    /// with α = 1 + ε, which keeps every cluster alive but lets sizes follow the data.</summary>
    SymmetricDirichlet,
}

/// <summary>Settings of PICA and PICA + L_SD (Dadoun et al. 2022, §2.2 and §3.2).</summary>
public sealed record PicaOptions
{
    /// <summary>K, the number of clusters: the number of plausible label combinations (§2.2.3).</summary>
    public required int Clusters { get; init; }
    public ClusterSizeLoss SizeLoss { get; init; } = ClusterSizeLoss.SymmetricDirichlet;
    /// <summary>λ weighting the size term (eq. 7). 2 is PICA's default (Raymond-sci/PICA configs; Dadoun et al. 2022,
    /// §3.3.1: "the default hyperparameter λ = 2 used in the original paper").</summary>
    public double Lambda { get; init; } = 2.0;
    /// <summary>ε of α = 1 + ε in L_SD (eq. 6). The paper only says "α slightly higher than 1" and gives no value;
    /// 0.1 is our choice, made before any run (docs/methods/pica-lsd.md).</summary>
    public double Epsilon { get; init; } = 0.1;
    /// <summary>Adam, fixed learning rate 1e-4 (§3.2; PICA's code uses the same).</summary>
    public double LearningRate { get; init; } = 1e-4;
    /// <summary>Whole exams per batch (§3.2: "unlabeled batch size of 16 examinations").</summary>
    public int ExamsPerBatch { get; init; } = 16;
    /// <summary>Passes over the unlabelled exams (§3.2: 100, the last epoch's weights are evaluated).</summary>
    public int Epochs { get; init; } = 100;
    /// <summary>The two augmentation schemes (˜·) and (ˆ·) of Fig. 2; PICA's code compares an image with a perturbed
    /// copy, the paper augments both. Default: a flip-and-shift view against a RandAugment view without Cutout
    /// (a masked half of a 32-pixel frame can hide the very organ that defines the cluster).</summary>
    public IAugmentation FirstView { get; init; } = new WeakAugment();
    public IAugmentation SecondView { get; init; } = new RandAugment { CutoutFraction = 0 };
    /// <summary>Seeds the exam order and the augmentation draws (initial weights: <c>torch.manual_seed</c> before building).</summary>
    public int Seed { get; init; }
}

/// <summary>A batch of the same images in two augmented views (˜·) and (ˆ·), each [B, C, H, W].</summary>
public sealed record TwoViewBatch(Tensor First, Tensor Second);

/// <summary>PICA (Huang et al. 2020) as Dadoun et al. 2022 use it (§2.2): two augmented views of every image go through
/// one backbone f and a K-way softmax head g; the partition uncertainty index between the views' cluster columns
/// (eq. 1–3) is made confident, and a cluster-size term — PICA's negative entropy (eq. 4) or the symmetric-Dirichlet
/// likelihood (eq. 6) — keeps the partition from collapsing. One head of K clusters: PICA's code also trains an
/// over-clustering head, which the paper's §2.2 does not describe and our CPU budget does not afford.</summary>
public sealed class Pica : ITrainingMethod<TwoViewBatch>, IDisposable
{
    // F.normalize's default: a zero cluster column (an empty cluster) stays zero instead of becoming NaN.
    private const double NormEpsilon = 1e-12;
    // A cluster of float32 probabilities can underflow to zero mass; log(0) would make L_NE and L_SD infinite.
    private const double MassFloor = 1e-12;
    private const int PredictChunk = 256;

    private readonly optim.Optimizer optimizer;

    /// <param name="backbone">the feature extractor f; build it (and this method) outside any dispose scope</param>
    public Pica(ResNet backbone, PicaOptions options)
    {
        if (options.Clusters < 2) throw new ArgumentOutOfRangeException(nameof(options), options.Clusters, "PICA needs K ≥ 2 clusters");
        if (options.Lambda < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Lambda, "λ must be ≥ 0");
        if (options.Epsilon <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.Epsilon, "L_SD needs α = 1 + ε with ε > 0");
        Options = options;
        Backbone = backbone;
        Head = nn.Linear(backbone.FeatureDim, options.Clusters);
        optimizer = optim.Adam(backbone.parameters().Concat(Head.parameters()), lr: options.LearningRate);
    }

    public PicaOptions Options { get; }
    public ResNet Backbone { get; }
    /// <summary>g: features → K logits (the softmax is applied in <see cref="Assignments"/>).</summary>
    public Linear Head { get; }
    public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["backbone"] = Backbone, ["head"] = Head };
    public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["adam"] = optimizer };

    // ---- the paper's equations ------------------------------------------------------------

    /// <summary>Eq. 1 (Dadoun et al. 2022, §2.2.1; Huang et al. 2020): the partition uncertainty index
    /// M(j1, j2) = cos(q̃_j1, q̂_j2) between cluster j1's column of the first view's assignments and cluster j2's
    /// column of the second view's, [K, K]. Inputs: assignment matrices [N, K] of the same images.</summary>
    public static Tensor PartitionUncertaintyIndex(Tensor first, Tensor second)
    {
        if (first.dim() != 2 || !first.shape.SequenceEqual(second.shape))
            throw new ArgumentException($"PUI needs two assignment matrices [N, K] of the same shape, got [{string.Join(", ", first.shape)}] and [{string.Join(", ", second.shape)}]");
        if (first.dtype != second.dtype || !first.is_floating_point())
            throw new ArgumentException($"PUI needs two floating-point assignment matrices of one type, got {first.dtype} and {second.dtype}");
        if (first.device_type != second.device_type || first.device_index != second.device_index)
            throw new ArgumentException($"PUI needs both assignment matrices on one device, got {first.device} and {second.device}");
        using var scope = torch.NewDisposeScope();
        var a = first / first.norm(0, keepdim: true).clamp_min(NormEpsilon);
        var b = second / second.norm(0, keepdim: true).clamp_min(NormEpsilon);
        return a.t().matmul(b).MoveToOuterDisposeScope();
    }

    /// <summary>Eq. 2: the row-wise softmax m_jj' = exp M(j, j') / Σ_k exp M(j, k), PICA's self-attention over clusters.</summary>
    public static Tensor PartitionSoftmax(Tensor pui) => pui.softmax(1);

    /// <summary>Eq. 3: L_CE = (1/K) Σ_j −log m_jj, with m from <see cref="PartitionSoftmax"/> of the PUI matrix [K, K]
    /// (PICA's <c>CrossEntropyLoss(pui, arange(K))</c>). Perfect partitions (M = I) give log(e + K − 1) − 1.</summary>
    public static Tensor PartitionCrossEntropy(Tensor pui)
    {
        using var scope = torch.NewDisposeScope();
        return (-pui.log_softmax(1).diagonal().mean()).MoveToOuterDisposeScope();
    }

    /// <summary>Z of eq. 4: the batch's cluster-size distribution z_k = Σ_i p_ik / Σ_i,k' p_ik' from assignments [N, K]
    /// (the first view's, as in PICA's code).</summary>
    public static Tensor ClusterSizes(Tensor assignments)
    {
        using var scope = torch.NewDisposeScope();
        var mass = assignments.sum(dim: 0);
        return (mass / mass.sum()).MoveToOuterDisposeScope();
    }

    /// <summary>Eq. 4: L_NE = log K − H(Z) = log K + Σ_k z_k log z_k for assignments [N, K]; 0 when the clusters are
    /// used uniformly, log K when one cluster takes everything.</summary>
    public static Tensor ClusterSizeNegativeEntropy(Tensor assignments)
    {
        using var scope = torch.NewDisposeScope();
        var z = ClusterSizes(assignments);
        return (Math.Log(z.size(0)) + (z * z.clamp_min(MassFloor).log()).sum()).MoveToOuterDisposeScope();
    }

    /// <summary>Eq. 6 (Dadoun et al. 2022, §2.2.2): L_SD = −(α − 1)/log K · Σ_k log z_k, the negative log-likelihood of
    /// Z (<see cref="ClusterSizes"/> of assignments [N, K]) under a symmetric Dirichlet (eq. 5) up to its constant
    /// log B(α), scaled by 1/log K; α = 1 + ε. Minimal (ε·K) at uniform sizes, but only a cluster's vanishing is
    /// expensive, so unbalanced sizes cost little.</summary>
    public static Tensor SymmetricDirichletLoss(Tensor assignments, double alpha)
    {
        if (alpha <= 1) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "L_SD uses α = 1 + ε > 1 (below 1 it rewards empty clusters)");
        using var scope = torch.NewDisposeScope();
        var z = ClusterSizes(assignments);
        return (-(alpha - 1) / Math.Log(z.size(0)) * z.clamp_min(MassFloor).log().sum()).MoveToOuterDisposeScope();
    }

    /// <summary>The objective L = L_CE + λ·L_size (PICA's, eq. 3–4; with L_SD, eq. 7) of two views' assignments [N, K],
    /// returned as (L_CE, L_size, L).</summary>
    public static (Tensor CrossEntropy, Tensor Size, Tensor Total) Objective(Tensor first, Tensor second, ClusterSizeLoss sizeLoss, double lambda, double epsilon)
    {
        var ce = PartitionCrossEntropy(PartitionUncertaintyIndex(first, second));
        var size = sizeLoss == ClusterSizeLoss.NegativeEntropy ? ClusterSizeNegativeEntropy(first) : SymmetricDirichletLoss(first, 1 + epsilon);
        return (ce, size, ce + lambda * size);
    }

    // ---- the method ------------------------------------------------------------------------

    /// <summary>Soft cluster assignments p = softmax(g(f(x))) [N, K], with gradients (training).</summary>
    public Tensor Assignments(Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        return Head.call(Backbone.call(images)).softmax(1).MoveToOuterDisposeScope();
    }

    /// <summary>One step on a batch of two views: returns <c>ce</c> (eq. 3), <c>size</c> (eq. 4 or 6) and <c>total</c>.</summary>
    public LossTerms TrainStep(TwoViewBatch batch)
    {
        double ce = 0, size = 0;
        var total = optimizer.Minimize(() =>
        {
            // One forward over both views keeps batch-norm statistics shared, as one network sees both in PICA's code.
            var n = batch.First.size(0);
            var p = Assignments(torch.cat([batch.First, batch.Second]));
            var (crossEntropy, sizeTerm, objective) = Objective(p[..(int)n], p[(int)n..], Options.SizeLoss, Options.Lambda, Options.Epsilon);
            ce = crossEntropy.ToDouble();
            size = sizeTerm.ToDouble();
            return objective;
        });
        return new LossTerms(("ce", ce), ("size", size), ("total", total));
    }

    /// <summary>Soft assignments [N, K] in eval mode without gradients, in chunks.</summary>
    public Tensor Predict(Tensor inputs) => InEval(x => Head.call(Backbone.call(x)).softmax(1), inputs);

    /// <summary>Backbone features f(x) [N, FeatureDim] in eval mode without gradients (for t-SNE, fine-tuning).</summary>
    public Tensor Features(Tensor inputs) => InEval(Backbone.call, inputs);

    /// <summary>The most probable cluster of each image of <paramref name="data"/>.</summary>
    public int[] PredictClusters(IImageDataset data)
    {
        using var scope = torch.NewDisposeScope();
        var (images, _) = data.Batch(Enumerable.Range(0, data.Count).ToArray());
        return [.. Predict(images).argmax(1).data<long>().ToArray().Select(c => (int)c)];
    }

    /// <summary>Trains on <paramref name="unlabelled"/>'s images (labels unused) for <see cref="PicaOptions.Epochs"/> epochs
    /// of exam batches (§3.2).</summary>
    public Pica Fit(IImageDataset unlabelled, Trainer trainer, string? phase = null)
    {
        var sampler = new ExamBatchSampler(Enumerable.Range(0, unlabelled.Count).Select(unlabelled.ExamId).ToArray(), Options.ExamsPerBatch, Options.Seed);
        var steps = Options.Epochs * ((sampler.ExamCount + Options.ExamsPerBatch - 1) / Options.ExamsPerBatch);
        trainer.Run(this, TwoViews(unlabelled, sampler, Options), phase ?? (Options.SizeLoss == ClusterSizeLoss.NegativeEntropy ? "PICA" : "PICA + L_SD"), steps);
        return this;
    }

    /// <summary><see cref="PicaOptions.Epochs"/> epochs of exam batches from <paramref name="sampler"/>, each in the two views of
    /// <paramref name="options"/>, the augmentations drawn from the options' seed.</summary>
    public static IEnumerable<TwoViewBatch> TwoViews(IImageDataset data, ExamBatchSampler sampler, PicaOptions options)
    {
        using var generator = new SeededRandom(options.Seed, stream: 1).TorchGenerator();
        for (var epoch = 0; epoch < options.Epochs; epoch++)
            foreach (var indices in sampler.Epoch(epoch))
            {
                var (images, _) = data.Batch(indices);
                yield return new TwoViewBatch(options.FirstView.Apply(images, generator), options.SecondView.Apply(images, generator));
            }
    }

    private Tensor InEval(Func<Tensor, Tensor> forward, Tensor inputs) => EvalMode.Evaluate([Backbone, Head], () =>
    {
        using var scope = torch.NewDisposeScope();
        var parts = new List<Tensor>();
        for (long start = 0; start < inputs.size(0); start += PredictChunk)
            parts.Add(forward(inputs[(int)start..(int)Math.Min(inputs.size(0), start + PredictChunk)]));
        return torch.cat(parts).MoveToOuterDisposeScope();
    });

    public void Dispose()
    {
        optimizer.Dispose();
        Head.Dispose();
        Backbone.Dispose();
    }
}

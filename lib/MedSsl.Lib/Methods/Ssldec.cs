using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace MedSsl.Methods;

/// <summary>Settings of SSLDEC's Algorithm 1 (Enguehard et al. 2019, §III-B).</summary>
public sealed record SsldecOptions
{
    /// <summary>Supervised epochs on the labelled set before the rounds (the paper: 100).</summary>
    public int PretrainEpochs { get; init; } = 100;
    /// <summary>Learning rate at the start of pre-training, decayed linearly to <see cref="FinalLearningRate"/> (paper: 1e-3 → 1e-4).</summary>
    public double LearningRate { get; init; } = 1e-3;
    public double FinalLearningRate { get; init; } = 1e-4;
    /// <summary>Learning rate of the semi-supervised rounds.</summary>
    public double RoundLearningRate { get; init; } = 1e-3;
    /// <summary>Maximum rounds of (predict Q → P → balanced P′ → one epoch → retrain on labels).</summary>
    public int Rounds { get; init; } = 30;
    /// <summary>End condition: stop when fewer than this fraction of assignments changed in a round.</summary>
    public double StableFraction { get; init; } = 0.001;
    /// <summary>Labelled training accuracy to reach after each round (the paper: 100 %).</summary>
    public double AccuracyThreshold { get; init; } = 1.0;
    /// <summary>Bound on the labelled retraining epochs of one round.</summary>
    public int MaxRetrainEpochs { get; init; } = 200;
    public int BatchSize { get; init; } = 128;
    /// <summary>Stochastic augmentation of the batches trained against the target distribution (the paper's
    /// Fig. 1 uses augmentation and dropout), or null. Labelled (pre)training sees the inputs as they are:
    /// with a handful of labels, jitter can make two classes' points overlap.</summary>
    public Func<Tensor, Generator, Tensor>? Augment { get; init; }
    public ulong Seed { get; init; }

    /// <summary>The half-moons demo (§IV-C). Eight labels for 1000 points need far more passes than the paper's
    /// image settings, and input jitter (σ = 0.2) as the stochastic augmentation of Fig. 1: without it the boundary
    /// of the supervised start barely moves (docs/methods/ssldec.md has the sweep).</summary>
    public static SsldecOptions HalfMoons(ulong seed) => new()
    {
        PretrainEpochs = 100,
        LearningRate = 1e-2,
        FinalLearningRate = 1e-3,
        RoundLearningRate = 1e-2,
        Rounds = 600,
        StableFraction = 0,
        Augment = (x, g) => x + torch.randn(x.shape, x.dtype, x.device, generator: g) * 0.2,
        Seed = seed,
    };
}

/// <summary>What one phase of training reports (for progress bars and notebooks).</summary>
public sealed record SsldecProgress(string Phase, int Round, double Loss, double LabelledAccuracy, double ChangedFraction);

/// <summary>SSLDEC: a backbone mapping inputs to an embedding z, DEC's clustering layer on top
/// (eq. 1), trained with the KL loss (eq. 3) against labels, then against the target distribution
/// (eq. 2) of a class-balanced subset, alternating with labelled retraining (Algorithm 1).</summary>
public sealed class Ssldec : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> backbone;
    private readonly ClusteringLayer clustering;
    private readonly SsldecOptions options;
    private readonly Generator generator;

    public IReadOnlyList<SsldecProgress> History => history;
    private readonly List<SsldecProgress> history = [];

    /// <param name="backbone">Maps inputs [N, ...] to embeddings [N, embeddingDim] (no softmax).</param>
    public Ssldec(nn.Module<Tensor, Tensor> backbone, long embeddingDim, long classes, SsldecOptions? options = null) : base(nameof(Ssldec))
    {
        this.options = options ?? new SsldecOptions();
        this.backbone = backbone;
        clustering = new ClusteringLayer(classes, embeddingDim);
        generator = new Generator(this.options.Seed);
        RegisterComponents();
    }

    public long Classes => clustering.centroids.size(0);

    /// <summary>Soft assignments q [N, K] (eq. 1) of inputs x.</summary>
    public override Tensor forward(Tensor x)
    {
        using var z = backbone.call(x);
        return clustering.call(z);
    }

    // ---- the paper's equations ------------------------------------------------------------

    /// <summary>Eq. 2: p_ij = (q_ij² / f_j) / Σ_j' (q_ij'² / f_j'), with cluster frequencies f_j = Σ_i q_ij.</summary>
    public static Tensor TargetDistribution(Tensor q)
    {
        using var scope = torch.NewDisposeScope();
        var weight = q.pow(2) / q.sum(0, keepdim: true);
        return (weight / weight.sum(1, keepdim: true)).MoveToOuterDisposeScope();
    }

    /// <summary>Eq. 3: KL(P‖Q) = Σ_j p_ij log(p_ij / q_ij), averaged over the points i (0·log 0 = 0).</summary>
    public static Tensor KlDivergence(Tensor p, Tensor q)
    {
        using var scope = torch.NewDisposeScope();
        var logRatio = (p.clamp_min(1e-12).log() - q.clamp_min(1e-12).log()) * p;
        return logRatio.sum(1).mean().MoveToOuterDisposeScope();
    }

    /// <summary>P′ of Algorithm 1: the same number of points for every predicted label — as many as the
    /// rarest predicted label has — drawn at random among the points predicted with that label.</summary>
    public static long[] BalancedSubset(Tensor q, Generator generator)
    {
        var predicted = q.argmax(1).data<long>().ToArray();
        var classes = q.size(1);
        var byLabel = Enumerable.Range(0, (int)classes).Select(c => predicted.Select((p, i) => (p, i)).Where(t => t.p == c).Select(t => (long)t.i).ToArray()).ToArray();
        var perLabel = byLabel.Min(g => g.Length);
        var chosen = new List<long>();
        foreach (var members in byLabel)
        {
            using var order = torch.randperm(members.Length, generator: generator);
            chosen.AddRange(order.data<long>().ToArray().Take(perLabel).Select(k => members[k]));
        }
        chosen.Sort();
        return [.. chosen];
    }

    // ---- Algorithm 1 -----------------------------------------------------------------------

    /// <summary>One optimisation step on a batch: KL(target ‖ q(x)); returns the loss (USB's train_step shape).</summary>
    public double TrainStep(optim.Optimizer optimizer, Tensor x, Tensor target) =>
        optimizer.Minimize(() => KlDivergence(target, forward(x)));

    /// <summary>Supervised pre-training only (the baseline of Figure 4b).</summary>
    public Ssldec FitSupervised(Tensor xLabelled, Tensor yLabelled, IProgress<SsldecProgress>? progress = null)
    {
        Pretrain(xLabelled, yLabelled, progress);
        return this;
    }

    /// <summary>Algorithm 1: pre-train on the labelled set, then repeat rounds until the end condition.</summary>
    public Ssldec Fit(Tensor xLabelled, Tensor yLabelled, Tensor xUnlabelled, IProgress<SsldecProgress>? progress = null)
    {
        Pretrain(xLabelled, yLabelled, progress);
        using var all = torch.cat([xLabelled, xUnlabelled]);
        using var optimizer = optim.Adam(parameters(), lr: options.RoundLearningRate);
        long[]? previous = null;
        for (var round = 1; round <= options.Rounds; round++)
        {
            using var scope = torch.NewDisposeScope();
            var q = Predict(all);
            var assignments = q.argmax(1).data<long>().ToArray();
            var changed = previous is null ? 1.0 : assignments.Zip(previous).Count(t => t.First != t.Second) / (double)assignments.Length;
            previous = assignments;
            var p = TargetDistribution(q);
            var subset = BalancedSubset(q, generator);
            var loss = subset.Length == 0 ? double.NaN
                : Epoch(optimizer, all.index_select(0, torch.tensor(subset)), p.index_select(0, torch.tensor(subset)), options.Augment);
            var accuracy = RetrainOnLabels(optimizer, xLabelled, yLabelled);
            Report(progress, new SsldecProgress("round", round, loss, accuracy, changed));
            if (changed < options.StableFraction) break;
        }
        return this;
    }

    /// <summary>q for every point, in eval mode and without gradients.</summary>
    public Tensor Predict(Tensor x)
    {
        var wasTraining = training;
        eval();
        try
        {
            using var noGrad = torch.no_grad();
            return forward(x);
        }
        finally { train(wasTraining); }
    }

    /// <summary>The most probable cluster (= class) of each point.</summary>
    public Tensor PredictLabels(Tensor x)
    {
        using var q = Predict(x);
        return q.argmax(1);
    }

    private void Pretrain(Tensor x, Tensor y, IProgress<SsldecProgress>? progress)
    {
        using var optimizer = optim.Adam(parameters(), lr: options.LearningRate);
        var schedule = optim.lr_scheduler.LinearLR(optimizer, 1.0, options.FinalLearningRate / options.LearningRate, options.PretrainEpochs);
        using var target = nn.functional.one_hot(y, Classes).to(ScalarType.Float32);
        var loss = double.NaN;
        for (var epoch = 0; epoch < options.PretrainEpochs; epoch++)
        {
            loss = Epoch(optimizer, x, target);
            schedule.step();
        }
        Report(progress, new SsldecProgress("pretrain", 0, loss, Accuracy(x, y), 1.0));
    }

    /// <summary>Retrains on the labelled set until its accuracy reaches the threshold (bounded); returns that accuracy.</summary>
    private double RetrainOnLabels(optim.Optimizer optimizer, Tensor x, Tensor y)
    {
        using var target = nn.functional.one_hot(y, Classes).to(ScalarType.Float32);
        var accuracy = Accuracy(x, y);
        for (var epoch = 0; epoch < options.MaxRetrainEpochs && accuracy < options.AccuracyThreshold; epoch++)
        {
            Epoch(optimizer, x, target);
            accuracy = Accuracy(x, y);
        }
        return accuracy;
    }

    /// <summary>One shuffled pass over (x, target) in mini-batches; returns the mean batch loss.</summary>
    private double Epoch(optim.Optimizer optimizer, Tensor x, Tensor target, Func<Tensor, Generator, Tensor>? augment = null)
    {
        train();
        using var order = torch.randperm(x.size(0), generator: generator);
        var losses = new List<double>();
        foreach (var batch in order.split(options.BatchSize))
        {
            using var scope = torch.NewDisposeScope();
            var inputs = x.index_select(0, batch);
            if (augment is not null) inputs = augment(inputs, generator);
            losses.Add(TrainStep(optimizer, inputs, target.index_select(0, batch)));
            batch.Dispose();
        }
        return losses.Average();
    }

    private double Accuracy(Tensor x, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        return PredictLabels(x).eq(y).to(ScalarType.Float64).mean().ToDouble();
    }

    private void Report(IProgress<SsldecProgress>? progress, SsldecProgress p)
    {
        history.Add(p);
        progress?.Report(p);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) generator.Dispose();
        base.Dispose(disposing);
    }
}

using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

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
    public IAugmentation? Augment { get; init; }
    public int Seed { get; init; }

    /// <summary>The half-moons demo (§IV-C). Eight labels for 1000 points need far more passes than the paper's
    /// image settings, and input jitter (σ = 0.2) as the stochastic augmentation of Fig. 1: without it the boundary
    /// of the supervised start barely moves (docs/methods/ssldec.md has the sweep).</summary>
    public static SsldecOptions HalfMoons(int seed) => new()
    {
        PretrainEpochs = 100,
        LearningRate = 1e-2,
        FinalLearningRate = 1e-3,
        RoundLearningRate = 1e-2,
        Rounds = 600,
        StableFraction = 0,
        Augment = new GaussianJitter(0.2),
        Seed = seed,
    };
}

/// <summary>One round of Algorithm 1: the KL loss of its epoch against P′, the labelled accuracy after retraining, and
/// the fraction of points whose predicted cluster changed since the previous round.</summary>
public sealed record SsldecRound(int Round, double KlLoss, double LabelledAccuracy, double ChangedFraction, int RetrainSteps);

/// <summary>SSLDEC (Enguehard et al. 2019): a backbone with DEC's clustering layer (eq. 1) trained with the KL loss
/// (eq. 3) against the labels, then against the target distribution (eq. 2) of a class-balanced subset, alternating
/// with retraining on the labels (Algorithm 1). The method owns its network and optimizer; <see cref="Trainer"/> runs
/// every phase.</summary>
public sealed class Ssldec : ITrainingMethod<TensorBatch>, IDisposable
{
    private readonly SsldecOptions options;
    private readonly Generator generator;
    private optim.Optimizer optimizer;
    private readonly List<SsldecRound> rounds = [];

    /// <param name="network">backbone + clustering layer; build it outside any dispose scope</param>
    public Ssldec(ClusteringNetwork network, SsldecOptions? options = null)
    {
        this.options = options ?? new SsldecOptions();
        Network = network;
        generator = new SeededRandom(this.options.Seed).TorchGenerator();
        optimizer = optim.Adam(network.parameters(), lr: this.options.LearningRate);
    }

    public ClusteringNetwork Network { get; }
    public IReadOnlyList<SsldecRound> Rounds => rounds;
    public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["network"] = Network };
    public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["adam"] = optimizer };

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

    // ---- the method ------------------------------------------------------------------------

    /// <summary>One optimisation step: KL(targets ‖ q(inputs)), eq. 3.</summary>
    public LossTerms TrainStep(TensorBatch batch) =>
        new(("kl", optimizer.Minimize(() => KlDivergence(batch.Targets, Network.call(batch.Inputs)))));

    /// <summary>Soft assignments q [N, K] (eq. 1), in eval mode without gradients.</summary>
    public Tensor Predict(Tensor inputs) => Network.Evaluate(() => Network.call(inputs));

    /// <summary>The most probable cluster (= class) of each point.</summary>
    public Tensor PredictLabels(Tensor inputs)
    {
        using var q = Predict(inputs);
        return q.argmax(1);
    }

    /// <summary>Supervised pre-training only: the baseline of Figure 4b.</summary>
    public Ssldec FitSupervised(Tensor xLabelled, Tensor yLabelled, Trainer trainer)
    {
        Pretrain(xLabelled, yLabelled, trainer);
        return this;
    }

    /// <summary>Algorithm 1: pre-train on the labelled set, then rounds of (Q over all points → P (eq. 2) → balanced P′ →
    /// one epoch of eq. 3 against P′ → retrain on the labels until <see cref="SsldecOptions.AccuracyThreshold"/>) until
    /// fewer than <see cref="SsldecOptions.StableFraction"/> of the assignments change.</summary>
    public Ssldec Fit(Tensor xLabelled, Tensor yLabelled, Tensor xUnlabelled, Trainer trainer)
    {
        Pretrain(xLabelled, yLabelled, trainer);
        using var all = torch.cat([xLabelled, xUnlabelled]);
        using var labelledTargets = nn.functional.one_hot(yLabelled, Network.Clusters).to(ScalarType.Float32);
        optimizer.Dispose();
        optimizer = optim.Adam(Network.parameters(), lr: options.RoundLearningRate);
        long[]? previous = null;
        for (var round = 1; round <= options.Rounds; round++)
        {
            using var scope = torch.NewDisposeScope();
            var q = Predict(all);
            var assignments = q.argmax(1).data<long>().ToArray();
            var changed = previous is null ? 1.0 : assignments.Zip(previous).Count(t => t.First != t.Second) / (double)assignments.Length;
            previous = assignments;
            var subset = torch.tensor(BalancedSubset(q, generator));
            var kl = double.NaN;
            if (subset.numel() > 0)
            {
                var p = TargetDistribution(q);
                kl = trainer.Run(this, Batches.Shuffled(all.index_select(0, subset), p.index_select(0, subset), options.BatchSize, generator, augment: options.Augment),
                    $"round {round}/{options.Rounds}").MeanLosses["kl"];
            }
            var retrain = RetrainOnLabels(xLabelled, yLabelled, labelledTargets, trainer);
            rounds.Add(new SsldecRound(round, kl, retrain.Accuracy, changed, retrain.Steps));
            if (changed < options.StableFraction) break;
        }
        return this;
    }

    private void Pretrain(Tensor x, Tensor y, Trainer trainer)
    {
        using var targets = nn.functional.one_hot(y, Network.Clusters).to(ScalarType.Float32);
        var perEpoch = Batches.PerEpoch(x.size(0), options.BatchSize);
        var totalSteps = options.PretrainEpochs * perEpoch;
        // The learning rate decays linearly per epoch from LearningRate to FinalLearningRate (§III-B).
        trainer.Run(this, Batches.Shuffled(x, targets, options.BatchSize, generator, options.PretrainEpochs), "pretrain", totalSteps,
            afterStep: step => SetLearningRate(Schedules.Linear(step / perEpoch, options.PretrainEpochs, options.LearningRate, options.FinalLearningRate)));
    }

    /// <summary>Labelled epochs until the labelled accuracy reaches the threshold (bounded); the accuracy and steps taken.</summary>
    private (double Accuracy, int Steps) RetrainOnLabels(Tensor x, Tensor y, Tensor targets, Trainer trainer)
    {
        double Accuracy() => Classification.Accuracy(y, PredictLabels(x));
        var accuracy = Accuracy();
        if (accuracy >= options.AccuracyThreshold) return (accuracy, 0);
        var perEpoch = Batches.PerEpoch(x.size(0), options.BatchSize);
        var evaluation = new Evaluation(perEpoch, () => new Dictionary<string, double> { ["labelled_accuracy"] = Accuracy() },
            metrics => metrics["labelled_accuracy"] >= options.AccuracyThreshold);
        var result = trainer.Run(this, Batches.Shuffled(x, targets, options.BatchSize, generator, options.MaxRetrainEpochs), "retrain on labels",
            options.MaxRetrainEpochs * perEpoch, evaluation);
        return (result.Metrics!["labelled_accuracy"], result.Steps);
    }

    private void SetLearningRate(double rate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
    }

    public void Dispose()
    {
        optimizer.Dispose();
        generator.Dispose();
        Network.Dispose();
    }
}

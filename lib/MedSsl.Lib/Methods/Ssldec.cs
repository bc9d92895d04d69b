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
    /// <summary>Learning rate of the semi-supervised rounds. The default 1e-3 is the authors' public code
    /// (josephenguehard/Semi-Supervised-Segmentation: each round trains with Adam at 1e-3); the paper's text (§IV-B) says
    /// a steady 1e-4 after pre-training.</summary>
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
    /// Fig. 1 uses augmentation and dropout), or null. Labelled (pre)training sees the inputs as they are
    /// unless <see cref="AugmentLabelled"/>: with a handful of labels, jitter can make two classes' points overlap.</summary>
    public IAugmentation? Augment { get; init; }
    /// <summary>Apply <see cref="Augment"/> to the labelled batches too (pre-training and retraining): the
    /// supervised baseline with the same augmentation as SSLDEC's rounds.</summary>
    public bool AugmentLabelled { get; init; }
    /// <summary>What the rounds train against: eq. 2's target distribution on a balanced subset (SSLDEC), or hard
    /// pseudo-labels (the paper's pseudo-labelling baseline, §IV-F).</summary>
    public RoundTargets Targets { get; init; } = RoundTargets.Clustering;
    /// <summary><see cref="RoundTargets.PseudoLabels"/> only: the confidence max_j q_ij an unlabelled point needs to
    /// get a pseudo-label. The default 0 is Lee (2013, §3.1): every unlabelled point takes its most probable class. A
    /// softmax-style threshold such as FixMatch's 0.95 (Sohn et al. 2020) suits the clustering layer's Student-t q
    /// badly: with 10 clusters its largest q stays below 0.95 for nearly every digit (docs/methods/ssldec.md).</summary>
    public double PseudoLabelThreshold { get; init; }
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

/// <summary>What the semi-supervised rounds train on: SSLDEC's target distribution P (eq. 2) over a class-balanced
/// subset P′ of all points (Algorithm 1), or — the pseudo-labelling baseline the paper compares against in §IV-F
/// (Lee 2013; there "without the clustering layer and thus without computing the target distribution") — the
/// labelled points with their labels plus the unlabelled points with their most probable class as a hard label (those
/// whose q reaches <see cref="SsldecOptions.PseudoLabelThreshold"/>; by default all, as Lee 2013). Everything else (pre-training,
/// the labelled retraining after each round, the network) is the same, so the two differ only in the targets.</summary>
public enum RoundTargets { Clustering, PseudoLabels }

/// <summary>One round of Algorithm 1: the KL loss of its epoch against P′, the labelled accuracy after retraining,
/// the fraction of points whose predicted cluster changed since the previous round, and the fraction of all points the
/// round's epoch trained on (P′, or the labelled + pseudo-labelled points).</summary>
public sealed record SsldecRound(int Round, double KlLoss, double LabelledAccuracy, double ChangedFraction, int RetrainSteps, double TrainedFraction = double.NaN);

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

    /// <summary>The pseudo-labelling baseline's targets: the indices of the points whose largest q_ij is at least
    /// <paramref name="threshold"/>, and that class as their hard label.</summary>
    public static (long[] Index, long[] Labels) PseudoLabels(Tensor q, double threshold)
    {
        using var scope = torch.NewDisposeScope();
        var (confidence, label) = q.max(1);
        var index = torch.nonzero(confidence >= threshold).reshape(-1);
        return (index.data<long>().ToArray(), label.index_select(0, index).data<long>().ToArray());
    }

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
            var (inputs, targets) = options.Targets == RoundTargets.Clustering
                ? ClusteringTargets(all, q)
                : PseudoLabelled(xLabelled, labelledTargets, xUnlabelled, q[(int)xLabelled.size(0)..]);
            var kl = inputs.size(0) == 0 ? double.NaN
                : trainer.Run(this, Batches.Shuffled(inputs, targets, options.BatchSize, generator, augment: options.Augment),
                    $"round {round}/{options.Rounds}").MeanLosses["kl"];
            var retrain = RetrainOnLabels(xLabelled, yLabelled, labelledTargets, trainer);
            rounds.Add(new SsldecRound(round, kl, retrain.Accuracy, changed, retrain.Steps, inputs.size(0) / (double)all.size(0)));
            if (changed < options.StableFraction) break;
        }
        return this;
    }

    /// <summary>Algorithm 1's epoch: the balanced subset P′ of all points with its rows of P (eq. 2).</summary>
    private (Tensor Inputs, Tensor Targets) ClusteringTargets(Tensor all, Tensor q)
    {
        var subset = torch.tensor(BalancedSubset(q, generator));
        return (all.index_select(0, subset), TargetDistribution(q).index_select(0, subset));
    }

    /// <summary>The pseudo-labelling baseline's epoch: the labelled points with their labels, and the confident
    /// unlabelled ones with their hard pseudo-labels.</summary>
    private (Tensor Inputs, Tensor Targets) PseudoLabelled(Tensor xLabelled, Tensor labelledTargets, Tensor xUnlabelled, Tensor qUnlabelled)
    {
        var (index, labels) = PseudoLabels(qUnlabelled, options.PseudoLabelThreshold);
        var pseudo = nn.functional.one_hot(torch.tensor(labels, ScalarType.Int64), Network.Clusters).to(ScalarType.Float32);
        return (torch.cat([xLabelled, xUnlabelled.index_select(0, torch.tensor(index, ScalarType.Int64))]), torch.cat([labelledTargets, pseudo]));
    }

    private IAugmentation? LabelledAugment => options.AugmentLabelled ? options.Augment : null;

    private void Pretrain(Tensor x, Tensor y, Trainer trainer)
    {
        using var targets = nn.functional.one_hot(y, Network.Clusters).to(ScalarType.Float32);
        var perEpoch = Batches.PerEpoch(x.size(0), options.BatchSize);
        var totalSteps = options.PretrainEpochs * perEpoch;
        // The learning rate decays linearly per epoch from LearningRate to FinalLearningRate (§III-B).
        trainer.Run(this, Batches.Shuffled(x, targets, options.BatchSize, generator, options.PretrainEpochs, LabelledAugment), "pretrain", totalSteps,
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
        var result = trainer.Run(this, Batches.Shuffled(x, targets, options.BatchSize, generator, options.MaxRetrainEpochs, LabelledAugment), "retrain on labels",
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

using MedSsl.Data;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods;

/// <summary>Which head FixMatch trains: plain FixMatch on single-label images, or one of the two ways Dadoun et al.
/// (2022, §2.3.2, Fig. 3) carry it over to multi-label targets.</summary>
public enum FixMatchHead
{
    /// <summary>Plain FixMatch (Sohn et al. 2020, §2): one softmax head over the C classes, cross-entropy on the labelled
    /// images, pseudo-label = argmax of the weak view when its probability passes τ (eq. 4); predictions from that head.
    /// Every labelled image must carry exactly one label.</summary>
    SingleLabel,
    /// <summary>§2.3.2.1: one sigmoid head; pseudo-labels 1[p̃_c ≥ 0.5] used when some class passes τ; BCE throughout.</summary>
    One,
    /// <summary>§2.3.2.2: a softmax head over the K label combinations (FixMatch's single-label loss) and a sigmoid head over
    /// the C classes trained on the labels only; predictions come from the sigmoid head.</summary>
    Two,
}

/// <summary>Settings of FixMatch for multi-label classification. Defaults are FixMatch's (Sohn et al. 2020, §4 and
/// Appendix B.1; google-research/fixmatch and kekmodel/FixMatch-pytorch use the same) except the step count, which is
/// Dadoun et al. (2022)'s 5000 semi-supervised iterations (§3.2).</summary>
public sealed record FixMatchOptions
{
    public FixMatchHead Head { get; init; } = FixMatchHead.Two;
    /// <summary>τ, the confidence a weak view's prediction needs to become a pseudo-label (FixMatch: 0.95).</summary>
    public double Threshold { get; init; } = 0.95;
    /// <summary>λ_u, the weight of the unlabelled loss (FixMatch: 1). 0 trains on the labelled images only.</summary>
    public double UnlabelledWeight { get; init; } = 1.0;
    /// <summary>The One-Head rule's per-class cut, ỹ_c = 1[p̃_c ≥ 0.5] (Dadoun et al. 2022, §2.3.2.1).</summary>
    public double PseudoLabelCut { get; init; } = 0.5;
    /// <summary>Decay m of the evaluated EMA model (FixMatch: 0.999, over 2^20 steps). <see cref="ForSteps"/> scales it to
    /// shorter trainings.</summary>
    public double EmaDecay { get; init; } = 0.999;
    /// <summary>η of SGD with Nesterov momentum, decayed as η·cos(7πk/16K) (FixMatch: 0.03, momentum 0.9, weight decay 5e-4).</summary>
    public double LearningRate { get; init; } = 0.03;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;
    /// <summary>K of the cosine schedule: the steps the training will run (Dadoun et al. 2022, §3.2: 5000).</summary>
    public int Steps { get; init; } = 5000;

    /// <summary>These options for a training of <paramref name="steps"/> steps: the cosine schedule's K, and an EMA decay whose
    /// horizon 1/(1 − m) is at most 5 % of the training, m = clamp(1 − 20/K, 0, 0.999) (0 for K ≤ 20: the EMA is the
    /// network). FixMatch's 0.999 averages over the last ~1000 of its 2^20 steps; over 400 steps it would leave the
    /// evaluated model 67 % at its random start (0.999^400).</summary>
    public FixMatchOptions ForSteps(int steps) =>
        steps < 1 ? throw new ArgumentOutOfRangeException(nameof(steps), steps, "FixMatch needs at least one step")
            : this with { Steps = steps, EmaDecay = Math.Clamp(1 - 20.0 / steps, 0, 0.999) };

    /// <summary>Training on the labelled images only with the same optimiser, schedule and EMA, λ_u = 0: for multi-label
    /// heads the sigmoid head with eq. 9's BCE (the supervised baseline of Dadoun et al. 2022, §2.2.4), for the
    /// single-label head its softmax with cross-entropy.</summary>
    public FixMatchOptions SupervisedOnly() =>
        this with { Head = Head == FixMatchHead.SingleLabel ? FixMatchHead.SingleLabel : FixMatchHead.One, UnlabelledWeight = 0 };

    public bool UsesUnlabelled => UnlabelledWeight > 0;
}

/// <summary>FixMatch (Sohn et al. 2020) for multi-label images as Dadoun et al. (2022, §2.3) build it. Per step: the
/// labelled images' loss, plus λ_u times the unlabelled loss, where a weakly augmented view's confident prediction
/// becomes the pseudo-label that the strongly augmented view of the same image is trained on (eq. 12–13). The One-Head
/// model applies this to the sigmoid head with multi-label pseudo-labels; the Two-Head model applies FixMatch's
/// single-label loss to a softmax head over the label combinations and trains the sigmoid head on the labels only.
/// An EMA copy of the network is what <see cref="Predict"/> evaluates (Sohn et al. 2020, §4).</summary>
public sealed class FixMatchMultiLabel : ITrainingMethod<SemiSupervisedBatch>, IDisposable
{
    private readonly FixMatchOptions options;
    private readonly optim.Optimizer optimizer;
    private readonly EmaTeacher<MultiLabelClassifier> ema;
    private readonly Dictionary<string, long> combinationIndex;
    private readonly LabelCombinations? combinations;
    private int step;

    /// <param name="makeNetwork">builds the network; called twice (student and EMA copy), so it must build the same
    /// architecture each time. Call it outside any dispose scope. The EMA copy starts as a copy of the first.</param>
    /// <param name="combinations">the K label combinations of the Two-Head model's softmax head (unused by One-Head)</param>
    public FixMatchMultiLabel(Func<MultiLabelClassifier> makeNetwork, LabelCombinations? combinations, FixMatchOptions? options = null)
    {
        this.options = options ?? new FixMatchOptions();
        if (this.options.Steps < 1) throw new ArgumentOutOfRangeException(nameof(options), this.options.Steps, "FixMatch needs at least one step");
        Network = makeNetwork();
        if (this.options.Head == FixMatchHead.Two)
        {
            if (combinations is null || !Network.HasCombinationHead || Network.Combinations != combinations.K)
                throw new ArgumentException($"the Two-Head model needs the label combinations and a network whose softmax head has one output per combination " +
                    $"(combinations: {combinations?.K.ToString() ?? "none"}, head: {Network.Combinations})", nameof(combinations));
        }
        this.combinations = combinations;
        combinationIndex = combinations is null ? [] :
            Enumerable.Range(0, combinations.K).ToDictionary(k => Key(combinations.Combinations[k]), k => (long)k);
        ema = new EmaTeacher<MultiLabelClassifier>(Network, makeNetwork);
        optimizer = optim.SGD(Network.parameters(), this.options.LearningRate, this.options.Momentum,
            weight_decay: this.options.WeightDecay, nesterov: this.options.Momentum > 0);
    }

    public FixMatchOptions Options => options;
    public MultiLabelClassifier Network { get; }
    /// <summary>The evaluated model: the EMA of <see cref="Network"/>'s weights.</summary>
    public MultiLabelClassifier Ema => ema.Teacher;
    public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["network"] = Network, ["ema"] = ema.Teacher };
    public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["sgd"] = optimizer };

    // ---- the equations ----------------------------------------------------------------------

    /// <summary>L_BCE(v, p̄) of Dadoun et al. 2022, §2.2.4, eq. 9: binary cross-entropy of the sigmoid outputs against the
    /// 0/1 label vector, averaged over the C classes and then over the images (the paper sums over images; an
    /// average keeps the loss scale independent of the batch, as FixMatch's code does).</summary>
    public static Tensor MultiLabelLoss(Tensor logits, Tensor labels) =>
        nn.functional.binary_cross_entropy_with_logits(logits, labels);

    /// <summary>H(w, p) of Dadoun et al. 2022, §2.3.2.2: the cross-entropy of the softmax head over the K label
    /// combinations against each labelled image's combination w (given as its index), averaged over the images.</summary>
    public static Tensor CombinationLoss(Tensor logits, Tensor combination) => nn.functional.cross_entropy(logits, combination);

    /// <summary>FixMatch's unlabelled loss (Sohn et al. 2020, eq. 4; Dadoun et al. 2022, §2.3.1, eq. 12):
    /// (1/μB) Σ_b 1[max softmax(weak_b) ≥ τ]·H(argmax softmax(weak_b), softmax(strong_b)). The weak view gives the
    /// pseudo-label without gradient; the average runs over all μB images, masked ones counting as 0 (as in FixMatch's
    /// code). Returns the loss and the mask [μB].</summary>
    public static (Tensor Loss, Tensor Mask) SingleLabelUnlabelledLoss(Tensor weakLogits, Tensor strongLogits, double threshold)
    {
        using var scope = torch.NewDisposeScope();
        var p = nn.functional.softmax(weakLogits.detach(), 1);
        var mask = PseudoLabels.ConfidenceMask(p, threshold).to(strongLogits.dtype);
        var perImage = nn.functional.cross_entropy(strongLogits, PseudoLabels.Hard(p), reduction: nn.Reduction.None);
        return ((perImage * mask).mean().MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// <summary>The One-Head pseudo-labels of Dadoun et al. 2022, §2.3.2.1: ỹ_c = 1[p̃_c ≥ <paramref name="cut"/>] on the weak
    /// view's sigmoid outputs p̃, float32 [N, C].</summary>
    public static Tensor OneHeadPseudoLabels(Tensor weakProbabilities, double cut = 0.5) => PseudoLabels.MultiLabel(weakProbabilities, cut);

    /// <summary>The One-Head mask of Dadoun et al. 2022, §2.3.2.1: an image's pseudo-label is used when the probability of
    /// at least one class passes τ, 1[max_c p̃_c ≥ τ], float32 [N].</summary>
    public static Tensor OneHeadMask(Tensor weakProbabilities, double threshold) => PseudoLabels.AnyClassConfident(weakProbabilities, threshold);

    /// <summary>The One-Head unlabelled loss (Dadoun et al. 2022, §2.3.2.1, eq. 12 with the multi-label pseudo-label):
    /// (1/μB) Σ_b mask_b·L_BCE(ỹ_b, sigmoid(strong_b)), with L_BCE averaged over the classes (eq. 9). Returns the loss
    /// and the mask [μB].</summary>
    public static (Tensor Loss, Tensor Mask) MultiLabelUnlabelledLoss(Tensor weakLogits, Tensor strongLogits, double threshold, double cut = 0.5)
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.sigmoid(weakLogits.detach());
        var mask = OneHeadMask(p, threshold).to(strongLogits.dtype);
        var targets = OneHeadPseudoLabels(p, cut).to(strongLogits.dtype);
        var perImage = nn.functional.binary_cross_entropy_with_logits(strongLogits, targets, reduction: nn.Reduction.None).mean([1]);
        return ((perImage * mask).mean().MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// <summary>The labelled part of the Two-Head objective (Dadoun et al. 2022, §2.3.2.2): H(w, p) on the combination
    /// head plus L_BCE(v, p̄) (eq. 9) on the multi-label head.</summary>
    public static Tensor TwoHeadLabelledLoss(HeadLogits logits, Tensor combination, Tensor labels)
    {
        if (logits.Combination is null) throw new ArgumentException("the Two-Head loss needs the combination head's logits", nameof(logits));
        using var scope = torch.NewDisposeScope();
        return (CombinationLoss(logits.Combination, combination) + MultiLabelLoss(logits.MultiLabel, labels)).MoveToOuterDisposeScope();
    }

    /// <summary>The semi-supervised objective, eq. 13: labelled loss + λ_u·unlabelled loss.</summary>
    public static Tensor Objective(Tensor labelled, Tensor unlabelled, double unlabelledWeight) => labelled + unlabelled * unlabelledWeight;

    /// <summary>Each labelled image's combination index w (Dadoun et al. 2022, §2.2.3: every distinct label set is one class).
    /// A label set outside <paramref name="combinations"/> is an error: the softmax head has no output for it.</summary>
    public static Tensor CombinationIndices(Tensor labels, LabelCombinations combinations)
    {
        var index = Enumerable.Range(0, combinations.K).ToDictionary(k => Key(combinations.Combinations[k]), k => (long)k);
        return CombinationIndices(labels, index);
    }

    // ---- the method -------------------------------------------------------------------------

    /// <summary>One step: the learning rate η·cos(7πk/16K), one forward pass over the labelled images and both views of
    /// the unlabelled ones together (so batch norm sees them as one batch, as FixMatch's code interleaves them), the
    /// objective of the chosen head, an SGD step, then the EMA update. Returns the loss terms and
    /// <c>mask_rate</c>, the fraction of unlabelled images whose pseudo-label passed τ.</summary>
    public LossTerms TrainStep(SemiSupervisedBatch batch)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = Schedules.FixMatchCosine(step, options.Steps, options.LearningRate);
        var useUnlabelled = options.UsesUnlabelled && batch.UnlabelledWeak.size(0) > 0;
        double labelledLoss = 0, unlabelledLoss = 0, maskRate = 0;
        var total = optimizer.Minimize(() =>
        {
            var n = batch.Labelled.size(0);
            var u = useUnlabelled ? batch.UnlabelledWeak.size(0) : 0;
            var inputs = useUnlabelled ? torch.cat([batch.Labelled, batch.UnlabelledWeak, batch.UnlabelledStrong]) : batch.Labelled;
            var heads = options.Head == FixMatchHead.Two ? Network.Heads(inputs) : new HeadLogits(Network.call(inputs), null);
            var ml = heads.MultiLabel;
            Tensor labelled = options.Head switch
            {
                FixMatchHead.Two => TwoHeadLabelledLoss(new HeadLogits(ml[..(int)n], heads.Combination![..(int)n]), CombinationIndices(batch.Labels, combinationIndex), batch.Labels),
                FixMatchHead.SingleLabel => CombinationLoss(ml[..(int)n], SingleLabels(batch.Labels)),
                _ => MultiLabelLoss(ml[..(int)n], batch.Labels),
            };
            labelledLoss = labelled.ToDouble();
            if (!useUnlabelled) return labelled;
            var unsupervisedLogits = options.Head == FixMatchHead.Two ? heads.Combination! : ml;
            var weak = unsupervisedLogits[(int)n..(int)(n + u)];
            var strong = unsupervisedLogits[(int)(n + u)..];
            var (loss, mask) = options.Head != FixMatchHead.One
                ? SingleLabelUnlabelledLoss(weak, strong, options.Threshold)
                : MultiLabelUnlabelledLoss(weak, strong, options.Threshold, options.PseudoLabelCut);
            unlabelledLoss = loss.ToDouble();
            maskRate = mask.mean().ToDouble();
            return Objective(labelled, loss, options.UnlabelledWeight);
        });
        ema.Update(Network, options.EmaDecay);
        step++;
        var terms = new LossTerms(("total", total), ("labelled", labelledLoss));
        if (options.UsesUnlabelled) terms.Add("unlabelled", unlabelledLoss).Add("mask_rate", maskRate);
        return terms;
    }

    /// <summary>The EMA model's class probabilities [N, C] from the head the loss trains on the classes, in eval mode
    /// without gradients: softmax for <see cref="FixMatchHead.SingleLabel"/> (rows sum to 1), otherwise the sigmoid
    /// head g_κ(f(x)).</summary>
    public Tensor Predict(Tensor inputs) => Ema.Evaluate(() =>
    {
        using var logits = Ema.call(inputs);
        return options.Head == FixMatchHead.SingleLabel ? nn.functional.softmax(logits, 1) : torch.sigmoid(logits);
    });

    /// <summary>The EMA backbone's features f(x) [N, D] (eval mode, no gradients): embeddings for t-SNE or k-means.</summary>
    public Tensor Features(Tensor inputs) => Ema.Evaluate(() => Ema.Backbone.call(inputs));

    /// <summary>The EMA model's class probabilities for every image of <paramref name="data"/>, [N, C], in batches.</summary>
    public double[,] Probabilities(IImageDataset data)
    {
        var result = new double[data.Count, data.LabelNames.Count];
        for (var start = 0; start < data.Count; start += 256)
        {
            using var scope = torch.NewDisposeScope();
            var p = Predict(data.Batch([.. Enumerable.Range(start, Math.Min(256, data.Count - start))]).Images).to(ScalarType.Float64);
            var values = p.data<double>().ToArray();
            for (var i = 0; i < p.size(0); i++)
                for (var j = 0; j < p.size(1); j++) result[start + i, j] = values[i * p.size(1) + j];
        }
        return result;
    }

    /// <summary>The pseudo-labels the student network would give <paramref name="images"/> now (eval mode, no
    /// augmentation), by its head's rule (§2.3.2): single-label, the argmax class when it passes τ; Two-Head, the
    /// softmax head's label combination when it passes τ; One-Head, 1[p̃_c ≥ ½] when some class passes τ. Returns the fractions of images passing τ, passing with their
    /// true label set, and passing with another — the error propagation that §2.3.2.2 attributes to One-Head.</summary>
    public (double Rate, double Correct, double Wrong) PseudoLabelOutcomes(IImageDataset images)
    {
        int passed = 0, correct = 0, c = images.LabelNames.Count;
        for (var start = 0; start < images.Count; start += 256)
        {
            int[] indices = [.. Enumerable.Range(start, Math.Min(256, images.Count - start))];
            var (pass, labels) = Network.Evaluate(() =>
            {
                using var scope = torch.NewDisposeScope();
                var heads = Network.Heads(images.Batch(indices).Images);
                bool[] Flags(Tensor mask) => [.. mask.flatten().to(ScalarType.Float32).data<float>().Select(v => v > 0.5f)];
                if (options.Head == FixMatchHead.SingleLabel)
                {
                    var p = nn.functional.softmax(heads.MultiLabel, 1);
                    var hard = PseudoLabels.Hard(p).data<long>().ToArray();
                    return (Flags(PseudoLabels.ConfidenceMask(p, options.Threshold)),
                        hard.Select(k => Enumerable.Range(0, c).Select(j => j == k).ToArray()).ToArray());
                }
                if (options.Head == FixMatchHead.Two)
                {
                    var p = nn.functional.softmax(heads.Combination!, 1);
                    return (Flags(PseudoLabels.ConfidenceMask(p, options.Threshold)),
                        PseudoLabels.Hard(p).data<long>().ToArray().Select(k => combinations!.Combinations[(int)k]).ToArray());
                }
                var sigmoid = torch.sigmoid(heads.MultiLabel);
                var cut = Flags(OneHeadPseudoLabels(sigmoid, options.PseudoLabelCut));
                return (Flags(OneHeadMask(sigmoid, options.Threshold)), indices.Select((_, i) => cut[(i * c)..((i + 1) * c)]).ToArray());
            });
            for (var i = 0; i < indices.Length; i++)
                if (pass[i])
                {
                    passed++;
                    if (Enumerable.Range(0, c).All(j => labels[i][j] == images.HasLabel(indices[i], j))) correct++;
                }
        }
        return (passed / (double)images.Count, correct / (double)images.Count, (passed - correct) / (double)images.Count);
    }

    private static Tensor CombinationIndices(Tensor labels, IReadOnlyDictionary<string, long> index)
    {
        var c = (int)labels.size(1);
        var values = labels.to(ScalarType.Float32).data<float>().ToArray();
        var result = new long[labels.size(0)];
        for (var i = 0; i < result.Length; i++)
        {
            var key = Key(values.AsSpan(i * c, c).ToArray().Select(v => v >= 0.5f).ToArray());
            if (!index.TryGetValue(key, out result[i]))
                throw new ArgumentException($"labelled image {i} has the label set {key}, which is not one of the {index.Count} combinations of the softmax head", nameof(labels));
        }
        return torch.tensor(result);
    }

    /// <summary>The class index of each single-label row of <paramref name="labels"/> [N, C]; a row without exactly one
    /// positive is an error (plain FixMatch's cross-entropy has no target for it).</summary>
    public static Tensor SingleLabels(Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        var positives = (labels >= 0.5f).sum(1);
        if ((positives != 1).any().ToBoolean())
            throw new ArgumentException("the single-label head needs exactly one label per labelled image; use FixMatchHead.One or Two for multi-label images", nameof(labels));
        return labels.argmax(1).MoveToOuterDisposeScope();
    }

    private static string Key(bool[] labels) => new(labels.Select(b => b ? '1' : '0').ToArray());

    public void Dispose()
    {
        optimizer.Dispose();
        ema.Dispose();
        Network.Dispose();
    }
}

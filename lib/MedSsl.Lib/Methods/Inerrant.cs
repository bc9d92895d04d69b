using MedSsl.Data;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedSsl.Methods;

/// <summary>Which confidence ranks the relabeling candidates: the maximum class probability (SMILE, Petit et al.
/// 2018) or the learned confidence network (INERRANT, Petit et al. 2021, §3.2.2).</summary>
public enum ConfidenceMeasure { Mcp, Learned }

/// <summary>Settings of INERRANT (Petit et al. 2021). Sizes are ours (2 CPU cores); the schedule and the relabeling
/// settings are the paper's unless noted.</summary>
public sealed record InerrantOptions
{
    /// <summary>U-Net channels per level (the paper: 64 … 1024 on 512×512 slices, Table 11).</summary>
    public long[] Widths { get; init; } = [8, 16, 32, 64];
    public int BatchSize { get; init; } = 16;
    /// <summary>Steps of the first training on the partial labels (INERRANT⁰, or the naive baseline).</summary>
    public int SegmentationSteps { get; init; } = 600;
    /// <summary>Adam's rate at the start, decreasing exponentially to <see cref="FinalLearningRate"/> (§4.1.3: 1e-4 → 1e-5).</summary>
    public double LearningRate { get; init; } = 1e-4;
    public double FinalLearningRate { get; init; } = 1e-5;
    /// <summary>T, the relabeling steps (§4.3.2, Table 7 and Figure 6: 3).</summary>
    public int RelabelingSteps { get; init; } = 3;
    /// <summary>γ_max, the share of predicted positives relabeled at the last step (Figure 6: 1.0, so 33 %, 66 %, 100 %).</summary>
    public double GammaMax { get; init; } = 1.0;
    /// <summary>Steps of each fine-tuning after a relabeling (Algorithm 2; the paper does not give its length).</summary>
    public int FineTuneSteps { get; init; } = 200;
    /// <summary>Each fine-tuning decays exponentially from this rate to <see cref="FinalLearningRate"/>.</summary>
    public double FineTuneLearningRate { get; init; } = 1e-4;
    /// <summary>Steps of each confidence-network training (Algorithm 2 retrains it before every relabeling).</summary>
    public int ConfidenceSteps { get; init; } = 200;
    /// <summary>Adam's rate for the confidence network at the start of each confidence training, decaying exponentially to
    /// <see cref="ConfidenceFinalLearningRate"/> as the segmentation network's does (§4.1.3). ConfidNet trains its head at
    /// 1e-4 for 500 epochs (Corbière et al. 2019, selfconfid configuration); a CPU budget gives it a few hundred steps, and
    /// at 1e-4 forty steps moved the mean confidence from 0.515 to 0.527 — untrained. Raised tenfold, as the segmentation
    /// rate is raised for the same reason (ten times less than that rate: the duplicate starts from trained weights).</summary>
    public double ConfidenceLearningRate { get; init; } = 1e-3;
    public double ConfidenceFinalLearningRate { get; init; } = 1e-4;
    /// <summary>The confidence head's initial output ĉ (its last bias is log(π/(1 − π)), Lin et al. 2017, §4.1): on the
    /// known labels TCP is close to 1 almost everywhere (the segmentation network fits its training labels), and from 0.5
    /// the first few hundred steps would go into moving the bias there instead of ranking pixels. Null keeps PyTorch's
    /// default initialisation.</summary>
    public double? ConfidencePrior { get; init; } = 0.9;
    /// <summary>The sigmoid outputs' initial value π (the last convolution's bias is log(π/(1 − π)), Lin et al. 2017,
    /// §4.1): organs cover ~1 % of the pixels, and from 0.5 Adam needs thousands of steps to move the bias there — more
    /// than 2 CPU cores afford. Null keeps PyTorch's default initialisation.</summary>
    public double? OutputPrior { get; init; } = 0.01;
    /// <summary>Channels and number of the confidence head's 3×3 convolutions.</summary>
    public long ConfidenceHidden { get; init; } = 16;
    public int ConfidenceLayers { get; init; } = 3;
    /// <summary>Fine-tune the confidence network's duplicate of the U-Net (§4.3.1: better in the paper) or keep it
    /// frozen (ConfidNet's transfer configuration).</summary>
    public bool FineTuneConfidenceBackbone { get; init; } = true;
    public int Seed { get; init; }
}

/// <summary>One relabeling step t of Algorithm 2: γ_t, the pseudo-labels so far (their number, precision and recall
/// against the complete masks, Table 7), the confidence network's mean training loss (eq. 3; learned measure only),
/// and how well each confidence ranked this step's candidates — pixels predicted as a missing organ and not yet
/// relabeled — into correct and wrong (Table 6); null where the candidates were all correct or all wrong.</summary>
public sealed record RelabelingRound(int Step, double Gamma, long Relabeled, double Precision, double Recall,
    double? ConfidenceLoss, FailurePrediction? Mcp, FailurePrediction? Learned)
{
    /// <summary>The confidence network's loss (eq. 3) at each step of this round's confidence training (learned measure
    /// only; empty otherwise): whether it learned.</summary>
    public IReadOnlyList<double> ConfidenceLosses { get; init; } = [];
    /// <summary>How many candidates the failure-prediction scores rank (pixels predicted as a missing organ, not yet
    /// relabeled): whether Table 6's metrics rest on enough pixels.</summary>
    public long Candidates { get; init; }
}

/// <summary>INERRANT (Petit et al. 2021): K sigmoid classifiers on a U-Net trained with the ambiguity maps of eq. 2 on
/// partially annotated volumes (INERRANT⁰), then T steps of Algorithm 2 — train the confidence network (eq. 3),
/// relabel the top γ_t of each missing organ's predicted pixels by confidence, fine-tune. The same class trains the
/// naive baseline (weights all one) and the MCP variant (SMILE's confidence, no confidence network).</summary>
public sealed class Inerrant : ITrainingMethod<InerrantBatch>, IDisposable
{
    private enum Phase { Segmentation, Confidence }

    private readonly InerrantOptions options;
    private readonly Generator generator;
    private readonly Generator confidenceGenerator;
    private readonly optim.Optimizer segmentationOptimizer;
    private optim.Optimizer? confidenceOptimizer;
    private Phase phase = Phase.Segmentation;

    /// <param name="segmentation">a U-Net with one output per organ built with <paramref name="options"/>' widths; build it outside any dispose scope</param>
    public Inerrant(UNet segmentation, int organs, InerrantOptions? options = null)
    {
        this.options = options ?? new InerrantOptions();
        if (this.options.RelabelingSteps < 1) throw new ArgumentOutOfRangeException(nameof(options), "T must be at least 1");
        if (this.options.GammaMax is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(options), "γ_max is a proportion in (0, 1]");
        Segmentation = segmentation;
        Organs = organs;
        generator = new SeededRandom(this.options.Seed, RandomStreams.BatchOrder).TorchGenerator();
        // The confidence network's batches come from their own stream: the relabeling variants (MCP, learned confidence,
        // the control without relabeling) then fine-tune the segmentation network on the same batch order.
        confidenceGenerator = new SeededRandom(this.options.Seed, RandomStreams.ConfidenceTraining).TorchGenerator();
        segmentationOptimizer = optim.Adam(segmentation.parameters(), lr: this.options.LearningRate);
    }

    /// <summary>A new network for <paramref name="organs"/> organs, initialised from the options' seed.</summary>
    public static Inerrant Create(int organs, InerrantOptions options)
    {
        torch.manual_seed(options.Seed);   // libtorch draws the initial weights
        var network = new UNet(1, organs, options.Widths);
        if (options.OutputPrior is { } prior) network.SetOutputBias(Math.Log(prior / (1 - prior)));
        return new Inerrant(network, organs, options);
    }

    /// <summary>A copy of this model's weights (and batch-norm statistics) with fresh optimizers: both relabeling
    /// variants start from the same INERRANT⁰ model.</summary>
    public Inerrant Copy(InerrantOptions? options = null)
    {
        var copy = new UNet(1, Organs, this.options.Widths);
        using (torch.no_grad()) copy.load_state_dict(Segmentation.state_dict());
        return new Inerrant(copy, Organs, options ?? this.options);
    }

    public UNet Segmentation { get; }
    public ConfidenceNetwork? Confidence { get; private set; }
    public int Organs { get; }
    public InerrantOptions Options => options;

    public IReadOnlyDictionary<string, nn.Module> Networks => phase == Phase.Segmentation
        ? new Dictionary<string, nn.Module> { ["segmentation"] = Segmentation }
        : new Dictionary<string, nn.Module> { ["confidence"] = Confidence! };

    public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => phase == Phase.Segmentation
        ? new Dictionary<string, optim.Optimizer> { ["segmentation"] = segmentationOptimizer }
        : new Dictionary<string, optim.Optimizer> { ["confidence"] = confidenceOptimizer! };

    // ---- the paper's equations ------------------------------------------------------------

    /// <summary>The ambiguity maps W of eq. 2 (Petit et al. 2021, §3.1.1, Figure 2). For an organ k annotated in the
    /// slice's volume, w_k = 1 everywhere; for a missing organ, w_k = 0 except on the pixels of the organs annotated
    /// there, which are known negatives for k (one pixel, one organ). <paramref name="labels"/> [B, K, H, W] holds the
    /// annotated organs' binary masks (missing organs all zero); <paramref name="annotated"/> [B, K] is 1 where organ k
    /// is annotated. Returns float32 [B, K, H, W] of 0/1.</summary>
    public static Tensor AmbiguityMaps(Tensor labels, Tensor annotated)
    {
        CheckMaps(labels, "labels");
        if (annotated.dim() != 2 || annotated.size(0) != labels.size(0) || annotated.size(1) != labels.size(1))
            throw new ArgumentException($"annotated must be [B, K] = [{labels.size(0)}, {labels.size(1)}], got [{string.Join(", ", annotated.shape)}]", nameof(annotated));
        using var scope = torch.NewDisposeScope();
        var isAnnotated = annotated.to(ScalarType.Float32).gt(0).unsqueeze(-1).unsqueeze(-1);        // [B, K, 1, 1]
        var annotatedLabels = labels.to(ScalarType.Float32).gt(0).logical_and(isAnnotated);
        var knownNegative = annotatedLabels.any(1, keepdim: true);                                   // any annotated organ here
        return isAnnotated.logical_or(knownNegative).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>The masked multi-label loss of eqs. 1–2: Σ_k Σ_i w_ik · BCE(σ(z_ik), y_ik), divided by the constant
    /// B·K·H·W so its scale does not depend on the batch or image size. The division keeps every used label's weight
    /// exactly as in eq. 2 (ignored labels contribute nothing and do not dilute the rest), and Adam's steps do not
    /// depend on a constant loss scale. <paramref name="logits"/>, <paramref name="targets"/> and
    /// <paramref name="weights"/> are [B, K, H, W].</summary>
    public static Tensor MaskedBinaryCrossEntropy(Tensor logits, Tensor targets, Tensor weights)
    {
        CheckMaps(logits, "logits");
        if (!targets.shape.SequenceEqual(logits.shape) || !weights.shape.SequenceEqual(logits.shape))
            throw new ArgumentException($"logits, targets and weights must share a shape: [{string.Join(", ", logits.shape)}], [{string.Join(", ", targets.shape)}], [{string.Join(", ", weights.shape)}]");
        using var scope = torch.NewDisposeScope();
        var perLabel = nn.functional.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype), reduction: nn.Reduction.None);
        return (perLabel * weights.to(logits.dtype)).sum().div(logits.numel()).MoveToOuterDisposeScope();
    }

    /// <summary>γ_t = t/T · γ_max, the share of predicted positives relabeled at step t (§3.2.1, Algorithm 1).</summary>
    public static double Gamma(int step, int steps, double gammaMax)
    {
        if (steps < 1 || step < 1 || step > steps) throw new ArgumentOutOfRangeException(nameof(step), $"step {step} of {steps}: steps run 1 … T");
        return (double)step / steps * gammaMax;
    }

    /// <summary>The selection s(ŷ⁺, γ_t) of Algorithm 1 in one volume: for each missing organ k, the candidates are the
    /// pixels whose predicted class (<see cref="ClassMap"/>) is k and whose label for k is unknown (w_ik = 0 in
    /// <paramref name="known"/>); the round(γ·n) candidates of highest confidence for k (ties: earlier pixel first)
    /// become positives. <paramref name="classes"/> [D, H, W] (0 background, k + 1 organ k), <paramref name="confidence"/>
    /// and <paramref name="known"/> [D, K, H, W]. Returns bool [D, K, H, W]: the relabeled pixels (cumulative when γ
    /// grows, since the ranking is over all current candidates, the earlier pseudo-labels among them).</summary>
    public static Tensor SelectPseudoLabels(Tensor classes, Tensor confidence, Tensor known, IReadOnlyList<int> missingOrgans, double gamma)
    {
        CheckMaps(confidence, "confidence");
        if (gamma is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ is a proportion in [0, 1]");
        if (!known.shape.SequenceEqual(confidence.shape)) throw new ArgumentException("known and confidence must share a shape [D, K, H, W]", nameof(known));
        long depth = confidence.size(0), organs = confidence.size(1), plane = confidence.size(2) * confidence.size(3);
        if (classes.dim() != 3 || classes.size(0) != depth || classes.size(1) * classes.size(2) != plane)
            throw new ArgumentException($"classes must be [D, H, W] = [{depth}, {confidence.size(2)}, {confidence.size(3)}], got [{string.Join(", ", classes.shape)}]", nameof(classes));
        var predicted = classes.to(ScalarType.Int64).contiguous().data<long>().ToArray();
        var scores = confidence.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var isKnown = known.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var selected = new bool[scores.Length];
        foreach (var organ in missingOrgans)
        {
            if (organ < 0 || organ >= organs) throw new ArgumentOutOfRangeException(nameof(missingOrgans), organ, $"organs are 0 … {organs - 1}");
            var candidates = new List<long>();
            for (long d = 0; d < depth; d++)
                for (long p = 0; p < plane; p++)
                {
                    var at = (d * organs + organ) * plane + p;
                    if (predicted[d * plane + p] == organ + 1 && isKnown[at] == 0) candidates.Add(at);
                }
            var take = (int)Math.Round(gamma * candidates.Count, MidpointRounding.AwayFromZero);
            foreach (var at in candidates.OrderByDescending(at => scores[at]).Take(take)) selected[at] = true;   // a stable sort: ties keep pixel order
        }
        return torch.tensor(selected, confidence.shape);
    }

    /// <summary>The class of each pixel from K sigmoid outputs [N, K, H, W] (§3.1.1): the most probable organ, or
    /// background when every probability is below 0.5. Returns int64 [N, H, W], 0 background, k + 1 organ k.</summary>
    public static Tensor ClassMap(Tensor probabilities, double threshold = 0.5)
    {
        CheckMaps(probabilities, "probabilities");
        using var scope = torch.NewDisposeScope();
        var (best, organ) = probabilities.max(1);
        return torch.where(best.ge(threshold), organ + 1, torch.zeros_like(organ)).MoveToOuterDisposeScope();
    }

    /// <summary>The maximum class probability of each binary classifier, max(ŷ_ik, 1 − ŷ_ik) (Hendrycks &amp; Gimpel
    /// 2017): on a pixel predicted as organ k it is ŷ_ik, the confidence SMILE relabels with (Petit et al. 2021, §4.3.1).</summary>
    public static Tensor MaximumClassProbability(Tensor probabilities) => torch.maximum(probabilities, 1 - probabilities);

    /// <summary>The true class probability of each binary classifier (ConfidNet, Corbière et al. 2019), the target of
    /// the confidence network (§3.2.2): c_ik = ŷ_ik where y_ik = 1, 1 − ŷ_ik where y_ik = 0.</summary>
    public static Tensor TrueClassProbability(Tensor probabilities, Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        var y = labels.to(probabilities.dtype);
        return (y * probabilities + (1 - y) * (1 - probabilities)).MoveToOuterDisposeScope();
    }

    /// <summary>Eq. 3 on the labels that are known: L_conf = Σ_ik w_ik (ĉ_ik − c_ik)² / Σ_ik w_ik, the paper's
    /// (1/K)(1/N) Σ_k Σ_i (ĉ_ik − c_ik)² restricted to the pixels and organs whose label is known (w_ik = 1 in the
    /// ambiguity maps); TCP needs the true class, so an unknown label has no target. 0 when nothing is known.</summary>
    public static Tensor ConfidenceLoss(Tensor confidence, Tensor trueClassProbability, Tensor known)
    {
        if (!confidence.shape.SequenceEqual(trueClassProbability.shape) || !confidence.shape.SequenceEqual(known.shape))
            throw new ArgumentException($"confidence, TCP and known must share a shape: [{string.Join(", ", confidence.shape)}], [{string.Join(", ", trueClassProbability.shape)}], [{string.Join(", ", known.shape)}]");
        using var scope = torch.NewDisposeScope();
        var w = known.to(confidence.dtype);
        return ((confidence - trueClassProbability).pow(2) * w).sum().div(w.sum().clamp_min(1)).MoveToOuterDisposeScope();
    }

    /// <summary>Failure prediction on completely annotated slices (ConfidNet's protocol, Corbière et al. 2019, §4, with
    /// the relabeling candidates' definition): every pixel predicted as an organ (<paramref name="classes"/> [N, H, W],
    /// k + 1) is a prediction, correct when its true class (<paramref name="truth"/>, N·H·W, slice-major) is that organ,
    /// scored by that organ's <paramref name="confidence"/> [N, K, H, W]. Null when the predictions are all correct or
    /// all wrong (no ranking to score); also returns their number.</summary>
    public static (FailurePrediction? Scores, int Predictions) ScorePredictedOrgans(Tensor classes, Tensor confidence, byte[] truth)
    {
        CheckMaps(confidence, "confidence");
        long organs = confidence.size(1), plane = confidence.size(2) * confidence.size(3);
        var predicted = classes.to(ScalarType.Int64).contiguous().data<long>().ToArray();
        if (predicted.Length != truth.Length || predicted.Length != confidence.size(0) * plane)
            throw new ArgumentException($"classes ({predicted.Length} pixels), confidence ({confidence.size(0) * plane}) and truth ({truth.Length}) must cover the same pixels");
        var scores = confidence.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var correct = new List<bool>();
        var ranked = new List<double>();
        for (long i = 0; i < predicted.Length; i++)
        {
            if (predicted[i] == 0) continue;
            correct.Add(truth[i] == predicted[i]);
            ranked.Add(scores[(i / plane * organs + predicted[i] - 1) * plane + i % plane]);
        }
        return (correct.Contains(true) && correct.Contains(false) ? FailurePrediction.Compute(correct, ranked) : null, correct.Count);
    }

    // ---- the method ------------------------------------------------------------------------

    /// <summary><see cref="ScorePredictedOrgans"/> of this model's predictions on completely annotated slices, ranked by
    /// MCP or by the learned confidence.</summary>
    public (FailurePrediction? Scores, int Predictions) ScoreFailures(Tensor images, byte[] truth, ConfidenceMeasure measure)
    {
        using var scope = torch.NewDisposeScope();
        var probabilities = Predict(images);
        return ScorePredictedOrgans(ClassMap(probabilities), measure == ConfidenceMeasure.Learned ? PredictConfidence(images) : MaximumClassProbability(probabilities), truth);
    }

    /// <summary>Dice per organ on each volume of <paramref name="test"/> (3-D, the class map of §3.1.1), averaged over the volumes.</summary>
    public double[] OrganDice(VolumeDataset test)
    {
        var sums = new double[test.OrganNames.Count];
        for (var v = 0; v < test.Count; v++)
        {
            var predicted = PredictVolume(test, v);
            for (var k = 0; k < sums.Length; k++) sums[k] += MedSsl.Metrics.Segmentation.Dice(predicted, test[v].Mask, (byte)(k + 1));
        }
        return [.. sums.Select(s => s / test.Count)];
    }

    /// <summary>The predicted label map of a whole volume, slice-major like <see cref="CtVolume.Mask"/>.</summary>
    public byte[] PredictVolume(VolumeDataset data, int volume)
    {
        using var scope = torch.NewDisposeScope();
        var (images, _, _) = data.Slices([.. Enumerable.Range(0, data[volume].Depth).Select(s => (volume, s))]);
        using var classes = ClassMap(Predict(images));
        return [.. classes.data<long>().ToArray().Select(c => (byte)c)];
    }

    /// <summary>One optimisation step: eq. 2 for the segmentation network, or eq. 3 for the confidence network (the
    /// segmentation network frozen in eval mode gives the TCP targets).</summary>
    public LossTerms TrainStep(InerrantBatch batch)
    {
        if (phase == Phase.Segmentation)
            return new(("bce", segmentationOptimizer.Minimize(() => MaskedBinaryCrossEntropy(Segmentation.call(batch.Images), batch.Labels, batch.Weights))));
        Tensor tcp;
        var t = StepPhases.Start();
        using (torch.no_grad())
        using (var logits = Segmentation.call(batch.Images))
        using (var probabilities = logits.sigmoid())
            tcp = TrueClassProbability(probabilities, batch.Labels);
        StepPhases.Stop("method: segmenter forward (TCP targets)", t);
        return new(("confidence_mse", confidenceOptimizer!.Minimize(() => ConfidenceLoss(Confidence!.call(batch.Images).sigmoid(), tcp, batch.Weights))));
    }

    /// <summary>The K organ probabilities σ(z) [N, K, H, W] of slices [N, 1, H, W], in eval mode without gradients.</summary>
    public Tensor Predict(Tensor inputs) => Segmentation.Evaluate(() => Chunked(inputs, x => Segmentation.call(x).sigmoid()));

    /// <summary>The learned confidence ĉ [N, K, H, W] of slices [N, 1, H, W]; needs a trained confidence network.</summary>
    public Tensor PredictConfidence(Tensor inputs)
    {
        if (Confidence is null) throw new InvalidOperationException("the confidence network is trained by FitConfidence (or Relabel with the learned measure) first");
        return Confidence.Evaluate(() => Chunked(inputs, x => Confidence.call(x).sigmoid()));
    }

    /// <summary>Trains the segmentation network on the set's targets and weights (pseudo-labels included) for
    /// <paramref name="steps"/> steps, Adam's rate decaying exponentially from <paramref name="start"/> to
    /// <paramref name="end"/> (§4.1.3).</summary>
    public PhaseResult FitSegmentation(InerrantTrainingSet set, Trainer trainer, int steps, double start, double end, string name = "segmentation")
    {
        phase = Phase.Segmentation;
        SetLearningRate(segmentationOptimizer, start);
        return trainer.Run(this, set.Batches(options.BatchSize, generator), name, steps,
            afterStep: step => SetLearningRate(segmentationOptimizer, Schedules.Exponential(step, steps, start, end)));
    }

    /// <summary>The first training on the partial labels: INERRANT⁰ with ambiguity maps, or the naive baseline with a
    /// set built without them.</summary>
    public PhaseResult FitInitial(InerrantTrainingSet set, Trainer trainer, string name = "segmentation") =>
        FitSegmentation(set, trainer, options.SegmentationSteps, options.LearningRate, options.FinalLearningRate, name);

    /// <summary>Trains the confidence network (eq. 3) on the current segmentation network's TCP over the annotated
    /// labels (pseudo-labels are not ground truth): its U-Net duplicate is first reset to the segmentation network's
    /// weights (§3.2.2). Returns the mean loss.</summary>
    public double FitConfidence(InerrantTrainingSet set, Trainer trainer, string name = "confidence") =>
        FitConfidenceCurve(set, trainer, name).Average();

    /// <summary><see cref="FitConfidence"/>, returning the loss of every step (the curve that shows whether it learned).</summary>
    public IReadOnlyList<double> FitConfidenceCurve(InerrantTrainingSet set, Trainer trainer, string name = "confidence")
    {
        if (options.ConfidenceSteps < 1) throw new InvalidOperationException("the learned confidence needs ConfidenceSteps ≥ 1");
        if (Confidence is null)
        {
            torch.manual_seed(options.Seed + 1);   // the head's initial weights, apart from the U-Net's
            Confidence = new ConfidenceNetwork(new UNet(1, Organs, options.Widths), Organs, options.ConfidenceHidden,
                options.ConfidenceLayers, options.FineTuneConfidenceBackbone);
            if (options.ConfidencePrior is { } prior) Confidence.SetOutputBias(Math.Log(prior / (1 - prior)));
        }
        Confidence.CopyBackboneFrom(Segmentation);
        confidenceOptimizer?.Dispose();
        var (start, end, steps) = (options.ConfidenceLearningRate, options.ConfidenceFinalLearningRate, options.ConfidenceSteps);
        confidenceOptimizer = optim.Adam(Confidence.TrainableParameters(), lr: start);
        phase = Phase.Confidence;
        using var lease = new TrainerLease(trainer);
        try
        {
            // the segmentation network only feeds the confidence network here: frozen, in eval mode
            Segmentation.InEvalMode(() => trainer.Run(this, set.Batches(options.BatchSize, confidenceGenerator, withPseudoLabels: false), name, steps,
                afterStep: step => SetLearningRate(confidenceOptimizer, Schedules.Exponential(step, steps, start, end))));
        }
        finally { phase = Phase.Segmentation; }
        return [.. lease.Steps().Select(r => r.Losses["confidence_mse"])];
    }

    /// <summary>Algorithm 2 for t = 1 … T: (learned measure) train the confidence network; rank each volume's
    /// candidates for every missing organ by the confidence; add the top γ_t as positives; fine-tune the segmentation
    /// network on the augmented set. <paramref name="afterSelection"/> sees the set and this model after each step's
    /// selection, before the fine-tuning (for figures).</summary>
    public IReadOnlyList<RelabelingRound> Relabel(InerrantTrainingSet set, Trainer trainer, ConfidenceMeasure measure,
        Action<int, InerrantTrainingSet>? afterSelection = null, Action<int>? afterFineTune = null)
    {
        var rounds = new List<RelabelingRound>();
        var steps = options.RelabelingSteps;
        for (var t = 1; t <= steps; t++)
        {
            var losses = measure == ConfidenceMeasure.Learned ? FitConfidenceCurve(set, trainer, $"confidence {t}/{steps}") : [];
            var gamma = Gamma(t, steps, options.GammaMax);
            var (mcp, learned, candidates) = SelectAndScore(set, measure, gamma);
            var (precision, recall, relabeled) = set.RelabelingQuality();
            afterSelection?.Invoke(t, set);
            FineTune(set, trainer, t);
            afterFineTune?.Invoke(t);
            rounds.Add(new RelabelingRound(t, gamma, relabeled, precision, recall, losses.Count > 0 ? losses.Average() : null, mcp, learned)
                { ConfidenceLosses = losses, Candidates = candidates });
        }
        return rounds;
    }

    /// <summary>The control for the relabeling variants: the same T fine-tuning phases (steps, schedule, batch order)
    /// on the partial labels alone, so that INERRANT⁰ trained this long is what relabeling must beat, not INERRANT⁰
    /// trained T × <see cref="InerrantOptions.FineTuneSteps"/> steps less.</summary>
    public void FineTuneWithoutRelabeling(InerrantTrainingSet set, Trainer trainer, Action<int>? afterFineTune = null)
    {
        for (var t = 1; t <= options.RelabelingSteps; t++)
        {
            FineTune(set, trainer, t);
            afterFineTune?.Invoke(t);
        }
    }

    /// <summary>The one-shot pseudo-label baseline (Bai et al. 2017, reference [2] of Petit et al. 2021, Table 5): every
    /// pixel predicted as a missing organ becomes a positive at once (γ = 1), then the same T fine-tuning phases.</summary>
    public IReadOnlyList<RelabelingRound> RelabelOnce(InerrantTrainingSet set, Trainer trainer, Action<int>? afterFineTune = null)
    {
        var rounds = new List<RelabelingRound>();
        for (var t = 1; t <= options.RelabelingSteps; t++)
        {
            var (mcp, _, candidates) = t == 1 ? SelectAndScore(set, ConfidenceMeasure.Mcp, 1.0) : (null, null, 0);
            var (precision, recall, relabeled) = set.RelabelingQuality();
            FineTune(set, trainer, t);
            afterFineTune?.Invoke(t);
            rounds.Add(new RelabelingRound(t, 1.0, relabeled, precision, recall, null, mcp, null) { Candidates = candidates });
        }
        return rounds;
    }

    private void FineTune(InerrantTrainingSet set, Trainer trainer, int t) =>
        FitSegmentation(set, trainer, options.FineTuneSteps, options.FineTuneLearningRate, options.FinalLearningRate, $"fine-tune {t}/{options.RelabelingSteps}");

    /// <summary>One selection over every volume with missing organs, and the failure-prediction quality of MCP (and of
    /// the learned confidence, when it is the measure) on the candidates not yet relabeled (Table 6).</summary>
    private (FailurePrediction? Mcp, FailurePrediction? Learned, int Candidates) SelectAndScore(InerrantTrainingSet set, ConfidenceMeasure measure, double gamma)
    {
        var correct = new List<bool>();
        var mcpScores = new List<double>();
        var learnedScores = new List<double>();
        var plane = set.Images.size(2) * set.Images.size(3);
        for (var v = 0; v < set.Data.Count; v++)
        {
            var missing = set.MissingOrgans(v);
            if (missing.Count == 0) continue;
            using var scope = torch.NewDisposeScope();
            var (first, count) = set.SlicesOf(v);
            var images = set.Images.narrow(0, first, count);
            var probabilities = Predict(images);
            var classes = ClassMap(probabilities);
            var mcp = MaximumClassProbability(probabilities);
            var learned = measure == ConfidenceMeasure.Learned ? PredictConfidence(images) : null;
            var known = set.Known.narrow(0, first, count);
            var relabeled = set.Relabeled.narrow(0, first, count);
            // Candidates for the failure-prediction scores: predicted as the missing organ, label unknown, not yet relabeled.
            var predicted = classes.data<long>().ToArray();
            var knownValues = known.data<byte>().ToArray();
            var relabeledValues = relabeled.data<byte>().ToArray();
            var mcpValues = mcp.data<float>().ToArray();
            var learnedValues = learned?.data<float>().ToArray();
            for (long d = 0; d < count; d++)
                for (long p = 0; p < plane; p++)
                    foreach (var organ in missing)
                    {
                        if (predicted[d * plane + p] != organ + 1) continue;
                        var at = (d * Organs + organ) * plane + p;
                        if (knownValues[at] != 0 || relabeledValues[at] != 0) continue;
                        correct.Add(set.Complete[(first + d) * plane + p] == organ + 1);
                        mcpScores.Add(mcpValues[at]);
                        if (learnedValues is not null) learnedScores.Add(learnedValues[at]);
                    }
            var selected = SelectPseudoLabels(classes, learned ?? mcp, known, missing, gamma);
            set.AddPseudoLabelsOf(first, selected);
        }
        var bothKinds = correct.Contains(true) && correct.Contains(false);
        return (bothKinds ? FailurePrediction.Compute(correct, mcpScores) : null,
            bothKinds && measure == ConfidenceMeasure.Learned ? FailurePrediction.Compute(correct, learnedScores) : null, correct.Count);
    }

    private static Tensor Chunked(Tensor inputs, Func<Tensor, Tensor> apply, int chunk = 64)
    {
        if (inputs.size(0) <= chunk) return apply(inputs);
        using var scope = torch.NewDisposeScope();
        var parts = new List<Tensor>();
        for (long start = 0; start < inputs.size(0); start += chunk)
            parts.Add(apply(inputs.narrow(0, start, Math.Min(chunk, inputs.size(0) - start))));
        return torch.cat(parts, 0).MoveToOuterDisposeScope();
    }

    private static void CheckMaps(Tensor maps, string name)
    {
        if (maps.dim() != 4) throw new ArgumentException($"{name} must be [N, K, H, W], got [{string.Join(", ", maps.shape)}]", name);
    }

    private static void SetLearningRate(optim.Optimizer optimizer, double rate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
    }

    public void Dispose()
    {
        segmentationOptimizer.Dispose();
        confidenceOptimizer?.Dispose();
        generator.Dispose();
        confidenceGenerator.Dispose();
        Confidence?.Dispose();
        Segmentation.Dispose();
    }
}

using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods;

/// <summary>Settings of CNN↔Transformer cross-teaching as SSL4MIS trains it (Luo et al. 2022; Singh et al., §Segmentation,
/// "Semi-supervised approach"; SSL4MIS train_cross_teaching_between_cnn_transformer_2D.py).</summary>
public sealed record CrossTeachingOptions
{
    /// <summary>Training steps T: the poly decay ends and λ(t) reaches its maximum there (SSL4MIS: 30 000 iterations).</summary>
    public int TotalSteps { get; init; } = 30_000;
    /// <summary>SGD learning rate, momentum and weight decay (SSL4MIS: 0.01, 0.9, 1e-4), decayed by poly 0.9 every step.</summary>
    public double LearningRate { get; init; } = 0.01;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 1e-4;
    public double PolyPower { get; init; } = 0.9;
    /// <summary>λ, the weight of the unsupervised term: 1 by default, S4MI's step (4) ("the final loss is the summation of
    /// unsupervised and supervised loss", Singh et al., §Segmentation). SSL4MIS's reference code uses 0.1 with
    /// <see cref="RampUp"/>: the ablation.</summary>
    public double MaxConsistencyWeight { get; init; } = 1.0;
    /// <summary>Whether λ ramps up as λ_max·exp(−5(1 − t/T)²) (SSL4MIS, Luo et al. 2022, §2) instead of staying at λ_max.</summary>
    public bool RampUp { get; init; }
    /// <summary>Classes of the masks (background included).</summary>
    public int Classes { get; init; } = 2;
}

/// <summary>Cross-teaching between a CNN and a Transformer (Luo et al. 2022, "Semi-supervised medical image segmentation
/// via cross teaching between CNN and Transformer", MIDL; the semi-supervised arm of Singh et al.'s S4MI, Fig. 3): a U-Net
/// and a Swin-UNet see the same batch; each learns ½(CE + Dice) from the labelled masks and, on the unlabelled images, the
/// Dice loss against the other network's hard prediction, weighted by λ (1 as S4MI's step (4) sums the losses; SSL4MIS's
/// 0.1·ramp with <see cref="CrossTeachingOptions.RampUp"/>). The two networks share one SGD optimizer:
/// SGD's update of each parameter depends on that parameter alone, so this equals SSL4MIS's two optimizers with the same
/// settings. <see cref="Predict"/> is the CNN's, the network SSL4MIS tests; <see cref="PredictTransformer"/> the
/// Swin-UNet's, the network Singh et al. report (Fig. 5, "Semi").</summary>
public sealed class CrossTeaching : ITrainingMethod<SegmentationBatch>, IDisposable
{
    private readonly CrossTeachingOptions options;
    private readonly optim.Optimizer optimizer;
    private int step;

    /// <param name="cnn">the CNN U-Net (build it outside any dispose scope)</param>
    /// <param name="transformer">the Transformer U-Net</param>
    public CrossTeaching(UNet cnn, SwinUNet transformer, CrossTeachingOptions? options = null)
    {
        this.options = options ?? new CrossTeachingOptions();
        Cnn = cnn;
        Transformer = transformer;
        optimizer = optim.SGD(cnn.parameters().Concat(transformer.parameters()), this.options.LearningRate,
            momentum: this.options.Momentum, weight_decay: this.options.WeightDecay);
    }

    public UNet Cnn { get; }
    public SwinUNet Transformer { get; }
    public int Step => step;
    public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["cnn"] = Cnn, ["transformer"] = Transformer };
    public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["sgd"] = optimizer };

    // ---- the paper's equations ------------------------------------------------------------

    /// <summary>The Dice loss on softmax probabilities as SSL4MIS's losses.DiceLoss computes it (the DICE of Singh et al.,
    /// §Segmentation, eqs. (1) and (3)): per class k, 1 − (2Σ p_k·y_k + ε) / (Σ p_k² + Σ y_k² + ε), sums over every pixel of
    /// the batch, ε = 1e-5, averaged over the classes. <paramref name="probabilities"/> [B, K, H, W], <paramref name="target"/>
    /// class indices [B, H, W].</summary>
    public static Tensor DiceLoss(Tensor probabilities, Tensor target, double smooth = 1e-5)
    {
        CheckShapes(probabilities, target);
        using var scope = NewDisposeScope();
        var classes = probabilities.size(1);
        var onehot = nn.functional.one_hot(target, classes).permute(0, 3, 1, 2).to(probabilities.dtype);
        long[] pixels = [0, 2, 3];
        var intersect = (probabilities * onehot).sum(pixels);
        var predicted = probabilities.pow(2).sum(pixels);
        var reference = onehot.pow(2).sum(pixels);
        var dice = (2 * intersect + smooth) / (predicted + reference + smooth);
        return (1 - dice).mean().MoveToOuterDisposeScope();
    }

    /// <summary>Pixel-wise cross-entropy of logits [B, K, H, W] against class indices [B, H, W], averaged over pixels.</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target)
    {
        CheckShapes(logits, target);
        return nn.functional.cross_entropy(logits, target);
    }

    /// <summary>L_supervised = ½[DICE(pred, L) + CrossEntropy(pred, L)] (Singh et al., §Segmentation, eq. (1)).</summary>
    public static Tensor SupervisedLoss(Tensor logits, Tensor target)
    {
        using var scope = NewDisposeScope();
        return (0.5 * (DiceLoss(logits.softmax(1), target) + CrossEntropy(logits, target))).MoveToOuterDisposeScope();
    }

    /// <summary>L_unsupervised = DICE(pred, argmax(pred_other)) (Singh et al., §Segmentation, eqs. (2)–(3); Luo et al. 2022,
    /// eq. 3): the other network's hard prediction is the pseudo-label, with no gradient through it.</summary>
    public static Tensor CrossTeachingLoss(Tensor logits, Tensor otherLogits)
    {
        using var scope = NewDisposeScope();
        Tensor pseudo;
        using (torch.no_grad()) pseudo = otherLogits.detach().argmax(1);
        return DiceLoss(logits.softmax(1), pseudo).MoveToOuterDisposeScope();
    }

    /// <summary>λ(t) = λ_max·exp(−5(1 − t/T)²), λ_max·1 after T (Luo et al. 2022, §2; SSL4MIS's sigmoid ramp-up). SSL4MIS
    /// counts t in units of 150 iterations with T = 200, i.e. the ramp ends at its 30 000th and last iteration; here t and T
    /// are steps and T is the run's total steps, the same shape over any length of training.</summary>
    public static double ConsistencyWeight(int step, int totalSteps, double max = 0.1) => max * Schedules.SigmoidRampUp(step, totalSteps);

    /// <summary>λ at a step under these options: λ_max throughout, or <see cref="ConsistencyWeight"/>'s ramp.</summary>
    public static double Lambda(CrossTeachingOptions options, int step) =>
        options.RampUp ? ConsistencyWeight(step, options.TotalSteps, options.MaxConsistencyWeight) : options.MaxConsistencyWeight;

    // ---- the method ------------------------------------------------------------------------

    /// <summary>One step on both networks: each sees the labelled and unlabelled images in one forward pass (as SSL4MIS
    /// concatenates them), loss = Σ over the two networks of L_supervised + λ·L_unsupervised; then the poly decay.</summary>
    public LossTerms TrainStep(SegmentationBatch batch)
    {
        var labelled = batch.Labelled.size(0);
        var hasUnlabelled = batch.Unlabelled.size(0) > 0;
        var lambda = Lambda(options, step);
        double cnnSupervised = 0, transformerSupervised = 0, cnnCross = 0, transformerCross = 0;
        var total = optimizer.Minimize(() =>
        {
            var inputs = hasUnlabelled ? torch.cat([batch.Labelled, batch.Unlabelled]) : batch.Labelled;
            var cnnLogits = Cnn.call(inputs);
            var transformerLogits = Transformer.call(inputs);
            var supervised1 = SupervisedLoss(cnnLogits[..(int)labelled], batch.Masks);
            var supervised2 = SupervisedLoss(transformerLogits[..(int)labelled], batch.Masks);
            cnnSupervised = supervised1.ToDouble();
            transformerSupervised = supervised2.ToDouble();
            var loss = supervised1 + supervised2;
            if (hasUnlabelled)
            {
                var cross1 = CrossTeachingLoss(cnnLogits[(int)labelled..], transformerLogits[(int)labelled..]);
                var cross2 = CrossTeachingLoss(transformerLogits[(int)labelled..], cnnLogits[(int)labelled..]);
                cnnCross = cross1.ToDouble();
                transformerCross = cross2.ToDouble();
                loss = loss + lambda * (cross1 + cross2);
            }
            return loss;
        });
        step++;
        SetLearningRate(Schedules.Poly(Math.Min(step, options.TotalSteps), options.TotalSteps, options.LearningRate, options.PolyPower));
        return new LossTerms(("total", total), ("cnn_supervised", cnnSupervised), ("transformer_supervised", transformerSupervised),
            ("cnn_cross", cnnCross), ("transformer_cross", transformerCross), ("lambda", lambda));
    }

    /// <summary>The CNN's class probabilities [N, K, H, W], in eval mode without gradients.</summary>
    public Tensor Predict(Tensor inputs) => Segmenters.Probabilities(Cnn, inputs);

    /// <summary>The Transformer's class probabilities, for comparison.</summary>
    public Tensor PredictTransformer(Tensor inputs) => Segmenters.Probabilities(Transformer, inputs);

    private void SetLearningRate(double rate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
    }

    internal static void CheckShapes(Tensor maps, Tensor target)
    {
        if (maps.dim() != 4 || target.dim() != 3 || maps.size(0) != target.size(0) || maps.size(2) != target.size(1) || maps.size(3) != target.size(2))
            throw new ArgumentException($"segmentation losses take maps [B, K, H, W] and class indices [B, H, W], got [{string.Join(", ", maps.shape)}] and [{string.Join(", ", target.shape)}]");
        if (target.dtype != ScalarType.Int64) throw new ArgumentException($"class indices must be int64, got {target.dtype}", nameof(target));
    }

    public void Dispose()
    {
        optimizer.Dispose();
        Cnn.Dispose();
        Transformer.Dispose();
    }
}

/// <summary>Prediction of a segmentation network, shared by the segmentation methods.</summary>
public static class Segmenters
{
    /// <summary>Softmax class probabilities [N, K, H, W] of <paramref name="network"/>, in eval mode without gradients.</summary>
    public static Tensor Probabilities(nn.Module<Tensor, Tensor> network, Tensor inputs) => network.Evaluate(() =>
    {
        using var logits = network.call(inputs);
        return logits.softmax(1);
    });
}

using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Data.Sampling;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods;

/// <summary>The models of Haque et al. (2021, §3.2, Tables 2–3): single-task baselines, the multi-task U-Net and its
/// ablations, and MultiMix — all on the same backbone (<see cref="MultiMixNet"/>).</summary>
public enum MultiMixModel
{
    /// <summary>Segmentation only, Dice loss on the labelled masks.</summary>
    UNet,
    /// <summary>Classification only, cross-entropy on the labelled images.</summary>
    Enc,
    /// <summary>Classification with eq. 1's confidence-based unlabelled term.</summary>
    EncSsl,
    /// <summary>Both heads, supervised terms only.</summary>
    Umtl,
    /// <summary>UMTL with the saliency bridge.</summary>
    UmtlS,
    /// <summary>UMTL with the semi-supervised terms (eq. 1's unlabelled term and eq. 2's KL), no bridge.</summary>
    UmtlSsl,
    /// <summary>Everything: both heads, both semi-supervised terms, the saliency bridge.</summary>
    MultiMix,
}

/// <summary>Settings of MultiMix (Haque et al. 2021, §3.2 "Hyper-parameters"; the reference code's choices from
/// ayaanzhaque/MultiMix where the paper is silent).</summary>
public sealed record MultiMixOptions
{
    /// <summary>Confidence threshold t of the pseudo-labels (eq. 1; §3.2: 0.7).</summary>
    public double Threshold { get; init; } = 0.7;
    /// <summary>λ, the weight of the unlabelled classification term (eq. 1; §3.2: 0.25).</summary>
    public double UnlabelledWeight { get; init; } = 0.25;
    /// <summary>α, the weight of the Dice loss (eq. 2; §3.2: 5 for the smaller |D_l^s|).</summary>
    public double DiceWeight { get; init; } = 5;
    /// <summary>β, the weight of the segmentation KL term (eq. 2; §3.2: 0.01).</summary>
    public double KlWeight { get; init; } = 0.01;
    /// <summary>Adam's initial learning rate (§3.2: 1e-4).</summary>
    public double LearningRate { get; init; } = 1e-4;
    /// <summary>Steps between learning-rate decays by <see cref="DecayFactor"/> (the reference code's StepLR(8, 0.1)
    /// decays every 8 epochs; 800 steps are 8 passes over 1000 labelled images in batches of 10).</summary>
    public int DecayEvery { get; init; } = 800;
    public double DecayFactor { get; init; } = 0.1;
    /// <summary>m, the mini-batch size of each of Algorithm 1's four streams (§3.2: 10).</summary>
    public int BatchSize { get; init; } = 10;

    /// <summary>Train the classification branch (eq. 1's labelled term).</summary>
    public bool Classification { get; init; } = true;
    /// <summary>Train the segmentation branch (eq. 2's Dice term).</summary>
    public bool Segmentation { get; init; } = true;
    /// <summary>Add the unlabelled terms: eq. 1's pseudo-label cross-entropy and, with segmentation, eq. 2's KL.</summary>
    public bool SemiSupervised { get; init; } = true;
    /// <summary>Feed the saliency map into the decoder (§2.3, eq. 3–4).</summary>
    public bool SaliencyBridge { get; init; } = true;

    /// <summary>WAug: horizontal flip and a random shift with mirrored borders (§3.2's flip and crop).</summary>
    public IAugmentation Weak { get; init; } = new WeakAugment();
    /// <summary>GAug: RandAugment(2, 10) over flip-free operations, without Cutout, as the reference code (ayaanzhaque/MultiMix, MultiMix.py: RandAugmentMC(2, 10)).</summary>
    public IAugmentation Strong { get; init; } = new RandAugment { CutoutFraction = 0 };
    public int Seed { get; init; }

    /// <summary>The switches of one model of §3.2 (everything else as in this record).</summary>
    public MultiMixOptions For(MultiMixModel model) => model switch
    {
        MultiMixModel.UNet => this with { Classification = false, Segmentation = true, SemiSupervised = false, SaliencyBridge = false },
        MultiMixModel.Enc => this with { Classification = true, Segmentation = false, SemiSupervised = false, SaliencyBridge = false },
        MultiMixModel.EncSsl => this with { Classification = true, Segmentation = false, SemiSupervised = true, SaliencyBridge = false },
        MultiMixModel.Umtl => this with { Classification = true, Segmentation = true, SemiSupervised = false, SaliencyBridge = false },
        MultiMixModel.UmtlS => this with { Classification = true, Segmentation = true, SemiSupervised = false, SaliencyBridge = true },
        MultiMixModel.UmtlSsl => this with { Classification = true, Segmentation = true, SemiSupervised = true, SaliencyBridge = false },
        MultiMixModel.MultiMix => this with { Classification = true, Segmentation = true, SemiSupervised = true, SaliencyBridge = true },
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, "unknown MultiMix model"),
    };

    /// <summary>The backbone these switches need.</summary>
    public MultiMixNetOptions Network(IReadOnlyList<int> widths) => new()
    {
        Widths = widths,
        ClassificationHead = Classification,
        SegmentationHead = Segmentation,
        SaliencyBridge = SaliencyBridge,
    };
}

/// <summary>One step of Algorithm 1 (Haque et al. 2021): labelled classification images with their classes, unlabelled
/// classification images in a weak and a strong view, labelled segmentation images with their lung masks [N, 1, H, W]
/// (0/1), and unlabelled segmentation images. A stream a model does not use is null.</summary>
public sealed record MultiMixBatch(Tensor? Labelled, Tensor? Labels, Tensor? UnlabelledWeak, Tensor? UnlabelledStrong,
    Tensor? SegmentationLabelled, Tensor? Masks, Tensor? SegmentationUnlabelled);

/// <summary>Eq. 1's terms: the labelled cross-entropy, the masked unlabelled cross-entropy, the fraction of unlabelled
/// images whose pseudo-label passed t, and L^c = supervised + λ·unlabelled.</summary>
public sealed record ClassificationTerms(Tensor Supervised, Tensor Unlabelled, Tensor MaskRate, Tensor Total);

/// <summary>Eq. 2's terms: the Dice loss, the KL term, and L^s = α·Dice + β·KL.</summary>
public sealed record SegmentationTerms(Tensor Dice, Tensor Kl, Tensor Total);

/// <summary>MultiMix (Haque et al. 2021): one network trained jointly on semi-supervised classification (eq. 1,
/// FixMatch-style pseudo-labels) and semi-supervised segmentation (eq. 2), with the classification branch's saliency
/// map bridged into the decoder (eq. 3–4); the total loss is eq. 5. With switches off (<see cref="MultiMixOptions.For"/>)
/// it is each baseline and ablation of §3.2. The method owns its network and its Adam optimizer.</summary>
public sealed class MultiMix : ITrainingMethod<MultiMixBatch>, IDisposable
{
    private readonly optim.Optimizer optimizer;
    private readonly Generator generator;
    private int steps;

    /// <param name="network">built outside any dispose scope, with the heads and bridge the options switch on</param>
    public MultiMix(MultiMixNet network, MultiMixOptions? options = null)
    {
        Options = options ?? new MultiMixOptions();
        var o = network.Options;
        if (o.ClassificationHead != Options.Classification || o.SegmentationHead != Options.Segmentation || o.SaliencyBridge != Options.SaliencyBridge)
            throw new ArgumentException("the network's heads and bridge must match the options' switches (build it from MultiMixOptions.Network)", nameof(network));
        Network = network;
        optimizer = optim.Adam(network.parameters(), lr: Options.LearningRate);
        generator = new Data.SeededRandom(Options.Seed).TorchGenerator();
    }

    public MultiMixOptions Options { get; }
    public MultiMixNet Network { get; }
    public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["network"] = Network };
    public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["adam"] = optimizer };

    // ---- the paper's equations ------------------------------------------------------------

    /// <summary>Eq. 1's unlabelled term L_u(c_p, ĉ_g) (Haque et al. 2021, §2.1, after Sohn et al. 2020, eq. 4): the mean over
    /// the unlabelled images of CE(ĉ_g, c_p)·1[max softmax(ĉ_w) ≥ t], with the pseudo-label c_p = argmax softmax(ĉ_w) of the
    /// weak view (no gradient through it) and ĉ_g the logits of the strong view. Averaged over all images, masked or not.</summary>
    public static Tensor UnlabelledClassificationLoss(Tensor strongLogits, Tensor weakLogits, double threshold)
    {
        using var scope = torch.NewDisposeScope();
        var probabilities = nn.functional.softmax(weakLogits.detach(), 1);
        var mask = PseudoLabels.ConfidenceMask(probabilities, threshold);
        var perImage = nn.functional.cross_entropy(strongLogits, PseudoLabels.Hard(probabilities), reduction: nn.Reduction.None);
        return (perImage * mask).mean().MoveToOuterDisposeScope();
    }

    /// <summary>Eq. 1 (Haque et al. 2021, §2.1): L^c = L_l(c_l, ĉ_l) + λ·L_u(c_p, ĉ_g), L_l the cross-entropy on the labelled
    /// images. Without unlabelled logits (a supervised model, or no unlabelled images) L_u and the mask rate are 0.</summary>
    public static ClassificationTerms ClassificationObjective(Tensor labelledLogits, Tensor labels, Tensor? weakLogits, Tensor? strongLogits,
        double threshold, double unlabelledWeight)
    {
        var supervised = nn.functional.cross_entropy(labelledLogits, labels);
        if (weakLogits is null || strongLogits is null)
            return new ClassificationTerms(supervised, torch.zeros([], supervised.dtype), torch.zeros([], supervised.dtype), supervised);
        var unlabelled = UnlabelledClassificationLoss(strongLogits, weakLogits, threshold);
        Tensor maskRate;
        using (torch.no_grad()) maskRate = PseudoLabels.ConfidenceMask(nn.functional.softmax(weakLogits, 1), threshold).mean().to(supervised.dtype);
        return new ClassificationTerms(supervised, unlabelled, maskRate, supervised + unlabelledWeight * unlabelled);
    }

    /// <summary>Eq. 2's labelled term L_l(s_l, ŝ_l) (Haque et al. 2021, §2.2): the soft Dice loss
    /// 1 − (2 Σ p·s + 1) / (Σ p + Σ s + 1) over all pixels of the batch, p = sigmoid(mask logits), smoothing 1.</summary>
    public static Tensor DiceLoss(Tensor maskLogits, Tensor masks)
    {
        if (!maskLogits.shape.SequenceEqual(masks.shape))
            throw new ArgumentException($"mask logits are [{string.Join(", ", maskLogits.shape)}] but the masks [{string.Join(", ", masks.shape)}]");
        using var scope = torch.NewDisposeScope();
        var p = torch.sigmoid(maskLogits);
        return (1 - (2 * (p * masks).sum() + 1) / (p.sum() + masks.sum() + 1)).MoveToOuterDisposeScope();
    }

    /// <summary>Eq. 2's unlabelled term L_u(ŝ_l, ŝ_u) (Haque et al. 2021, §2.2), defined so that it is not identically 0
    /// (the reference code's softmax over a single channel is 1 everywhere, so its KL is always 0). Each pixel j of a
    /// predicted mask is a two-class distribution (lung σ(z_j), background 1 − σ(z_j)). Labelled and unlabelled images
    /// are different images, so they are compared as populations: the batch-mean lung probability at each pixel,
    /// p̄_l(j) = mean_i σ(z^l_ij) and p̄_u(j) = mean_i σ(z^u_ij), and the KL divergence of the two Bernoulli
    /// distributions averaged over the pixels:
    /// (1/HW) Σ_j [p̄_l log(p̄_l / p̄_u) + (1 − p̄_l) log((1 − p̄_l) / (1 − p̄_u))], with probabilities clamped to
    /// [1e-6, 1 − 1e-6]. It is 0 exactly when the mean predicted masks agree and differentiable in both arguments.</summary>
    public static Tensor SegmentationKl(Tensor labelledLogits, Tensor unlabelledLogits)
    {
        if (!labelledLogits.shape.Skip(1).SequenceEqual(unlabelledLogits.shape.Skip(1)))
            throw new ArgumentException($"labelled mask logits are [{string.Join(", ", labelledLogits.shape)}] but unlabelled ones [{string.Join(", ", unlabelledLogits.shape)}]: images must have the same size");
        using var scope = torch.NewDisposeScope();
        const double eps = 1e-6;
        var pl = torch.sigmoid(labelledLogits).mean([0L]).clamp(eps, 1 - eps);
        var pu = torch.sigmoid(unlabelledLogits).mean([0L]).clamp(eps, 1 - eps);
        var kl = pl * (pl.log() - pu.log()) + (1 - pl) * ((1 - pl).log() - (1 - pu).log());
        return kl.mean().MoveToOuterDisposeScope();
    }

    /// <summary>Eq. 2 (Haque et al. 2021, §2.2): L^s = α·L_l(s_l, ŝ_l) + β·L_u(ŝ_l, ŝ_u), with <see cref="DiceLoss"/> and
    /// <see cref="SegmentationKl"/>. The labelled predictions are the reference the unlabelled ones are pulled towards
    /// ("penalizes the model for making predictions that increasingly differ from those of the labeled data"), so the
    /// KL term's gradient flows into the unlabelled predictions only. Without unlabelled logits the KL term is 0.</summary>
    public static SegmentationTerms SegmentationObjective(Tensor labelledLogits, Tensor masks, Tensor? unlabelledLogits,
        double diceWeight, double klWeight)
    {
        var dice = DiceLoss(labelledLogits, masks);
        var kl = unlabelledLogits is null ? torch.zeros([], dice.dtype) : SegmentationKl(labelledLogits.detach(), unlabelledLogits);
        return new SegmentationTerms(dice, kl, diceWeight * dice + klWeight * kl);
    }

    // ---- the method ------------------------------------------------------------------------

    /// <summary>Eq. 5 on one batch of Algorithm 1: L = L^c + L^s (each a batch mean), one Adam step, then the StepLR
    /// schedule. Returns cls_sup, cls_unsup, seg_dice, seg_kl, total and mask_rate (the weighted total; unused terms 0).</summary>
    public LossTerms TrainStep(MultiMixBatch batch)
    {
        double clsSup = 0, clsUnsup = 0, maskRate = 0, segDice = 0, segKl = 0;
        var total = optimizer.Minimize(() =>
        {
            var loss = torch.zeros([]);
            // Instance norm and dropout act on each image alone, so one pass over the concatenated streams of a branch
            // gives the same logits as a pass per stream, with a third of the operator calls.
            if (Options.Classification)
            {
                var labelled = Require(batch.Labelled, "labelled classification images");
                var unlabelled = Options.SemiSupervised ? batch.UnlabelledWeak : null;
                var logits = Network.Classify(unlabelled is null ? labelled
                    : torch.cat([labelled, unlabelled, Require(batch.UnlabelledStrong, "the strong view of the unlabelled images")]));
                var (n, u) = (labelled.size(0), unlabelled?.size(0) ?? 0);
                var c = ClassificationObjective(logits.narrow(0, 0, n), Require(batch.Labels, "classes"),
                    u == 0 ? null : logits.narrow(0, n, u), u == 0 ? null : logits.narrow(0, n + u, u), Options.Threshold, Options.UnlabelledWeight);
                (clsSup, clsUnsup, maskRate) = (c.Supervised.ToDouble(), c.Unlabelled.ToDouble(), c.MaskRate.ToDouble());
                loss = loss + c.Total;
            }
            if (Options.Segmentation)
            {
                var labelled = Require(batch.SegmentationLabelled, "labelled segmentation images");
                var unlabelled = Options.SemiSupervised ? batch.SegmentationUnlabelled : null;
                var logits = SegmentLogits(unlabelled is null ? labelled : torch.cat([labelled, unlabelled]));
                var (n, u) = (labelled.size(0), unlabelled?.size(0) ?? 0);
                var s = SegmentationObjective(logits.narrow(0, 0, n), Require(batch.Masks, "masks"), u == 0 ? null : logits.narrow(0, n, u),
                    Options.DiceWeight, Options.KlWeight);
                (segDice, segKl) = (s.Dice.ToDouble(), s.Kl.ToDouble());
                loss = loss + s.Total;
            }
            return loss;
        });
        steps++;
        foreach (var group in optimizer.ParamGroups) group.LearningRate = Schedules.Step(steps, Options.DecayEvery, Options.LearningRate, Options.DecayFactor);
        return new LossTerms(("cls_sup", clsSup), ("cls_unsup", clsUnsup), ("seg_dice", segDice), ("seg_kl", segKl), ("total", total), ("mask_rate", maskRate));
    }

    /// <summary>Class probabilities [N, classes], in eval mode without gradients.</summary>
    public Tensor Predict(Tensor inputs) => Network.Evaluate(() => nn.functional.softmax(Network.Classify(inputs), 1));

    /// <summary>Lung probabilities [N, 1, H, W] (through the saliency bridge when the network has one), in eval mode.</summary>
    public Tensor PredictMasks(Tensor inputs) => Network.Evaluate(() => torch.sigmoid(SegmentLogits(inputs)));

    /// <summary>Eq. 1's pseudo-labels on the <paramref name="unlabelled"/> images of <paramref name="data"/> (no
    /// augmentation, eval mode): the share whose confidence reaches t, and the accuracy of those against the images'
    /// classes (NaN where none does, no image is unlabelled, or one of them lacks a single class to check against).</summary>
    public (double Rate, double Accuracy) PseudoLabelOutcomes(ImageDataset data, IReadOnlyList<int> unlabelled)
    {
        if (unlabelled.Count == 0) return (double.NaN, double.NaN);
        using var scope = torch.NewDisposeScope();
        var p = Predict(data.Batch(unlabelled).Images);
        var confident = PseudoLabels.ConfidenceMask(p, Options.Threshold).data<float>().ToArray();
        var predicted = PseudoLabels.Hard(p).data<long>().ToArray();
        var passed = unlabelled.Select((i, k) => (Index: i, Predicted: predicted[k])).Where((_, k) => confident[k] > 0).ToList();
        var known = passed.All(x => data.SingleClass(x.Index) is not null);
        return (passed.Count / (double)unlabelled.Count,
            passed.Count == 0 || !known ? double.NaN : passed.Count(x => x.Predicted == data.SingleClass(x.Index)) / (double)passed.Count);
    }

    /// <summary>Saliency maps (eq. 3) of the predicted class, or of <paramref name="targetClass"/>.</summary>
    public Tensor Saliency(Tensor inputs, int? targetClass = null) => Network.Saliency(inputs, targetClass);

    /// <summary>Endless batches of Algorithm 1 from four pools of indices: classification images whose classes the model
    /// sees (<paramref name="classification"/>, single-label) and those it sees without, segmentation images whose lung
    /// masks it sees (<paramref name="segmentation"/>, two classes: background and the organ) and those it sees without.
    /// Each pool is an <see cref="IndexCycle"/>; labelled classification images get the weak view, unlabelled ones both
    /// views (drawn from the method's generator); segmentation images are not augmented (their masks would have to follow).</summary>
    public IEnumerable<MultiMixBatch> Batches(ImageDataset classification, IReadOnlyList<int> labelledClasses, IReadOnlyList<int> unlabelledClasses,
        SegmentationDataset segmentation, IReadOnlyList<int> labelledMasks, IReadOnlyList<int> unlabelledMasks)
    {
        var o = Options;
        IndexCycle? Cycle(int count, ulong side, bool used) => used && count > 0 ? new IndexCycle(count, o.Seed, side, 4) : null;
        var cls = Cycle(labelledClasses.Count, 0, o.Classification);
        var clsU = Cycle(unlabelledClasses.Count, 1, o.Classification && o.SemiSupervised);
        var seg = Cycle(labelledMasks.Count, 2, o.Segmentation);
        var segU = Cycle(unlabelledMasks.Count, 3, o.Segmentation && o.SemiSupervised);
        if (o.Classification && cls is null) throw new ArgumentException("classification needs at least one labelled image", nameof(labelledClasses));
        if (o.Segmentation && seg is null) throw new ArgumentException("segmentation needs at least one labelled mask", nameof(labelledMasks));
        // Only the labelled images' classes are read: the unlabelled ones may carry none.
        var classes = o.Classification ? labelledClasses.Distinct().ToDictionary(i => i, i => (long)(classification.SingleClass(i)
            ?? throw new ArgumentException($"labelled image {i} ({classification.ExamId(i)}) does not have exactly one label: MultiMix's classifier is single-label",
                nameof(labelledClasses)))) : new Dictionary<int, long>();
        int[] Pick(IndexCycle cycle, IReadOnlyList<int> pool) => [.. cycle.Take(o.BatchSize).Select(k => pool[k])];
        while (true)
        {
            Tensor? x = null, y = null, weak = null, strong = null, xs = null, masks = null, xu = null;
            if (cls is not null)
            {
                var picked = Pick(cls, labelledClasses);
                x = o.Weak.Apply(classification.Batch(picked).Images, generator);
                y = torch.tensor(picked.Select(i => classes[i]).ToArray());
            }
            if (clsU is not null)
            {
                var images = classification.Batch(Pick(clsU, unlabelledClasses)).Images;
                (weak, strong) = (o.Weak.Apply(images, generator), o.Strong.Apply(images, generator));
            }
            if (seg is not null)
            {
                var picked = Pick(seg, labelledMasks);
                (xs, masks) = (segmentation.ImageBatch(picked), segmentation.MaskBatch(picked).unsqueeze(1).to(ScalarType.Float32));
            }
            if (segU is not null) xu = segmentation.ImageBatch(Pick(segU, unlabelledMasks));
            yield return new MultiMixBatch(x, y, weak, strong, xs, masks, xu);
        }
    }

    private Tensor SegmentLogits(Tensor images) => Network.Segment(images, Options.SaliencyBridge ? Network.Saliency(images) : null);

    private static Tensor Require(Tensor? tensor, string what) =>
        tensor ?? throw new ArgumentException($"this MultiMix model needs {what} in every batch");

    public void Dispose()
    {
        optimizer.Dispose();
        generator.Dispose();
        Network.Dispose();
    }
}

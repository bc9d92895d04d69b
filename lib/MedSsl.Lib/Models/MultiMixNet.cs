using MedSsl.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedSsl.Models;

/// <summary>Which parts of <see cref="MultiMixNet"/> exist, so that every baseline and ablation of Haque et al.
/// (2021, §3.2) is the same backbone with pieces switched off.</summary>
public sealed record MultiMixNetOptions
{
    /// <summary>Channels of the encoder's blocks, one block per entry; a max-pool sits between blocks. The paper
    /// (Table 4) has 16-32-64-128-256 for 256 × 256 images; 8-16-32-64 suits 32 × 32 images on two cores.</summary>
    public IReadOnlyList<int> Widths { get; init; } = [16, 32, 64, 128];
    public int InputChannels { get; init; } = 1;
    public int Classes { get; init; } = 2;
    /// <summary>The classification branch: global max pooling of the bottleneck and a linear layer.</summary>
    public bool ClassificationHead { get; init; } = true;
    /// <summary>The segmentation branch: the decoder with skip connections (Table 5).</summary>
    public bool SegmentationHead { get; init; } = true;
    /// <summary>The saliency bridge (§2.3, eq. 4): the input and its saliency map enter the first decoder stage.</summary>
    public bool SaliencyBridge { get; init; } = true;
    public double Dropout { get; init; } = 0.25;
    public double NegativeSlope { get; init; } = 0.2;
}

/// <summary>MultiMix's network (Haque et al. 2021, §2, Appendix A, Tables 4–5): an encoder of double-convolution
/// blocks (conv 3×3 → instance norm → LeakyReLU 0.2, twice, then dropout 0.25) with max-pooling between blocks; a
/// classification branch on the bottleneck (global max pooling → linear: after instance norm every channel's spatial
/// mean is fixed, so an average keeps little of a local opacity, while the paper's head max-pools before averaging);
/// and a decoder whose stages upsample
/// (bilinear ×2), concatenate the encoder's skip and run a double-convolution block, then a 1×1 convolution to one
/// mask logit per pixel. With the saliency bridge, the first decoder stage also gets the input concatenated with its
/// saliency map (eq. 4), bilinearly downsampled to that stage's resolution (Table 5's 386 = 256 + 128 + 2 channels).</summary>
public sealed class MultiMixNet : nn.Module
{
    private readonly ModuleList<DoubleConvolution> encoder = new();
    private readonly ModuleList<DoubleConvolution> decoder = new();
    private readonly Linear? classifier;
    private readonly Conv2d? output;

    public MultiMixNet(MultiMixNetOptions? options = null) : base(nameof(MultiMixNet))
    {
        Options = options ?? new MultiMixNetOptions();
        var o = Options;
        if (o.Widths.Count < 2) throw new ArgumentException("MultiMixNet needs at least two encoder blocks", nameof(options));
        if (!o.ClassificationHead && !o.SegmentationHead) throw new ArgumentException("MultiMixNet needs at least one head", nameof(options));
        if (o.SaliencyBridge && !(o.ClassificationHead && o.SegmentationHead))
            throw new ArgumentException("the saliency bridge joins the classification and segmentation branches: it needs both heads", nameof(options));
        for (var k = 0; k < o.Widths.Count; k++)
            encoder.Add(new DoubleConvolution(k == 0 ? o.InputChannels : o.Widths[k - 1], o.Widths[k], o.Dropout, o.NegativeSlope));
        if (o.ClassificationHead) classifier = nn.Linear(o.Widths[^1], o.Classes);
        if (o.SegmentationHead)
        {
            for (var k = o.Widths.Count - 1; k > 0; k--)
            {
                var bridge = k == o.Widths.Count - 1 && o.SaliencyBridge ? 2 * o.InputChannels : 0;
                decoder.Add(new DoubleConvolution(o.Widths[k] + o.Widths[k - 1] + bridge, o.Widths[k - 1], o.Dropout, o.NegativeSlope));
            }
            output = nn.Conv2d(o.Widths[0], 1, 1);
        }
        RegisterComponents();
    }

    public MultiMixNetOptions Options { get; }

    /// <summary>How many times the encoder halves the resolution: images need sides divisible by 2^this.</summary>
    public int Downsamplings => Options.Widths.Count - 1;

    /// <summary>The encoder: the bottleneck features and the skip features of every block before it (largest first).</summary>
    public (Tensor Bottleneck, IReadOnlyList<Tensor> Skips) Encode(Tensor x)
    {
        CheckInput(x);
        var skips = new List<Tensor>();
        for (var k = 0; k < encoder.Count; k++)
        {
            x = encoder[k].call(x);
            if (k < encoder.Count - 1)
            {
                skips.Add(x);
                x = nn.functional.max_pool2d(x, 2);
            }
        }
        return (x, skips);
    }

    /// <summary>The classification branch on bottleneck features: class logits [N, classes].</summary>
    public Tensor ClassifyFeatures(Tensor bottleneck) =>
        (classifier ?? throw new InvalidOperationException("this MultiMixNet has no classification head")).call(bottleneck.amax([2L, 3L]));

    /// <summary>Class logits [N, classes] of images [N, C, H, W].</summary>
    public Tensor Classify(Tensor x) => ClassifyFeatures(Encode(x).Bottleneck);

    /// <summary>Mask logits [N, 1, H, W]. <paramref name="saliency"/> [N, C, H, W] is required with the bridge and
    /// refused without it.</summary>
    public Tensor Segment(Tensor x, Tensor? saliency = null)
    {
        if (output is null) throw new InvalidOperationException("this MultiMixNet has no segmentation head");
        if (Options.SaliencyBridge != saliency is not null)
            throw new ArgumentException(Options.SaliencyBridge ? "this MultiMixNet has a saliency bridge: pass the saliency map" : "this MultiMixNet has no saliency bridge: pass no saliency map", nameof(saliency));
        if (saliency is not null && !saliency.shape.SequenceEqual(x.shape))
            throw new ArgumentException($"the saliency map is [{string.Join(", ", saliency.shape)}] but the images [{string.Join(", ", x.shape)}]", nameof(saliency));
        var (z, skips) = Encode(x);
        for (var k = 0; k < decoder.Count; k++)
        {
            var skip = skips[^(k + 1)];
            var parts = new List<Tensor> { Upsample(z, skip.size(2), skip.size(3)), skip };
            if (k == 0 && saliency is not null) parts.Add(Bridge(x, saliency, skip.size(2), skip.size(3)));
            z = decoder[k].call(torch.cat(parts, 1));
        }
        return output.call(z);
    }

    /// <summary>Eq. 4 of Haque et al. (2021): b = y ⊕ x, the saliency map concatenated with the input along the
    /// channels, bilinearly resized to (<paramref name="height"/>, <paramref name="width"/>).</summary>
    public static Tensor Bridge(Tensor x, Tensor saliency, long height, long width) =>
        Upsample(torch.cat([x, saliency], 1), height, width);

    /// <summary>Eq. 3 of Haque et al. (2021): the saliency map y = |∂ ĉ / ∂ x| of the predicted class's logit ĉ with
    /// respect to the input (Simonyan et al. 2014), per image and pixel. It is computed in eval mode (no dropout, as the
    /// reference code puts its encoder in eval for it) with <c>autograd.grad</c> towards the input only, so no gradient
    /// reaches the parameters' <c>.grad</c>; it works under <c>no_grad</c> too. The result is detached: like the
    /// reference code, the segmentation loss does not differentiate through the saliency map.
    /// <paramref name="targetClass"/> picks a class instead of the predicted one (class-specific maps, Fig. 9).</summary>
    public Tensor Saliency(Tensor x, int? targetClass = null) => this.InEvalMode(() =>
    {
        using var grad = torch.enable_grad();
        using var scope = torch.NewDisposeScope();
        var input = x.detach().requires_grad_();
        var logits = Classify(input);
        var score = targetClass is { } c ? logits[.., c] : logits.max(1).values;
        var gradient = torch.autograd.grad([score.sum()], [input])[0];
        return gradient.abs().detach().MoveToOuterDisposeScope();
    });

    private static Tensor Upsample(Tensor x, long height, long width) =>
        nn.functional.interpolate(x, size: [height, width], mode: InterpolationMode.Bilinear, align_corners: false);

    private void CheckInput(Tensor x)
    {
        var multiple = 1L << Downsamplings;
        if (x.dim() != 4 || x.size(1) != Options.InputChannels || x.size(2) % multiple != 0 || x.size(3) % multiple != 0)
            throw new ArgumentException($"MultiMixNet takes images [N, {Options.InputChannels}, H, W] with H and W divisible by {multiple}, got [{string.Join(", ", x.shape)}]");
    }

    /// <summary>(conv 3×3 → instance norm → LeakyReLU) × 2 → dropout: one block of Tables 4–5.</summary>
    private sealed class DoubleConvolution : nn.Module<Tensor, Tensor>
    {
        private readonly Sequential layers;

        public DoubleConvolution(long inputs, long outputs, double dropout, double negativeSlope) : base(nameof(DoubleConvolution))
        {
            layers = nn.Sequential(
                nn.Conv2d(inputs, outputs, 3, padding: 1), nn.InstanceNorm2d(outputs), nn.LeakyReLU(negativeSlope),
                nn.Conv2d(outputs, outputs, 3, padding: 1), nn.InstanceNorm2d(outputs), nn.LeakyReLU(negativeSlope),
                nn.Dropout(dropout));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => layers.call(x);
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedSsl.Models;

/// <summary>A 2D U-Net (Ronneberger et al. 2015) scaled to 2 CPU cores: per level a double 3×3 convolution (batch
/// norm, ReLU), 2×2 max-pooling down, 2×2 transposed convolutions up with the encoder's map concatenated, and a 1×1
/// convolution to the output channels. <see cref="Features"/> exposes the last decoder map, the features before the
/// final 1×1 convolution where INERRANT's confidence network attaches (Petit et al., Table 11).</summary>
public sealed class UNet : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Sequential> down = new();
    private readonly ModuleList<ConvTranspose2d> up = new();
    private readonly ModuleList<Sequential> merge = new();
    private readonly Conv2d head;

    /// <param name="inChannels">channels of the input images</param>
    /// <param name="outChannels">output maps: one logit per class (softmax) or per organ (sigmoids)</param>
    /// <param name="widths">channels per level, top to bottom; the default [16, 32, 64, 128] is the original's [64 … 1024] at 1/4 width, one level fewer</param>
    public UNet(long inChannels, long outChannels, IReadOnlyList<long>? widths = null) : base(nameof(UNet))
    {
        widths ??= [16, 32, 64, 128];
        if (widths.Count < 2) throw new ArgumentException($"A U-Net needs at least two levels, not {widths.Count}", nameof(widths));
        Levels = widths.Count;
        FeatureChannels = widths[0];
        var channels = inChannels;
        foreach (var width in widths)
        {
            down.Add(DoubleConv(channels, width));
            channels = width;
        }
        for (var level = widths.Count - 2; level >= 0; level--)
        {
            up.Add(nn.ConvTranspose2d(widths[level + 1], widths[level], 2, stride: 2));
            merge.Add(DoubleConv(2 * widths[level], widths[level]));
        }
        head = nn.Conv2d(widths[0], outChannels, 1);
        RegisterComponents();
    }

    public int Levels { get; }

    /// <summary>Channels of <see cref="Features"/> (the top level's width).</summary>
    public long FeatureChannels { get; }

    /// <summary>Images [N, C, H, W] → the last decoder map [N, FeatureChannels, H, W]. H and W must be divisible by
    /// 2^(levels − 1).</summary>
    public Tensor Features(Tensor x)
    {
        var factor = 1L << (Levels - 1);
        if (x.dim() != 4 || x.size(2) % factor != 0 || x.size(3) % factor != 0)
            throw new ArgumentException($"A {Levels}-level U-Net needs images [N, C, H, W] with H and W divisible by {factor}, got [{string.Join(", ", x.shape)}]", nameof(x));
        using var scope = NewDisposeScope();
        var skips = new List<Tensor>();
        var h = x;
        for (var level = 0; level < Levels; level++)
        {
            if (level > 0) h = nn.functional.max_pool2d(h, 2);
            h = down[level].call(h);
            skips.Add(h);
        }
        for (var i = 0; i < up.Count; i++)
            h = merge[i].call(torch.cat([skips[Levels - 2 - i], up[i].call(h)], 1));
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Images [N, C, H, W] → logits [N, outChannels, H, W].</summary>
    public override Tensor forward(Tensor x)
    {
        using var features = Features(x);
        return head.call(features);
    }

    /// <summary>Sets every output's bias to <paramref name="value"/>, e.g. log(π/(1 − π)) so sigmoid outputs start
    /// at a prior π for rare foreground (Lin et al. 2017, §4.1, "Initialization") instead of 0.5.</summary>
    public void SetOutputBias(double value)
    {
        using var noGrad = torch.no_grad();
        head.bias!.fill_(value);
    }

    private static Sequential DoubleConv(long inChannels, long outChannels) => nn.Sequential(
        nn.Conv2d(inChannels, outChannels, 3, padding: 1, bias: false),
        nn.BatchNorm2d(outChannels),
        nn.ReLU(),
        nn.Conv2d(outChannels, outChannels, 3, padding: 1, bias: false),
        nn.BatchNorm2d(outChannels),
        nn.ReLU());
}

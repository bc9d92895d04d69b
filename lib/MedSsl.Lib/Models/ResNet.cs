using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedSsl.Models;

/// <summary>A ResNet (He et al. 2016) scaled to small grey images on 2 CPU cores: a 3×3 stem, one stage per width of
/// basic residual blocks (two 3×3 convolutions with batch norm), stride 2 from the second stage on, and global average
/// pooling to a feature vector [N, <see cref="FeatureDim"/>]. The backbone f that the deep-clustering and FixMatch
/// notebooks share (Dadoun et al. 2022, §2.2.4 and §2.3.3 start one from the other), and the CNN of CASS.</summary>
public sealed class ResNet : nn.Module<Tensor, Tensor>
{
    private readonly Sequential stem;
    private readonly Sequential stages;

    /// <param name="inChannels">channels of the input images (1 for ultrasound and CT)</param>
    /// <param name="widths">channels of each stage; the default [16, 32, 64, 128] is ResNet-18's shape at 1/4 width</param>
    /// <param name="blocksPerStage">basic blocks per stage (ResNet-18 has 2)</param>
    public ResNet(long inChannels = 1, IReadOnlyList<long>? widths = null, int blocksPerStage = 1) : base(nameof(ResNet))
    {
        widths ??= [16, 32, 64, 128];
        if (widths.Count == 0 || blocksPerStage < 1)
            throw new ArgumentException($"A ResNet needs at least one stage and one block per stage, not {widths.Count} stages × {blocksPerStage} blocks");
        stem = nn.Sequential(
            nn.Conv2d(inChannels, widths[0], 3, padding: 1, bias: false),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU());
        stages = nn.Sequential();
        var channels = widths[0];
        for (var s = 0; s < widths.Count; s++)
            for (var b = 0; b < blocksPerStage; b++)
            {
                stages.append(new BasicBlock(channels, widths[s], stride: s > 0 && b == 0 ? 2 : 1));
                channels = widths[s];
            }
        FeatureDim = channels;
        RegisterComponents();
    }

    /// <summary>Length of the feature vector (the last stage's width).</summary>
    public long FeatureDim { get; }

    /// <summary>Images [N, C, H, W] → features [N, FeatureDim].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var maps = stages.call(stem.call(x));
        return nn.functional.adaptive_avg_pool2d(maps, 1).flatten(1).MoveToOuterDisposeScope();
    }

    /// <summary>Two 3×3 convolutions with a residual connection; a 1×1 projection when the shape changes.</summary>
    private sealed class BasicBlock : nn.Module<Tensor, Tensor>
    {
        private readonly Sequential body;
        private readonly nn.Module<Tensor, Tensor> shortcut;

        public BasicBlock(long inChannels, long outChannels, int stride) : base(nameof(BasicBlock))
        {
            body = nn.Sequential(
                nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false),
                nn.BatchNorm2d(outChannels),
                nn.ReLU(),
                nn.Conv2d(outChannels, outChannels, 3, padding: 1, bias: false),
                nn.BatchNorm2d(outChannels));
            shortcut = stride == 1 && inChannels == outChannels
                ? nn.Identity()
                : nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), nn.BatchNorm2d(outChannels));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return nn.functional.relu(body.call(x) + shortcut.call(x)).MoveToOuterDisposeScope();
        }
    }
}

using MedSsl.Models;
using MedSsl.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Models;

public class BackboneTests
{
    // The same architectures written in PyTorch: equal parameter counts per tensor name pattern would be too strict
    // (names differ), so the reference gives the total and the per-layer shapes in order.
    private const string ReferenceArchitectures = """
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(s, i, o, stride):
                super().__init__()
                s.body = nn.Sequential(nn.Conv2d(i, o, 3, stride, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(),
                                       nn.Conv2d(o, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o))
                s.short = nn.Identity() if stride == 1 and i == o else nn.Sequential(nn.Conv2d(i, o, 1, stride, bias=False), nn.BatchNorm2d(o))
        def resnet(c, widths, blocks):
            layers = [nn.Conv2d(c, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0])]
            ch = widths[0]
            for s, w in enumerate(widths):
                for b in range(blocks):
                    layers.append(Block(ch, w, 2 if s > 0 and b == 0 else 1)); ch = w
            return nn.Sequential(*layers)
        def dconv(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(), nn.Conv2d(o, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o))
        def unet(c, out, widths):
            layers, ch = [], c
            for w in widths:
                layers.append(dconv(ch, w)); ch = w
            for l in range(len(widths) - 2, -1, -1):
                layers += [nn.ConvTranspose2d(widths[l + 1], widths[l], 2, 2), dconv(2 * widths[l], widths[l])]
            layers.append(nn.Conv2d(widths[0], out, 1))
            return nn.Sequential(*layers)
        def count(m): return sum(p.numel() for p in m.parameters())
        emit({"resnet": count(resnet(1, [16, 32, 64, 128], 1)), "resnet2": count(resnet(3, [8, 16], 2)),
              "unet": count(unet(1, 8, [16, 32, 64, 128])), "unet2": count(unet(3, 2, [8, 16]))})
        """;

    private static long Parameters(nn.Module module) => module.parameters().Sum(p => p.numel());

    [Fact]
    public void Parameter_counts_match_the_same_architectures_in_PyTorch()
    {
        var reference = PyTorchReference.Run(ReferenceArchitectures);
        Assert.Equal(reference.GetProperty("resnet").GetInt64(), Parameters(new ResNet()));
        Assert.Equal(reference.GetProperty("resnet2").GetInt64(), Parameters(new ResNet(3, [8, 16], blocksPerStage: 2)));
        Assert.Equal(reference.GetProperty("unet").GetInt64(), Parameters(new UNet(1, 8)));
        Assert.Equal(reference.GetProperty("unet2").GetInt64(), Parameters(new UNet(3, 2, [8, 16])));
    }

    [Fact]
    public void ResNet_maps_images_to_feature_vectors_and_every_parameter_gets_a_gradient()
    {
        torch.manual_seed(0);
        using var net = new ResNet(1, [8, 16, 32]);
        using var x = torch.randn(4, 1, 36, 36);
        using var features = net.call(x);
        Assert.Equal([4L, 32L], features.shape);
        Assert.Equal(32, net.FeatureDim);
        features.pow(2).sum().backward();
        Assert.All(net.parameters(), p => Assert.True(p.grad is not null && p.grad.abs().sum().ToDouble() > 0));
    }

    [Fact]
    public void UNet_keeps_the_image_size_and_exposes_the_features_before_its_last_convolution()
    {
        torch.manual_seed(0);
        using var net = new UNet(2, 5, [8, 16, 32]);
        using var x = torch.randn(3, 2, 24, 40);
        using var logits = net.call(x);
        using var features = net.Features(x);
        Assert.Equal([3L, 5L, 24L, 40L], logits.shape);
        Assert.Equal([3L, 8L, 24L, 40L], features.shape);
        Assert.Equal(8, net.FeatureChannels);
        logits.sum().backward();
        Assert.All(net.parameters(), p => Assert.True(p.grad is not null && p.grad.abs().sum().ToDouble() > 0));
    }

    [Fact]
    public void UNet_names_the_image_sizes_it_cannot_take()
    {
        using var net = new UNet(1, 2, [8, 16, 32]);
        using var x = torch.zeros(1, 1, 30, 32);
        var error = Assert.Throws<ArgumentException>(() => net.call(x));
        Assert.Contains("H and W divisible by 4, got [1, 1, 30, 32]", error.Message);
        Assert.Contains("at least two levels", Assert.Throws<ArgumentException>(() => new UNet(1, 2, [8])).Message);
    }
}

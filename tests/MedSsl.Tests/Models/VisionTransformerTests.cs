using MedSsl.Models;
using MedSsl.Tests.Support;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Models;

public sealed class VisionTransformerTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "medssl-vit-" + Guid.NewGuid().ToString("N")[..8]);

    public VisionTransformerTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    // The same architecture in PyTorch, with the same attribute names so that it loads our weights: patch embedding,
    // CLS token, position embeddings (bicubically resized for another grid, as DINO's interpolate_pos_encoding),
    // pre-norm blocks with one qkv projection, GELU MLP, final LayerNorm, CLS output.
    private const string PyVit = """
        import torch.nn as nn, torch.nn.functional as F
        class Attention(nn.Module):
            def __init__(s, d, h):
                super().__init__(); s.h = h; s.qkv = nn.Linear(d, 3 * d); s.projection = nn.Linear(d, d)
            def forward(s, z):
                n, t, d = z.shape
                q, k, v = s.qkv(z).view(n, t, 3, s.h, d // s.h).permute(2, 0, 3, 1, 4)
                w = (q @ k.transpose(-2, -1) / (d // s.h) ** 0.5).softmax(-1)
                return s.projection((w @ v).transpose(1, 2).reshape(n, t, d))
        class Block(nn.Module):
            def __init__(s, d, h, hidden):
                super().__init__()
                s.norm1 = nn.LayerNorm(d); s.attention = Attention(d, h); s.norm2 = nn.LayerNorm(d)
                s.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, d))
            def forward(s, z):
                z = z + s.attention(s.norm1(z))
                return z + s.mlp(s.norm2(z))
        class Vit(nn.Module):
            def __init__(s, c, size, p, d, depth, h, ratio):
                super().__init__()
                s.p, s.g, s.d = p, size // p, d
                s.patchEmbedding = nn.Conv2d(c, d, p, p)
                s.clsToken = nn.Parameter(torch.zeros(1, 1, d))
                s.positionEmbedding = nn.Parameter(torch.zeros(1, s.g * s.g + 1, d))
                s.blocks = nn.ModuleList([Block(d, h, round(d * ratio)) for _ in range(depth)])
                s.norm = nn.LayerNorm(d)
            def forward(s, x):
                patches = s.patchEmbedding(x)
                gh, gw = patches.shape[2], patches.shape[3]
                pos = s.positionEmbedding
                if (gh, gw) != (s.g, s.g):
                    grid = pos[:, 1:].reshape(1, s.g, s.g, s.d).permute(0, 3, 1, 2)
                    grid = F.interpolate(grid, size=(gh, gw), mode="bicubic", align_corners=False)
                    pos = torch.cat([pos[:, :1], grid.permute(0, 2, 3, 1).reshape(1, gh * gw, s.d)], 1)
                z = torch.cat([s.clsToken.expand(x.shape[0], 1, s.d), patches.flatten(2).transpose(1, 2)], 1) + pos
                for b in s.blocks: z = b(z)
                return s.norm(z)[:, 0]
        def count(m): return sum(p.numel() for p in m.parameters())

        """;

    private static long Parameters(nn.Module module) => module.parameters().Sum(p => p.numel());

    [Fact]
    public void Parameter_counts_match_the_same_architecture_in_PyTorch()
    {
        var reference = PyTorchReference.Run(PyVit + """
            emit({"default": count(Vit(3, 32, 4, 64, 4, 4, 4)), "small": count(Vit(1, 24, 6, 24, 2, 3, 2))})
            """);
        Assert.Equal(reference.GetProperty("default").GetInt64(), Parameters(new VisionTransformer()));
        Assert.Equal(reference.GetProperty("small").GetInt64(), Parameters(new VisionTransformer(1, 24, 6, 24, 2, 3, 2)));
    }

    [Fact]
    public void PyTorch_computes_the_same_features_from_our_weights_on_the_training_size_and_on_a_smaller_crop()
    {
        torch.manual_seed(2);
        using var net = new VisionTransformer(3, imageSize: 16, patchSize: 4, dim: 16, depth: 2, heads: 2);
        net.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var p in net.parameters()) p.normal_(0, 0.3);   // LayerNorm weights away from 1, biases away from 0
        net.eval();
        using var x = torch.randn([2, 3, 16, 16], ScalarType.Float64);
        using var crop = torch.randn([2, 3, 8, 12], ScalarType.Float64);
        var weights = Path.Combine(dir, "vit.safetensors");
        net.SaveSafetensors(weights);
        Safetensors.Save(Path.Combine(dir, "x.safetensors"), [("x", x), ("crop", crop)]);
        using var y = net.call(x);
        using var yCrop = net.call(crop);
        var reference = PyTorchReference.Run(PyVit + $$"""
            net = Vit(3, 16, 4, 16, 2, 2, 4)
            net.load_state_dict(load("{{weights}}"))
            inputs = load("{{Path.Combine(dir, "x.safetensors")}}")
            with torch.no_grad():
                emit({"y": net(inputs["x"]).flatten().tolist(), "crop": net(inputs["crop"]).flatten().tolist()})
            """);
        Assert.Equal([2L, 16L], y.shape);
        Expect.Close(reference.GetProperty("y").Doubles(), y.reshape(-1).data<double>().ToArray(), 1e-10);
        Expect.Close(reference.GetProperty("crop").Doubles(), yCrop.reshape(-1).data<double>().ToArray(), 1e-10);
    }

    [Fact]
    public void Every_parameter_gets_a_gradient_and_bad_shapes_are_named()
    {
        torch.manual_seed(0);
        using var net = new VisionTransformer(3, 32, 4, 32, 2, 2);
        using var x = torch.randn(3, 3, 32, 32);
        using var features = net.call(x);
        Assert.Equal([3L, 32L], features.shape);
        features.pow(2).sum().backward();
        Assert.All(net.parameters(), p => Assert.True(p.grad is not null && p.grad.abs().sum().ToDouble() > 0));
        using var odd = torch.zeros(1, 3, 30, 32);
        Assert.Contains("multiples of 4, got [1, 3, 30, 32]", Assert.Throws<ArgumentException>(() => net.call(odd)).Message);
        Assert.Contains("multiple of the patch side 5", Assert.Throws<ArgumentException>(() => new VisionTransformer(3, 32, 5)).Message);
        Assert.Contains("divisible by the heads", Assert.Throws<ArgumentException>(() => new VisionTransformer(3, 32, 4, 30, 2, 4)).Message);
    }
}

using MedSsl.Models;
using MedSsl.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Models;

public class SwinUNetTests
{
    // Swin-Unet (Cao et al. 2021) as its reference code builds it, cut to what our model keeps (no dropout, no drop
    // path): the parameter count must match for the same settings.
    private const string ReferenceArchitecture = """
        import torch.nn as nn
        class Attn(nn.Module):
            def __init__(s, dim, ws, heads):
                super().__init__()
                s.table = nn.Parameter(torch.zeros((2 * ws - 1) ** 2, heads))
                s.qkv = nn.Linear(dim, 3 * dim); s.proj = nn.Linear(dim, dim)
        class Block(nn.Module):
            def __init__(s, dim, heads, ws, ratio):
                super().__init__()
                s.norm1 = nn.LayerNorm(dim); s.attn = Attn(dim, ws, heads); s.norm2 = nn.LayerNorm(dim)
                s.mlp = nn.Sequential(nn.Linear(dim, int(dim * ratio)), nn.GELU(), nn.Linear(int(dim * ratio), dim))
        class Merge(nn.Module):
            def __init__(s, dim):
                super().__init__()
                s.norm = nn.LayerNorm(4 * dim); s.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        class Expand(nn.Module):
            def __init__(s, dim, f, out):
                super().__init__()
                s.expand = nn.Linear(dim, f * f * out, bias=False); s.norm = nn.LayerNorm(out)
        def swin_unet(c, classes, patch, C, depths, heads, ws, ratio=4.0):
            m = nn.ModuleList([nn.Conv2d(c, C, patch, patch), nn.LayerNorm(C)])
            n = len(depths)
            for i in range(n):
                m.extend(Block(C * 2 ** i, heads[i], ws, ratio) for _ in range(depths[i]))
                if i < n - 1: m.append(Merge(C * 2 ** i))
            m.append(nn.LayerNorm(C * 2 ** (n - 1)))
            for i in range(n - 2, -1, -1):
                d = C * 2 ** i
                m.append(Expand(2 * d, 2, d)); m.append(nn.Linear(2 * d, d))
                m.extend(Block(d, heads[i], ws, ratio) for _ in range(depths[i]))
            m.append(nn.LayerNorm(C)); m.append(Expand(C, patch, C)); m.append(nn.Conv2d(C, classes, 1, bias=False))
            return m
        def count(m): return sum(p.numel() for p in m.parameters())
        emit({"small": count(swin_unet(3, 2, 2, 24, [2, 2], [3, 6], 4)),
              "three": count(swin_unet(1, 4, 4, 16, [2, 2, 1], [2, 4, 8], 2, 2.0))})
        """;

    private static long Parameters(nn.Module module) => module.parameters().Sum(p => p.numel());

    [Fact]
    public void Parameter_count_matches_the_same_architecture_in_PyTorch()
    {
        var reference = PyTorchReference.Run(ReferenceArchitecture);
        using var small = new SwinUNet(3, 2);
        using var three = new SwinUNet(1, 4, imageSize: 64, patchSize: 4, embedDim: 16, depths: [2, 2, 1], heads: [2, 4, 8], windowSize: 2, mlpRatio: 2);
        Assert.Equal(reference.GetProperty("small").GetInt64(), Parameters(small));
        Assert.Equal(reference.GetProperty("three").GetInt64(), Parameters(three));
    }

    [Fact]
    public void Maps_images_to_per_pixel_logits_and_every_parameter_gets_a_gradient()
    {
        torch.manual_seed(0);
        using var net = new SwinUNet(3, 2);
        using var x = torch.rand(2, 3, 32, 32);
        using var logits = net.call(x);
        Assert.Equal([2L, 2L, 32L, 32L], logits.shape);
        // A loss that depends on every pixel of both maps reaches every weight, the bias tables included.
        (logits * torch.randn_like(logits)).sum().backward();
        Assert.All(net.named_parameters(), p => Assert.True(p.parameter.grad is not null && p.parameter.grad.abs().sum().ToDouble() > 0, p.name));
    }

    [Fact]
    public void Names_the_image_sizes_it_cannot_take()
    {
        using var net = new SwinUNet(3, 2);
        using var x = torch.zeros(1, 3, 24, 24);
        Assert.Contains("takes images [N, C, 32, 32], got [1, 3, 24, 24]", Assert.Throws<ArgumentException>(() => net.call(x)).Message);
        Assert.Contains("its 15×15 token grid by 2^1", Assert.Throws<ArgumentException>(() => new SwinUNet(3, 2, imageSize: 30, patchSize: 2)).Message);
    }

    [Fact]
    public void Window_partition_cuts_row_major_windows_and_reverse_undoes_it()
    {
        // A 4×4 map of values 0..15 in 2×2 windows: window 0 holds 0, 1, 4, 5; window 1 holds 2, 3, 6, 7 ...
        using var map = torch.arange(16, dtype: ScalarType.Float32).view(1, 4, 4, 1);
        using var windows = SwinUNet.WindowPartition(map, 2);
        Assert.Equal([4L, 4L, 1L], windows.shape);
        Assert.Equal([0f, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15], windows.data<float>().ToArray());
        using var random = torch.randn(3, 8, 12, 5);
        using var roundTrip = SwinUNet.WindowReverse(SwinUNet.WindowPartition(random, 4), 4, 8, 12);
        Assert.True(roundTrip.equal(random).all().ToBoolean());
    }

    [Fact]
    public void Shifted_window_mask_separates_the_regions_the_cyclic_shift_brings_together()
    {
        // 4×4 map, window 2, shift 1: regions after the shift are rows {0,1}, {2}, {3} × the same for columns, so
        // labels are r·3 + c with r, c ∈ {0 (first two), 1 (third), 2 (last)}.
        using var mask = SwinUNet.ShiftedWindowMask(4, 4, 2, 1);
        Assert.Equal([4L, 4L, 4L], mask.shape);
        // Window 0 (rows 0–1, cols 0–1) lies in one region: no masking.
        Assert.Equal(new float[16], mask[0].data<float>().ToArray());
        // Window 3 (rows 2–3, cols 2–3) holds four regions, one token each: only the diagonal is open.
        float[] four = [0, -100, -100, -100, -100, 0, -100, -100, -100, -100, 0, -100, -100, -100, -100, 0];
        Assert.Equal(four, mask[3].data<float>().ToArray());
        // Window 1 (rows 0–1, cols 2–3): column 2 and column 3 are two regions → tokens (0, 2) and (1, 3) of each row pair.
        float[] two = [0, -100, 0, -100, -100, 0, -100, 0, 0, -100, 0, -100, -100, 0, -100, 0];
        Assert.Equal(two, mask[1].data<float>().ToArray());
    }

    [Fact]
    public void Relative_position_index_matches_the_reference_construction()
    {
        using var index = SwinUNet.RelativePositionIndex(2);
        // Offsets (dy, dx) + 1, row major in a 3×3 table: token 0 against tokens 0..3 → (0,0) (0,−1) (−1,0) (−1,−1).
        Assert.Equal([4L, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4], index.data<long>().ToArray());
    }
}

using System.Text.Json;
using MedSsl.Data.Augmentation;
using MedSsl.Tests.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Data.Augmentation;

public class AugmentationTests
{
    private static readonly Lazy<JsonElement> Pil = new(() => JsonDocument.Parse(File.ReadAllText(
        Path.Combine(AppContext.BaseDirectory, "Data", "Augmentation", "Fixtures", "reference.json"))).RootElement);

    /// <summary>A [1, 1, H, W] image whose pixel (y, x) is (y·W + x) / (H·W): every value tells its position.</summary>
    private static Tensor Ramp(int h, int w) => (torch.arange(h * w).to(ScalarType.Float32) / (h * w)).view(1, 1, h, w);

    private static Tensor Levels(JsonElement e) => (torch.tensor(e.Matrix()).to(ScalarType.Float32) / 255.0).view(1, 1, e.GetArrayLength(), -1);

    [Fact]
    public void PhotometricOpsMatchPilWithinOneLevel()
    {
        var p = Pil.Value.GetProperty("params");
        foreach (var c in Pil.Value.GetProperty("cases").EnumerateArray())
        {
            using var scope = torch.NewDisposeScope();
            var x = Levels(c.GetProperty("image"));
            Tensor One(double v) => torch.tensor(new[] { v });
            var ours = new Dictionary<string, Tensor>
            {
                ["brightness"] = ImageOps.Brightness(x, One(p.GetProperty("brightness").GetDouble())),
                ["contrast"] = ImageOps.Contrast(x, One(p.GetProperty("contrast").GetDouble())),
                ["sharpness"] = ImageOps.Sharpness(x, One(p.GetProperty("sharpness").GetDouble())),
                ["posterize"] = ImageOps.Posterize(x, One(p.GetProperty("posterize_bits").GetDouble())),
                ["solarize"] = ImageOps.Solarize(x, One(p.GetProperty("solarize_level").GetDouble() / 255.0)),
                ["autocontrast"] = ImageOps.AutoContrast(x),
                ["equalize"] = ImageOps.Equalize(x),
            };
            foreach (var (name, y) in ours)
            {
                var error = ((y - Levels(c.GetProperty(name))) * 255.0).abs().max().ToDouble();
                Assert.True(error <= 1.0 + 1e-4, $"{name}: off PIL by {error:F3} levels");
            }
        }
    }

    [Fact]
    public void FlipAndReflectTranslateAreExact()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.cat([Ramp(6, 8), Ramp(6, 8)]);
        var flipped = ImageOps.HorizontalFlip(x, torch.tensor(new[] { true, false }));
        Assert.True(flipped[0].equal(x[0].flip(2)).all().item<bool>());
        Assert.True(flipped[1].equal(x[1]).all().item<bool>());
        // Shift right by 2, down by 1: out[y, x] = in[reflect(y − 1), reflect(x − 2)], numpy "reflect" borders.
        var shifted = ImageOps.TranslateReflect(x, torch.tensor(new long[] { 2, 0 }), torch.tensor(new long[] { 1, 0 }), 2);
        var a = x[0, 0].data<float>().ToArray();
        var s = shifted[0, 0].data<float>().ToArray();
        static int Reflect(int i, int n) => i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
        for (var yy = 0; yy < 6; yy++)
            for (var xx = 0; xx < 8; xx++)
                Assert.Equal(a[Reflect(yy - 1, 6) * 8 + Reflect(xx - 2, 8)], s[yy * 8 + xx]);
        Assert.True(shifted[1].equal(x[1]).all().item<bool>());
    }

    [Fact]
    public void AffineTranslateAndRotate90AreExact()
    {
        using var scope = torch.NewDisposeScope();
        var x = Ramp(8, 8);
        // Rotating counter-clockwise by 90° is transposing then flipping upside down (torch.rot90(x, 1)).
        var rotated = ImageOps.Rotate(x, torch.tensor(new[] { 90.0 }));
        Assert.True((rotated - x.transpose(2, 3).flip(2)).abs().max().ToDouble() < 1e-6);
        var back = ImageOps.Rotate(x, torch.tensor(new[] { -90.0 }));
        Assert.True((back - x.transpose(2, 3).flip(3)).abs().max().ToDouble() < 1e-6);
        // Translate by (3, −2) px: out[y, x] = in[y + 2, x − 3], black outside.
        var moved = ImageOps.Translate(x, torch.tensor(new[] { 3.0 }), torch.tensor(new[] { -2.0 })).data<float>().ToArray();
        var a = x.data<float>().ToArray();
        for (var yy = 0; yy < 8; yy++)
            for (var xx = 0; xx < 8; xx++)
            {
                int sy = yy + 2, sx = xx - 3;
                var expected = sy is >= 0 and < 8 && sx is >= 0 and < 8 ? a[sy * 8 + sx] : 0f;
                Assert.Equal(expected, moved[yy * 8 + xx], 6);
            }
    }

    [Fact]
    public void SameSeedSameAugmentationsAndEachImageItsOwn()
    {
        using var scope = torch.NewDisposeScope();
        var x = Ramp(32, 32).expand(16, 1, 32, 32).contiguous();
        Tensor Strong(ulong seed) { using var g = new Generator(seed); return new RandAugment().Apply(x, g); }
        Tensor Weak(ulong seed) { using var g = new Generator(seed); return new WeakAugment().Apply(x, g); }
        Assert.True(Strong(5).equal(Strong(5)).all().item<bool>());
        Assert.True(Weak(5).equal(Weak(5)).all().item<bool>());
        Assert.False(Strong(5).equal(Strong(6)).all().item<bool>());
        var strong = Strong(5);
        var distinct = Enumerable.Range(1, 15).Count(i => !strong[i].equal(strong[0]).all().item<bool>());
        Assert.True(distinct >= 13, $"only {distinct} of 15 images differ from the first");
    }

    [Fact]
    public void ShapesAndRangeAreKept()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(1);
        var x = torch.rand([24, 3, 20, 28], generator: g);
        foreach (var y in new[] { new RandAugment { N = 4 }.Apply(x, g), new WeakAugment().Apply(x, g) })
        {
            Assert.Equal(x.shape, y.shape);
            Assert.Equal(ScalarType.Float32, y.dtype);
            Assert.True(y.min().ToDouble() >= 0 && y.max().ToDouble() <= 1);
        }
        // Every op on its own, for every image.
        foreach (var op in Enum.GetValues<AugmentOp>())
        {
            var y = new RandAugment { Pool = [op], ApplyProbability = 1, CutoutFraction = 0 }.Apply(x, g);
            Assert.True(y.min().ToDouble() >= 0 && y.max().ToDouble() <= 1, $"{op} left [0, 1]");
            Assert.Equal(x.shape, y.shape);
        }
        Assert.Throws<ArgumentException>(() => new WeakAugment().Apply(torch.rand(3, 8, 8), g));
    }
}

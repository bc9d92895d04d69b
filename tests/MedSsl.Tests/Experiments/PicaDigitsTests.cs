using MedSsl.Experiments;
using MedSsl.Methods;

namespace MedSsl.Tests.Experiments;

/// <summary>PICA on real images (scikit-learn's handwritten digits, python3-sklearn): it must learn there, not only on our
/// generator. Statistics over three seeds, against chance and against the untrained network.</summary>
public class PicaDigitsTests
{
    private static readonly Lazy<MedSsl.Data.ImageDataset> Digits = new(() => MedSsl.Data.Loaders.Digits.Load());

    [Fact]
    public void TheDigitsAreScikitLearnsCopy()
    {
        var images = Digits.Value;
        var digits = images.ClassIndices();
        Assert.Equal(1797, images.Count);
        Assert.Equal([178, 182, 177, 183, 181, 182, 181, 179, 174, 180], Enumerable.Range(0, 10).Select(d => digits.Count(x => x == d)));
        Assert.Equal((1, 8, 8), (images.Channels, images.Height, images.Width));
        Assert.All(Enumerable.Range(0, images.Count), i => Assert.True(images.HasLabel(i, digits[i])));
        var pixels = Enumerable.Range(0, images.Count).SelectMany(i => images.Image(i).ToArray()).ToArray();
        Assert.Equal((0f, 1f), (pixels.Min(), pixels.Max()));
    }

    [Fact]
    public void PicaLearnsToClusterDigits()
    {
        // 8 epochs of 128-image batches (≈ 115 steps, ≈ 5 s of CPU per seed), scored every 2 epochs. Chance NMI for 10
        // clusters of 1797 images is ≈ 0.01; k-means on the pixels reaches ≈ 0.72 (docs/methods/pica-lsd.md).
        var curves = Enumerable.Range(0, 3).Select(seed => PicaDigits.Train(Digits.Value, PicaDigits.Options(ClusterSizeLoss.NegativeEntropy, seed, epochs: 8), every: 2)).ToList();
        double Mean(int epoch) => curves.Average(c => c.Single(p => p.Epoch == epoch).Nmi);
        var log = string.Join("; ", curves.Select(c => string.Join(" → ", c.Select(p => $"{p.Epoch}: {p.Nmi:0.000}"))));
        Assert.True(Mean(0) < 0.1, $"the untrained network already clusters the digits ({log})");
        Assert.True(Mean(2) > Mean(0) + 0.2, $"mean NMI {Mean(0):0.000} → {Mean(2):0.000} after 2 epochs ({log})");
        Assert.True(Mean(8) > Mean(2) + 0.05, $"mean NMI {Mean(2):0.000} at 2 epochs → {Mean(8):0.000} at 8 ({log})");
        Assert.True(Mean(8) > 0.45, $"mean NMI after 8 epochs {Mean(8):0.000} ({log})");
        Assert.All(curves, c => Assert.True(c[^1].Nmi > c[0].Nmi + 0.3, log));
    }
}

using MedSsl.Experiments;
using MedSsl.Methods;

namespace MedSsl.Tests.Experiments;

/// <summary>PICA on real images (scikit-learn's handwritten digits, python3-sklearn): it must learn there, not only on our
/// generator. Statistics over three seeds, against chance and against the untrained network.</summary>
public class PicaDigitsTests
{
    private static readonly Lazy<(MedSsl.Data.ImageDataset Images, int[] Digits)> Digits = new(() => PicaDigits.Load());

    [Fact]
    public void TheDigitsAreScikitLearnsCopy()
    {
        var (images, digits) = Digits.Value;
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
        var (images, digits) = Digits.Value;
        var settings = new PicaDigitsSettings { Epochs = 0 };
        var curves = Enumerable.Range(0, 3).Select(seed => PicaDigits.Train(images, digits, settings, ClusterSizeLoss.NegativeEntropy, seed, every: 0)).ToList();
        var start = curves.Average(c => c[0].Nmi);
        var end = curves.Average(c => c[^1].Nmi);
        var log = string.Join("; ", curves.Select(c => string.Join(" → ", c.Select(p => $"{p.Epoch}: {p.Nmi:0.000}"))));
        Assert.True(end > 0.0, $"mean NMI after training {end:0.000} ({log})");
        Assert.True(end - start > 0.0, $"mean NMI {start:0.000} → {end:0.000} ({log})");
        Assert.All(curves, c => Assert.True(c[^1].Nmi > c[0].Nmi, log));
    }
}

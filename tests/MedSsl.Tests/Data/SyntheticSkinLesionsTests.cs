using MedSsl.Data;
using MedSsl.Data.Synthetic;

namespace MedSsl.Tests.Data;

public class SyntheticSkinLesionsTests
{
    [Fact]
    public void Same_seed_same_images_and_the_splits_are_the_papers_70_10_20()
    {
        var a = SyntheticSkinLesions.Make(200, seed: 3);
        var b = SyntheticSkinLesions.Make(200, seed: 3);
        var c = SyntheticSkinLesions.Make(200, seed: 4);
        Assert.True(a.Images.Image(17).SequenceEqual(b.Images.Image(17)) && a.Mask(17).SequenceEqual(b.Mask(17)));
        Assert.False(a.Images.Image(17).SequenceEqual(c.Images.Image(17)));
        Assert.Equal([140, 20, 40], new[] { DataSplit.Labelled, DataSplit.Validation, DataSplit.Test }.Select(s => a.Images.IndicesOf(s).Length));
        Assert.Equal(3, a.Images.Channels);
    }

    [Fact]
    public void Every_image_has_one_lesion_and_findings_at_their_rates()
    {
        var data = SyntheticSkinLesions.Make(2000, seed: 1);
        var area = Enumerable.Range(0, data.Count).Select(i => data.Mask(i).ToArray().Count(m => m == 1) / 1024.0).ToArray();
        // Radii 0.18–0.3 of the side with ±(up to 48 %) harmonics: between ~4 % and ~45 % of the image.
        Assert.All(area, a => Assert.InRange(a, 0.03, 0.5));
        for (var f = 0; f < SyntheticSkinLesions.FindingNames.Count; f++)
        {
            var rate = Enumerable.Range(0, data.Count).Count(i => data.Images.HasLabel(i, f)) / (double)data.Count;
            // Binomial standard error at n = 2000 is ≤ 0.011: four of them is a fair margin.
            Assert.InRange(rate, SyntheticSkinLesions.FindingRates[f] - 0.045, SyntheticSkinLesions.FindingRates[f] + 0.045);
        }
    }

    [Fact]
    public void Findings_change_only_the_lesion()
    {
        // The skin outside the mask looks the same with and without each finding, and the lesion differs: the
        // evidence a classifier needs is on the lesion, as the saliency comparison of the S4MI notebook assumes.
        var data = SyntheticSkinLesions.Make(1500, seed: 2);
        for (var f = 0; f < SyntheticSkinLesions.FindingNames.Count; f++)
        {
            double Mean(bool present, bool lesion) => Enumerable.Range(0, data.Count).Where(i => data.Images.HasLabel(i, f) == present)
                .Average(i => MeanIntensity(data, i, lesion));
            Assert.True(Math.Abs(Mean(true, false) - Mean(false, false)) < 0.01, $"skin differs with {SyntheticSkinLesions.FindingNames[f]}");
            Assert.True(Math.Abs(Mean(true, true) - Mean(false, true)) > 0.02, $"lesion does not show {SyntheticSkinLesions.FindingNames[f]}");
        }
    }

    [Fact]
    public void Subtle_lesions_keep_the_masks_and_lose_most_of_their_contrast()
    {
        var clear = SyntheticSkinLesions.Make(300, seed: 5);
        var subtle = SyntheticSkinLesions.Make(300, seed: 5, appearance: LesionAppearance.Subtle);
        Assert.All(Enumerable.Range(0, clear.Count), i => Assert.True(clear.Mask(i).SequenceEqual(subtle.Mask(i))));
        // On images without findings (whose darkening both appearances share), the median skin pixel minus the median
        // lesion pixel: medians so that hairs (a minority of pixels) do not count. Pigment depth averaged over the
        // lesion's area is 0.6 + 0.4/2 = 0.8 for clear, (0.3 + 0.3/2) × ~0.86 (the fade) ≈ 0.39 for subtle: a ratio near 0.48.
        var plain = Enumerable.Range(0, clear.Count).Where(i => Enumerable.Range(0, 4).All(f => !clear.Images.HasLabel(i, f))).ToArray();
        double Contrast(SegmentationDataset data) => plain.Average(i => MedianIntensity(data, i, false) - MedianIntensity(data, i, true));
        Assert.InRange(Contrast(subtle) / Contrast(clear), 0.35, 0.6);
        // Hairs darken skin pixels to a third, which clear skin never shows.
        static double DarkSkinFraction(SegmentationDataset data) => Enumerable.Range(0, data.Count).Average(i =>
        {
            var image = data.Images.Image(i).ToArray();
            var mask = data.Mask(i).ToArray();
            var plane = mask.Length;
            return Enumerable.Range(0, plane).Count(p => mask[p] == 0 && (image[p] + image[plane + p] + image[2 * plane + p]) / 3 < 0.35) / (double)plane;
        });
        Assert.True(DarkSkinFraction(clear) < 0.001, $"clear skin has dark pixels: {DarkSkinFraction(clear)}");
        Assert.InRange(DarkSkinFraction(subtle), 0.03, 0.3);
    }

    [Fact]
    public void Bad_sizes_are_named()
    {
        Assert.Contains("at least one image", Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticSkinLesions.Make(0)).Message);
        Assert.Contains("smaller than 16×16", Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticSkinLesions.Make(5, imageSize: 8)).Message);
        Assert.Equal(LesionAppearance.Subtle, SyntheticSkinLesions.ParseAppearance(" Subtle"));
        Assert.Equal("Lesions must be \"clear\" or \"subtle\", not \"faint\"", Assert.Throws<ArgumentException>(() => SyntheticSkinLesions.ParseAppearance("faint")).Message);
    }

    private static double MedianIntensity(SegmentationDataset data, int i, bool lesion)
    {
        var image = data.Images.Image(i).ToArray();
        var mask = data.Mask(i).ToArray();
        var plane = mask.Length;
        var values = Enumerable.Range(0, plane).Where(p => (mask[p] == 1) == lesion)
            .Select(p => (image[p] + image[plane + p] + image[2 * plane + p]) / 3.0).Order().ToArray();
        return values[values.Length / 2];
    }

    private static double MeanIntensity(SegmentationDataset data, int i, bool lesion)
    {
        var image = data.Images.Image(i);
        var mask = data.Mask(i);
        var plane = mask.Length;
        double sum = 0;
        var count = 0;
        for (var p = 0; p < plane; p++)
            if ((mask[p] == 1) == lesion)
            {
                sum += image[p] + image[plane + p] + image[2 * plane + p];
                count++;
            }
        return sum / (3 * count);
    }
}

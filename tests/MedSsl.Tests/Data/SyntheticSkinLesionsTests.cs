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
    public void Bad_sizes_are_named()
    {
        Assert.Contains("at least one image", Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticSkinLesions.Make(0)).Message);
        Assert.Contains("smaller than 16×16", Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticSkinLesions.Make(5, imageSize: 8)).Message);
    }

    private static double MeanIntensity(LesionDataset data, int i, bool lesion)
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

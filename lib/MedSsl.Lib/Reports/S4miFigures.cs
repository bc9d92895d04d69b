using MedSsl.Data;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Reports;

/// <summary>Image helpers of the S4MI notebooks (05, 06): tensors as the arrays <see cref="Charts.ImageGrid"/> draws.</summary>
public static class S4miFigures
{
    /// <summary>A map scaled to [0, 1] by its maximum.</summary>
    public static float[,] Scaled(Tensor map) => Charts.Plane(map / map.max().clamp_min(1e-12));

    /// <summary>ITU-R 601 luma [N, H, W] of RGB images [N, 3, H, W].</summary>
    public static Tensor Luminance(Tensor images) => images[.., 0] * 0.299 + images[.., 1] * 0.587 + images[.., 2] * 0.114;

    /// <summary>The first <paramref name="count"/> images of a set: luminance, lesion mask, and the findings as titles.</summary>
    public static (IReadOnlyList<float[,]> Images, IReadOnlyList<float[,]?> Masks, IReadOnlyList<string> Titles) Preview(SegmentationDataset data, int count)
    {
        using var scope = torch.NewDisposeScope();
        var indices = Enumerable.Range(0, Math.Min(count, data.Count)).ToArray();
        var luminance = Luminance(data.Images.Batch(indices).Images);
        var masks = data.MaskBatch(indices);
        var titles = indices.Select(i => string.Join(", ", SyntheticSkinLesions.FindingNames.Where((_, f) => data.Images.HasLabel(i, f))))
            .Select(t => t.Length == 0 ? "no finding" : t).ToList();
        return ([.. indices.Select(k => Charts.Plane(luminance[k]))], [.. indices.Select(k => (float[,]?)Charts.Plane(masks[k]))], titles);
    }
}

/// <summary>What the example seed keeps for figures: the saliency maps of a few test images under every 100 %-label
/// classifier beside the lesion mask, the starting backbones' features of all test images with their labels, and the
/// pre-trainings' collapse diagnostics step by step.</summary>
public sealed class S4miExample
{
    public required int Seed { get; init; }
    /// <summary>Luminance of each kept test image [H, W] and its lesion mask (1 on the lesion).</summary>
    public required IReadOnlyList<float[,]> Images { get; init; }
    public required IReadOnlyList<float[,]> LesionMasks { get; init; }
    /// <summary>Saliency maps scaled to [0, 1] per image, by "backbone method", each with its fraction on the lesion.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<(float[,] Map, double OnLesion)>> SaliencyMaps { get; init; }
    /// <summary>Backbone features of the test images [n, D] by "backbone method" (method "random init" = untrained).</summary>
    public required IReadOnlyDictionary<string, double[,]> Features { get; init; }
    /// <summary>Per pre-training, its collapse diagnostic at each step (DINO: teacher entropy ÷ log K; CASS: output spread × √K).</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<(double Step, double Value)>> PretrainingCurves { get; init; }
    /// <summary>The test images' findings [n, 4].</summary>
    public required bool[,] TestLabels { get; init; }
    /// <summary>Mean lesion area as a fraction of the image over the test images: the saliency-on-lesion of a map that
    /// ignores the lesion.</summary>
    public required double LesionAreaFraction { get; init; }

    /// <summary>The example of a seed, taken from what its run holds at the end: the first <paramref name="shown"/> test
    /// images (luminance) with their lesion masks and each kept classifier's saliency maps of them (each scaled to [0, 1],
    /// with its share on the lesion), every starting backbone's features of all test images, and the pre-trainings'
    /// diagnostic curves. <paramref name="testImages"/> [N, 3, H, W], <paramref name="testMasks"/> [N, H, W] (1 on the
    /// lesion), <paramref name="testLabels"/> [N, findings].</summary>
    public static S4miExample Capture(int seed, Tensor testImages, Tensor testMasks, bool[,] testLabels, int shown,
        IEnumerable<(string Name, nn.Module<Tensor, Tensor> Backbone)> starts,
        IEnumerable<(string Name, IReadOnlyList<(double Step, double Value)> Curve)> curves,
        IReadOnlyDictionary<string, nn.Module<Tensor, Tensor>> classifiers)
    {
        using var scope = torch.NewDisposeScope();
        var luminance = S4miFigures.Luminance(testImages);
        var masks = testMasks.to(ScalarType.Float32);
        IReadOnlyList<(float[,], double)> SaliencyOf(nn.Module<Tensor, Tensor> classifier)
        {
            // Maps of all test images, as the classifier's saliency-on-lesion was measured; the first few are shown.
            var maps = Saliency.Map(classifier, testImages);
            var onLesion = Saliency.FractionOnMask(maps, testMasks);
            return [.. Enumerable.Range(0, shown).Select(k => (S4miFigures.Scaled(maps[k]), onLesion[k]))];
        }
        return new S4miExample
        {
            Seed = seed,
            Images = [.. Enumerable.Range(0, shown).Select(k => Charts.Plane(luminance[k]))],
            LesionMasks = [.. Enumerable.Range(0, shown).Select(k => Charts.Plane(masks[k]))],
            SaliencyMaps = classifiers.ToDictionary(c => c.Key, c => SaliencyOf(c.Value)),
            Features = starts.ToDictionary(s => s.Name, s => NetworkOutputs.ToArray(s.Backbone.Evaluate(() => s.Backbone.call(testImages)))),
            PretrainingCurves = curves.ToDictionary(c => c.Name, c => c.Curve),
            TestLabels = testLabels,
            LesionAreaFraction = masks.mean().ToDouble(),
        };
    }

    /// <summary>The image grid of Fig. 2's idea: per kept image, the image with its lesion outlined, then each
    /// classifier's map with the lesion overlaid; titles give the map's fraction on the lesion.</summary>
    public (IReadOnlyList<float[,]> Images, IReadOnlyList<float[,]?> Masks, IReadOnlyList<string> Titles, int Columns) SaliencyGrid()
    {
        var images = new List<float[,]>();
        var masks = new List<float[,]?>();
        var titles = new List<string>();
        for (var k = 0; k < Images.Count; k++)
        {
            images.Add(Images[k]);
            masks.Add(LesionMasks[k]);
            titles.Add("image + lesion");
            foreach (var (name, maps) in SaliencyMaps)
            {
                images.Add(maps[k].Map);
                masks.Add(LesionMasks[k]);
                titles.Add($"{name}: {maps[k].OnLesion:P0}");
            }
        }
        return (images, masks, titles, SaliencyMaps.Count + 1);
    }

    /// <summary>"present" / "absent" per test image for one finding, to colour an embedding.</summary>
    public string[] FindingLabels(int finding) =>
        [.. Enumerable.Range(0, TestLabels.GetLength(0)).Select(i => $"{SyntheticSkinLesions.FindingNames[finding]} {(TestLabels[i, finding] ? "present" : "absent")}")];
}

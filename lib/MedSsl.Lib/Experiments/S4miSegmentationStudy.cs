using System.Globalization;
using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Reports;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Experiments;

/// <summary>One trained model of the protocol: its method (supervised, cross_teaching, picie), the labelled fraction of
/// the training images it saw (0 for PiCIE), and its mean per-image lesion IoU and Dice on the test images.</summary>
public sealed record SegmentationRow(string Method, double LabelFraction, int Seed, double Iou, double Dice);

/// <summary>A row of results.json's <c>iou</c>.</summary>
public sealed record SegmentationIou(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("label_fraction")] double LabelFraction,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("iou")] double Iou);

/// <summary>The values results.json reports: every run's IoU, and per labelled fraction (keys: the fraction as written
/// in the rows, e.g. "0.1") the mean over seeds of cross-teaching's IoU minus the supervised U-Net's on the same data.</summary>
public sealed record S4miSegmentationHeadline(
    [property: JsonPropertyName("iou")] SegmentationIou[] Iou,
    [property: JsonPropertyName("cross_teaching_minus_supervised")] IReadOnlyDictionary<string, double> CrossTeachingMinusSupervised);

/// <summary>The sizes of one profile: data, networks, training length and batches.</summary>
public sealed record S4miSegmentationSettings
{
    /// <summary>Images per seed (70 % training, 10 % validation, 20 % test, the paper's split).</summary>
    public int Images { get; init; } = 200;
    public int ImageSize { get; init; } = 32;
    /// <summary>How hard the lesions are to see (<see cref="LesionAppearance.Subtle"/>: faint, fading borders and hairs).</summary>
    public LesionAppearance Appearance { get; init; } = LesionAppearance.Clear;
    public IReadOnlyList<double> Fractions { get; init; } = [0.1, 0.3, 0.5, 0.7, 1.0];
    public int Seeds { get; init; } = 5;
    /// <summary>Training steps of every supervised and cross-teaching run (T of λ(t) and of the poly decay).</summary>
    public int Steps { get; init; } = 600;
    /// <summary>Labelled and unlabelled images per step (SSL4MIS: 8 + 8; at 100 % labels the paper uses 15 + 1).</summary>
    public int LabelledBatch { get; init; } = 8;
    public int UnlabelledBatch { get; init; } = 8;
    public IReadOnlyList<long> UNetWidths { get; init; } = [8, 16, 32];
    public long SwinWidth { get; init; } = 16;
    public IReadOnlyList<int> SwinHeads { get; init; } = [2, 4];
    public PicieOptions Picie { get; init; } = new() { Rounds = 10, StepsPerRound = 30 };
}

/// <summary>The protocol's results: every row, summaries with 95 % CIs, the headline, and the predicted masks of the
/// example seed on a few test images for the figure.</summary>
public sealed class S4miSegmentationStudy(Study<SegmentationRow> study, IReadOnlyList<(string Title, float[,] Image, float[,] Mask)> examples)
{
    public Study<SegmentationRow> Study { get; } = study;
    public IReadOnlyList<SegmentationRow> Rows => Study.Rows;

    /// <summary>Test images of the example seed (grey) with the true mask and each method's prediction, row by row.</summary>
    public IReadOnlyList<(string Title, float[,] Image, float[,] Mask)> Examples { get; } = examples;

    /// <summary>Mean IoU and Dice with 95 % CIs per method and labelled fraction.</summary>
    public Microsoft.Data.Analysis.DataFrame Summary =>
        Study.Summarize(r => new { r.Method, r.LabelFraction }, [("iou", r => r.Iou), ("dice", r => r.Dice)]);

    /// <summary>Cross-teaching minus supervised IoU per fraction, paired by seed, averaged over seeds.</summary>
    public IReadOnlyDictionary<string, double> CrossTeachingMinusSupervised =>
        Rows.Where(r => r.Method == S4miSegmentation.CrossTeachingName).GroupBy(r => r.LabelFraction).OrderBy(g => g.Key)
            .ToDictionary(g => g.Key.ToString(CultureInfo.InvariantCulture),
                g => g.Average(ct => ct.Iou - Rows.Single(s => s.Method == S4miSegmentation.SupervisedName && s.LabelFraction == g.Key && s.Seed == ct.Seed).Iou));

    public S4miSegmentationHeadline Headline =>
        new([.. Rows.Select(r => new SegmentationIou(r.Method, r.LabelFraction, r.Seed, r.Iou))], CrossTeachingMinusSupervised);

    /// <summary>results.json (the headline) and the CSV of all rows beside it.</summary>
    public string? Save(string? path = null) => ResultsFile.Save(Headline, Study, path);
}

/// <summary>S4MI's segmentation comparison (Singh et al., §Segmentation, Fig. 5) on synthetic skin-lesion images: for each
/// seed a new image set; the supervised U-Net and CNN↔Transformer cross-teaching at each labelled fraction, both from the
/// same initial U-Net weights and the same labelled images; PiCIE with no labels. IoU of the lesion on the test images.</summary>
public static class S4miSegmentation
{
    public const string SupervisedName = "supervised";
    public const string CrossTeachingName = "cross_teaching";
    public const string PicieName = "picie";

    /// <summary>Quick: 3 fractions × 2 seeds, short runs (the notebook's CI budget); full: the paper's 5 fractions × 5 seeds.</summary>
    public static S4miSegmentationSettings Settings(RunProfile profile) => profile.Pick(
        quick: new S4miSegmentationSettings { Fractions = [0.1, 0.5, 1.0], Seeds = 2, Steps = 100, Picie = new PicieOptions { Rounds = 3, StepsPerRound = 20 } },
        full: new S4miSegmentationSettings());

    /// <summary>The labelled training images of a fraction: the first ⌈f·n⌉ of a seeded order of the training split, so a
    /// larger fraction contains the smaller ones.</summary>
    public static int[] LabelledIndices(int[] training, double fraction, int seed)
    {
        if (fraction is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "a labelled fraction lies in (0, 1]");
        var order = SeededRandom.Permutation(training.Length, seed, stream: 5);
        return [.. order.Take((int)Math.Ceiling(fraction * training.Length - 1e-9)).Select(k => training[k])];
    }

    public static UNet NewUNet(S4miSegmentationSettings settings, int seed)
    {
        torch.manual_seed(seed);   // libtorch draws the initial weights
        return new UNet(3, 2, settings.UNetWidths);
    }

    public static SwinUNet NewSwinUNet(S4miSegmentationSettings settings, int seed)
    {
        torch.manual_seed(seed + 1_000);
        return new SwinUNet(3, 2, settings.ImageSize, embedDim: settings.SwinWidth, heads: settings.SwinHeads);
    }

    /// <summary>The protocol. The predictions of <paramref name="exampleSeed"/> at the lowest fraction (and PiCIE's) on
    /// four test images are kept for the figure.</summary>
    public static S4miSegmentationStudy RunStudy(RunProfile profile, int exampleSeed = 0, S4miSegmentationSettings? settings = null)
    {
        settings ??= Settings(profile);
        var rows = new List<SegmentationRow>();
        var examples = new List<(string, float[,], float[,])>();
        using var trainer = new Trainer();
        var seeds = Enumerable.Range(0, settings.Seeds).ToList();
        if (!seeds.Contains(exampleSeed)) seeds.Add(exampleSeed);
        foreach (var seed in seeds)
        {
            var keep = seed == exampleSeed;
            var runRows = RunSeed(settings, seed, trainer, keep ? examples : null);
            if (seed < settings.Seeds) rows.AddRange(runRows);
        }
        return new S4miSegmentationStudy(new Study<SegmentationRow>("runs", rows), examples);
    }

    /// <summary>All runs of one seed: one data set, every method and fraction.</summary>
    public static IReadOnlyList<SegmentationRow> RunSeed(S4miSegmentationSettings settings, int seed, Trainer trainer,
        List<(string Title, float[,] Image, float[,] Mask)>? examples = null)
    {
        var data = SyntheticSkinLesions.Make(settings.Images, seed, settings.ImageSize, settings.Appearance);
        var training = data.Images.IndicesOf(DataSplit.Labelled);
        var test = data.Images.IndicesOf(DataSplit.Test);
        var shown = test.Take(4).ToArray();
        var rows = new List<SegmentationRow>();
        using var scope = torch.NewDisposeScope();
        var (trainImages, _) = data.Images.Batch(training);
        var (testImages, _) = data.Images.Batch(test);
        var testMasks = data.MaskBatch(test);
        var predictions = new List<(string Title, Tensor Masks)>();
        if (examples is not null) predictions.Add(("true lesion", data.MaskBatch(shown)));

        var lowest = settings.Fractions.Min();
        foreach (var fraction in settings.Fractions)
        {
            var labelled = LabelledIndices(training, fraction, seed);
            var unlabelled = training.Except(labelled).ToArray();
            // All labelled: the paper keeps one unlabelled image per batch (15 + 1), drawn from the training images.
            var (labelledBatch, unlabelledBatch) = unlabelled.Length == 0
                ? (settings.LabelledBatch + settings.UnlabelledBatch - 1, 1)
                : (settings.LabelledBatch, settings.UnlabelledBatch);
            var pool = unlabelled.Length == 0 ? training : unlabelled;
            var (x, _) = data.Images.Batch(labelled);
            var y = data.MaskBatch(labelled);
            var (u, _) = data.Images.Batch(pool);
            var options = new CrossTeachingOptions { TotalSteps = settings.Steps };
            IEnumerable<SegmentationBatch> Source(int stream, int unlabelledPerStep) =>
                Batches.Segmentation(x, y, u, labelledBatch, unlabelledPerStep, new SeededRandom(seed, (ulong)stream).TorchGenerator(), new RandomDihedral());

            using (var supervised = new SupervisedSegmentation(NewUNet(settings, seed), options))
            {
                trainer.Run(supervised, Source(11, 0), $"seed {seed}: supervised, {fraction:P0} labels", settings.Steps);
                rows.Add(Evaluate(SupervisedName, fraction, seed, supervised.Predict, testImages, testMasks));
                if (examples is not null && fraction == lowest) predictions.Add(($"supervised, {fraction:P0}", Hard(supervised.Predict, data, shown)));
            }
            using (var crossTeaching = new CrossTeaching(NewUNet(settings, seed), NewSwinUNet(settings, seed), options))
            {
                trainer.Run(crossTeaching, Source(11, unlabelledBatch), $"seed {seed}: cross-teaching, {fraction:P0} labels", settings.Steps);
                rows.Add(Evaluate(CrossTeachingName, fraction, seed, crossTeaching.Predict, testImages, testMasks));
                if (examples is not null && fraction == lowest) predictions.Add(($"cross-teaching, {fraction:P0}", Hard(crossTeaching.Predict, data, shown)));
            }
        }

        using (var picie = new Picie(NewUNet(settings, seed), settings.Picie with { Seed = seed }))
        {
            picie.Fit(trainImages, trainer);
            // Clusters are matched to the mask's classes on the test set, as PiCIE evaluates.
            using var clusters = picie.Predict(testImages).argmax(1);
            var match = torch.tensor(Picie.MatchClusters(clusters, testMasks, settings.Picie.Clusters, 2).Select(m => (long)m).ToArray());
            Tensor Matched(Tensor images)
            {
                using var c = picie.Predict(images).argmax(1);
                return nn.functional.one_hot(match[c], 2).permute(0, 3, 1, 2).to(ScalarType.Float32);
            }
            rows.Add(Evaluate(PicieName, 0, seed, Matched, testImages, testMasks));
            if (examples is not null) predictions.Add(("PiCIE, no labels", Hard(Matched, data, shown)));
        }

        if (examples is not null)
            for (var k = 0; k < shown.Length; k++)
            {
                var grey = Grey(data.Images, shown[k]);
                foreach (var (title, masks) in predictions) examples.Add(($"{title} ({data.Images.ExamId(shown[k])})", grey, ToFloat(masks[k])));
            }
        return rows;
    }

    /// <summary>Mean per-image lesion IoU and Dice of a method's argmax prediction on the test images.</summary>
    private static SegmentationRow Evaluate(string method, double fraction, int seed, Func<Tensor, Tensor> predict, Tensor images, Tensor masks)
    {
        using var scope = torch.NewDisposeScope();
        var predicted = predict(images).argmax(1);
        double iou = 0, dice = 0;
        var n = (int)images.size(0);
        for (var i = 0; i < n; i++)
        {
            var (a, b) = (ToBool(predicted[i]), ToBool(masks[i]));
            iou += Segmentation.Iou(a, b);
            dice += Segmentation.Dice(a, b);
        }
        return new SegmentationRow(method, fraction, seed, iou / n, dice / n);
    }

    private static Tensor Hard(Func<Tensor, Tensor> predict, LesionDataset data, int[] indices)
    {
        var (images, _) = data.Images.Batch(indices);
        return predict(images).argmax(1);
    }

    private static bool[,] ToBool(Tensor mask)
    {
        var (h, w) = ((int)mask.size(0), (int)mask.size(1));
        var values = mask.reshape(-1).to(ScalarType.Int64).data<long>().ToArray();
        var result = new bool[h, w];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++) result[y, x] = values[y * w + x] != 0;
        return result;
    }

    private static float[,] ToFloat(Tensor mask)
    {
        var (h, w) = ((int)mask.size(0), (int)mask.size(1));
        var values = mask.reshape(-1).to(ScalarType.Float32).data<float>().ToArray();
        var result = new float[h, w];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++) result[y, x] = values[y * w + x];
        return result;
    }

    /// <summary>An RGB image as grey (ITU-R 601 luma) for the image grid.</summary>
    private static float[,] Grey(ImageDataset images, int index)
    {
        var (h, w) = (images.Height, images.Width);
        var rgb = images.Image(index);
        var plane = h * w;
        var result = new float[h, w];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                var p = y * w + x;
                result[y, x] = 0.299f * rgb[p] + 0.587f * rgb[plane + p] + 0.114f * rgb[2 * plane + p];
            }
        return result;
    }
}

using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Reports;
using MedSsl.Training;
using Microsoft.Data.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Experiments;

/// <summary>One fine-tuned classifier: its backbone ("cnn" | "vit"), how the backbone started ("dino" | "cass" pre-trained,
/// "supervised" = random initialisation), the fraction of the training labels, the seed, the test F1 (support-weighted
/// over the four findings, thresholds chosen per finding on the validation set) and the fraction of its saliency that
/// lies on the lesion (mean over the test images).</summary>
public sealed record S4miClassificationRow(string Backbone, string Method, double LabelFraction, int Seed, double F1, double SaliencyOnLesion);

/// <summary>A row of results.json's <c>f1</c>.</summary>
public sealed record S4miF1Entry(
    [property: JsonPropertyName("backbone")] string Backbone,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("label_fraction")] double LabelFraction,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("f1")] double F1);

/// <summary>The values results.json reports: every F1, and CASS − DINO, the mean over backbones, label fractions and
/// seeds of the paired difference (same backbone, fraction and seed).</summary>
public sealed record S4miClassificationHeadline(
    [property: JsonPropertyName("f1")] S4miF1Entry[] F1,
    [property: JsonPropertyName("cass_minus_dino")] double CassMinusDino);

/// <summary>Sizes of the protocol. The paper's ResNet-50 / ViT-B/16 on 224² images, 100 pre-training and 50
/// fine-tuning epochs, become a ResNet of a few stages and a ViT of a few blocks on 32² images with step budgets that
/// run on 2 CPU cores (docs/methods/s4mi-classification.md).</summary>
public sealed record S4miClassificationSettings
{
    public int Images { get; init; } = 300;
    public int ImageSize { get; init; } = 32;
    public int Seeds { get; init; } = 2;
    public IReadOnlyList<double> LabelFractions { get; init; } = [0.1, 1.0];
    public IReadOnlyList<long> CnnWidths { get; init; } = [8, 16, 32];
    public long VitDim { get; init; } = 32;
    public int VitDepth { get; init; } = 2;
    public int VitHeads { get; init; } = 2;
    public int PatchSize { get; init; } = 4;
    public int BatchSize { get; init; } = 32;
    /// <summary>Pre-training steps, the same for DINO and CASS.</summary>
    public int PretrainSteps { get; init; } = 80;
    /// <summary>Fine-tuning steps, the same at every label fraction (so 10 % of the labels are seen ten times as often).</summary>
    public int FineTuneSteps { get; init; } = 80;
    /// <summary>DINO's prototypes K and CASS's common output width (65 536 and 1000 in the papers).</summary>
    public int Prototypes { get; init; } = 64;
    public int LocalCrops { get; init; } = 2;
    /// <summary>DINO's starting teacher momentum. The paper's 0.996 over ~10⁵ steps is a teacher time constant of 250
    /// steps; a run of tens or hundreds of steps needs a faster teacher (0.95: 20 steps; 0.99: 100).</summary>
    public double TeacherMomentum { get; init; } = 0.95;
    public double PretrainLearningRate { get; init; } = 1e-3;
    public double FineTuneLearningRate { get; init; } = 1e-3;
    /// <summary>Test images whose saliency maps the example keeps for figures.</summary>
    public int ExampleImages { get; init; } = 3;

    public static S4miClassificationSettings For(RunProfile profile) => profile.Pick(
        quick: new S4miClassificationSettings(),
        full: new S4miClassificationSettings
        {
            Images = 1500, Seeds = 5, CnnWidths = [16, 32, 64], VitDim = 64, VitDepth = 4, VitHeads = 4,
            PretrainSteps = 1500, FineTuneSteps = 300, Prototypes = 256, LocalCrops = 4, TeacherMomentum = 0.99,
        });
}

/// <summary>What the example seed keeps for figures: the saliency maps of a few test images under every 100 %-label
/// classifier beside the lesion mask, and the pre-trained (and randomly initialised) backbones' features of all test
/// images with their labels.</summary>
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
    /// <summary>The test images' findings [n, 4].</summary>
    public required bool[,] TestLabels { get; init; }
    /// <summary>Mean lesion area as a fraction of the image over the test images: the saliency-on-lesion of a map that
    /// ignores the lesion.</summary>
    public required double LesionAreaFraction { get; init; }

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

/// <summary>The protocol's results: every row, Table 1's summary, paired differences, the headline, the example.</summary>
public sealed class S4miClassificationResults(Study<S4miClassificationRow> study, S4miExample example, S4miClassificationSettings settings,
    double allPositiveF1)
{
    public Study<S4miClassificationRow> Study { get; } = study;
    public IReadOnlyList<S4miClassificationRow> Rows => Study.Rows;
    public S4miExample Example { get; } = example;
    public S4miClassificationSettings Settings { get; } = settings;
    /// <summary>The test F1 of calling every finding present in every image (mean over seeds): what a classifier that
    /// learned nothing reaches, since the validation thresholds can always choose it.</summary>
    public double AllPositiveF1 { get; } = allPositiveF1;

    /// <summary>Table 1's layout: F1 (and saliency on the lesion) mean with 95 % CI over seeds per backbone × method × fraction.</summary>
    public DataFrame Summary => Study.Summarize(r => new { r.Backbone, r.Method, r.LabelFraction },
        [("f1", r => r.F1), ("saliency_on_lesion", r => r.SaliencyOnLesion)]);

    /// <summary>Paired differences over seeds (same backbone, fraction and seed): CASS − DINO, DINO − supervised and
    /// CASS − supervised, for F1 and for saliency on the lesion, with 95 % CIs.</summary>
    public DataFrame PairedDifferences
    {
        get
        {
            var pairs = new List<(string Backbone, double LabelFraction, string Comparison, double F1, double Saliency)>();
            foreach (var (a, b) in new[] { ("cass", "dino"), ("dino", "supervised"), ("cass", "supervised") })
                pairs.AddRange(Paired(a, b).Select(p => (p.Backbone, p.LabelFraction, $"{a} − {b}", p.F1, p.Saliency)));
            var study = new Study<(string Backbone, double LabelFraction, string Comparison, double F1, double Saliency)>("paired", pairs);
            return study.Summarize(p => new { p.Comparison, p.Backbone, p.LabelFraction }, [("f1_difference", p => p.F1), ("saliency_difference", p => p.Saliency)]);
        }
    }

    public S4miClassificationHeadline Headline => new(
        [.. Rows.Select(r => new S4miF1Entry(r.Backbone, r.Method, r.LabelFraction, r.Seed, r.F1))],
        Paired("cass", "dino").Average(p => p.F1));

    /// <summary>results.json (the headline) and the CSV of all rows beside it.</summary>
    public string? Save(string? path = null) => ResultsFile.Save(Headline, Study, path);

    private IEnumerable<(string Backbone, double LabelFraction, int Seed, double F1, double Saliency)> Paired(string method, string baseline) =>
        from r in Rows
        where r.Method == method
        join b in Rows.Where(b => b.Method == baseline) on (r.Backbone, r.LabelFraction, r.Seed) equals (b.Backbone, b.LabelFraction, b.Seed)
        select (r.Backbone, r.LabelFraction, r.Seed, r.F1 - b.F1, r.SaliencyOnLesion - b.SaliencyOnLesion);
}

/// <summary>S4MI's classification pipeline (Singh et al. 2024, "Classification", Table 1, Fig. 2) on synthetic skin
/// lesions with four multi-label findings: for each seed, DINO pre-trains a CNN and a ViT separately, CASS pre-trains
/// the two jointly (one run gives both backbones); then every backbone — DINO's, CASS's, and a randomly initialised one
/// (the supervised baseline; the paper's ImageNet weights cannot be had offline) — is fine-tuned with 10 % and 100 % of
/// the training labels. One pre-training serves both label fractions.</summary>
public static class S4miClassification
{
    public static readonly IReadOnlyList<string> Backbones = ["cnn", "vit"];
    public static readonly IReadOnlyList<string> Methods = ["dino", "cass", "supervised"];

    public static S4miClassificationResults Run(RunProfile profile, int exampleSeed = 0, S4miClassificationSettings? settings = null)
    {
        settings ??= S4miClassificationSettings.For(profile);
        var seeds = Enumerable.Range(0, settings.Seeds).ToList();
        if (!seeds.Contains(exampleSeed)) seeds.Add(exampleSeed);
        var rows = new List<S4miClassificationRow>();
        S4miExample? example = null;
        var allPositive = new List<double>();
        using var trainer = new Trainer();
        foreach (var seed in seeds)
        {
            var (seedRows, seedExample, seedAllPositive) = RunSeed(seed, settings, trainer, keepExample: seed == exampleSeed);
            if (seed < settings.Seeds)
            {
                rows.AddRange(seedRows);
                allPositive.Add(seedAllPositive);
            }
            example ??= seedExample;
        }
        return new S4miClassificationResults(new Study<S4miClassificationRow>("runs", rows), example!, settings, allPositive.Average());
    }

    /// <summary>The first <paramref name="count"/> images of a set for <see cref="Charts.ImageGrid"/>: luminance, lesion
    /// mask, and the findings as titles.</summary>
    public static (IReadOnlyList<float[,]> Images, IReadOnlyList<float[,]?> Masks, IReadOnlyList<string> Titles) Preview(LesionDataset data, int count)
    {
        using var scope = torch.NewDisposeScope();
        var indices = Enumerable.Range(0, Math.Min(count, data.Count)).ToArray();
        var (x, _) = data.Images.Batch(indices);
        var luminance = (x[.., 0] * 0.299 + x[.., 1] * 0.587 + x[.., 2] * 0.114).to(ScalarType.Float32);
        var masks = data.MaskBatch(indices).to(ScalarType.Float32);
        var titles = indices.Select(i => string.Join(", ", SyntheticSkinLesions.FindingNames.Where((_, f) => data.Images.HasLabel(i, f))))
            .Select(t => t.Length == 0 ? "no finding" : t).ToList();
        return ([.. indices.Select(k => Grid(luminance[k]))], [.. indices.Select(k => (float[,]?)Grid(masks[k]))], titles);
    }

    /// <summary>A backbone of the protocol, its initial weights drawn from libtorch's global generator.</summary>
    public static nn.Module<Tensor, Tensor> NewBackbone(string backbone, S4miClassificationSettings s) => backbone switch
    {
        "cnn" => new ResNet(3, s.CnnWidths),
        "vit" => new VisionTransformer(3, s.ImageSize, s.PatchSize, s.VitDim, s.VitDepth, s.VitHeads),
        _ => throw new ArgumentException($"backbone must be \"cnn\" or \"vit\", not \"{backbone}\"", nameof(backbone)),
    };

    private static (List<S4miClassificationRow> Rows, S4miExample? Example, double AllPositiveF1) RunSeed(int seed, S4miClassificationSettings s, Trainer trainer, bool keepExample)
    {
        var data = SyntheticSkinLesions.Make(s.Images, seed, s.ImageSize);
        var train = data.Images.IndicesOf(DataSplit.Labelled);
        var validation = data.Images.IndicesOf(DataSplit.Validation);
        var test = data.Images.IndicesOf(DataSplit.Test);
        var order = new SeededRandom(seed, stream: 1).Permutation(train.Length);
        var rows = new List<S4miClassificationRow>();
        var pretrained = Pretrain(data, train, seed, s, trainer);
        try
        {
            using var scope = torch.NewDisposeScope();
            var (xTrain, yTrain) = data.Images.Batch(train);
            var (xValidation, _) = data.Images.Batch(validation);
            var (xTest, _) = data.Images.Batch(test);
            var testMasks = data.MaskBatch(test);
            var validationTruth = data.Images.Subset(validation).LabelMatrix();
            var testTruth = data.Images.Subset(test).LabelMatrix();
            var saliency = new Dictionary<string, IReadOnlyList<(float[,], double)>>();
            var features = new Dictionary<string, double[,]>();
            foreach (var backbone in Backbones)
                foreach (var method in Methods)
                {
                    if (keepExample) features[$"{backbone} {(method == "supervised" ? "random init" : method)}"] =
                        ToArray(Features(pretrained.TryGetValue((backbone, method), out var p) ? p : RandomBackbone(backbone, seed, s), xTest));
                    foreach (var fraction in s.LabelFractions)
                    {
                        var labelled = torch.tensor(order.Take(Math.Max(1, (int)Math.Round(fraction * train.Length))).Select(i => (long)i).ToArray());
                        using var tuning = FineTune(backbone, method, pretrained, xTrain.index_select(0, labelled), yTrain.index_select(0, labelled), seed, s, trainer,
                            $"{backbone} {method} {fraction:P0} seed {seed}");
                        var thresholds = new F1Thresholds().Fit(validationTruth, ToArray(tuning.Predict(xValidation)));
                        var f1 = MultiLabelReport.Compute(testTruth, thresholds.Predict(ToArray(tuning.Predict(xTest)))).WeightedF1;
                        var maps = Saliency.Map(tuning.Classifier, xTest);
                        var onLesion = Saliency.FractionOnMask(maps, testMasks);
                        rows.Add(new S4miClassificationRow(backbone, method, fraction, seed, f1, onLesion.Average()));
                        if (keepExample && fraction == s.LabelFractions.Max())
                            saliency[$"{backbone} {method}"] = [.. Enumerable.Range(0, s.ExampleImages).Select(k => (Scaled(maps[k]), onLesion[k]))];
                    }
                }
            var example = keepExample ? MakeExample(seed, data, test, xTest, saliency, features, testTruth, s) : null;
            var allPositive = new bool[testTruth.GetLength(0), testTruth.GetLength(1)];
            foreach (var i in Enumerable.Range(0, allPositive.GetLength(0))) foreach (var f in Enumerable.Range(0, allPositive.GetLength(1))) allPositive[i, f] = true;
            return (rows, example, MultiLabelReport.Compute(testTruth, allPositive).WeightedF1);
        }
        finally
        {
            foreach (var backbone in pretrained.Values) backbone.Dispose();
        }
    }

    /// <summary>DINO for each backbone, CASS for both at once; the pre-trained backbones by (backbone, method).</summary>
    private static Dictionary<(string, string), nn.Module<Tensor, Tensor>> Pretrain(LesionDataset data, int[] train, int seed, S4miClassificationSettings s, Trainer trainer)
    {
        var result = new Dictionary<(string, string), nn.Module<Tensor, Tensor>>();
        using var images = data.Images.Batch(train).Images.DetachFromDisposeScope();
        var epochs = s.PretrainSteps / Batches.PerEpoch(train.Length, s.BatchSize) + 1;
        foreach (var backbone in Backbones)
        {
            torch.manual_seed(seed);
            BackboneWithHead Make() => new(NewBackbone(backbone, s), new DinoHead(FeatureDim(backbone, s), s.Prototypes, hidden: 4 * FeatureDim(backbone, s), bottleneck: FeatureDim(backbone, s)));
            var dino = new Dino(Make(), Make, s.PretrainSteps, new DinoOptions
            {
                GlobalCropSize = s.ImageSize, LocalCropSize = s.ImageSize / 2, LocalCrops = s.LocalCrops, TeacherMomentum = s.TeacherMomentum,
                LearningRate = s.PretrainLearningRate, Seed = seed,
            });
            using var generator = new SeededRandom(seed, stream: 2).TorchGenerator();
            trainer.Run(dino, Batches.Unlabelled(images, s.BatchSize, generator, epochs), $"DINO {backbone} seed {seed}", s.PretrainSteps);
            result[(backbone, "dino")] = Detach(dino.Teacher.Backbone, backbone, s);
            dino.Dispose();
        }
        torch.manual_seed(seed);
        var cass = new Cass(
            new BackboneWithHead(NewBackbone("cnn", s), nn.Linear(FeatureDim("cnn", s), s.Prototypes)),
            new BackboneWithHead(NewBackbone("vit", s), nn.Linear(FeatureDim("vit", s), s.Prototypes)),
            new CassOptions { LearningRate = s.PretrainLearningRate, Augment = new RandomResizedCrop(s.ImageSize, 0.4, 1.0), Seed = seed });
        using (var generator = new SeededRandom(seed, stream: 2).TorchGenerator())
            trainer.Run(cass, Batches.Unlabelled(images, s.BatchSize, generator, epochs), $"CASS seed {seed}", s.PretrainSteps);
        result[("cnn", "cass")] = Detach(cass.Cnn.Backbone, "cnn", s);
        result[("vit", "cass")] = Detach(cass.Transformer.Backbone, "vit", s);
        cass.Dispose();
        return result;
    }

    private static MultiLabelFineTuning FineTune(string backbone, string method, Dictionary<(string, string), nn.Module<Tensor, Tensor>> pretrained,
        Tensor x, Tensor y, int seed, S4miClassificationSettings s, Trainer trainer, string phase)
    {
        var network = method == "supervised" ? RandomBackbone(backbone, seed, s) : Detach(pretrained[(backbone, method)], backbone, s);
        torch.manual_seed(seed + 1);   // the same classifier head for every method
        var tuning = new MultiLabelFineTuning(new BackboneWithHead(network, nn.Linear(FeatureDim(backbone, s), SyntheticSkinLesions.FindingNames.Count)),
            new FineTuningOptions { LearningRate = s.FineTuneLearningRate, Augment = new WeakAugment(), Seed = seed });
        using var generator = new SeededRandom(seed, stream: 3).TorchGenerator();
        var epochs = s.FineTuneSteps / Batches.PerEpoch(x.size(0), s.BatchSize) + 1;
        trainer.Run(tuning, Batches.Shuffled(x, y, s.BatchSize, generator, epochs), phase, s.FineTuneSteps);
        return tuning;
    }

    /// <summary>The supervised baseline's start: the backbone as libtorch initialises it from the seed (the same
    /// draw DINO and CASS start from).</summary>
    private static nn.Module<Tensor, Tensor> RandomBackbone(string backbone, int seed, S4miClassificationSettings s)
    {
        torch.manual_seed(seed);
        return NewBackbone(backbone, s);
    }

    /// <summary>A fresh backbone with a copy of <paramref name="source"/>'s weights and buffers (TorchSharp cannot
    /// deep-copy a module), so fine-tuning at one fraction leaves the pre-trained weights for the next.</summary>
    private static nn.Module<Tensor, Tensor> Detach(nn.Module<Tensor, Tensor> source, string backbone, S4miClassificationSettings s)
    {
        var copy = NewBackbone(backbone, s);
        var weights = source.state_dict();
        using (torch.no_grad())
            foreach (var (name, value) in copy.state_dict()) value.copy_(weights[name]);
        foreach (var p in copy.parameters()) p.requires_grad = true;
        return copy;
    }

    private static long FeatureDim(string backbone, S4miClassificationSettings s) => backbone == "cnn" ? s.CnnWidths[^1] : s.VitDim;

    private static Tensor Features(nn.Module<Tensor, Tensor> backbone, Tensor x) => backbone.Evaluate(() => backbone.call(x));

    private static S4miExample MakeExample(int seed, LesionDataset data, int[] test, Tensor xTest, Dictionary<string, IReadOnlyList<(float[,], double)>> saliency,
        Dictionary<string, double[,]> features, bool[,] testTruth, S4miClassificationSettings s)
    {
        var luminance = (xTest[.., 0] * 0.299 + xTest[.., 1] * 0.587 + xTest[.., 2] * 0.114).to(ScalarType.Float32);
        var masks = data.MaskBatch(test).to(ScalarType.Float32);
        return new S4miExample
        {
            Seed = seed,
            Images = [.. Enumerable.Range(0, s.ExampleImages).Select(k => Grid(luminance[k]))],
            LesionMasks = [.. Enumerable.Range(0, s.ExampleImages).Select(k => Grid(masks[k]))],
            SaliencyMaps = saliency,
            Features = features,
            TestLabels = testTruth,
            LesionAreaFraction = masks.mean().ToDouble(),
        };
    }

    private static float[,] Scaled(Tensor map) => Grid((map / map.max().clamp_min(1e-12)).to(ScalarType.Float32));

    private static float[,] Grid(Tensor image)
    {
        long h = image.size(0), w = image.size(1);
        var values = image.contiguous().data<float>().ToArray();
        var grid = new float[h, w];
        for (var i = 0; i < h; i++)
            for (var j = 0; j < w; j++) grid[i, j] = values[i * w + j];
        return grid;
    }

    private static double[,] ToArray(Tensor t)
    {
        long n = t.size(0), k = t.size(1);
        var values = t.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        var result = new double[n, k];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < k; j++) result[i, j] = values[i * k + j];
        return result;
    }
}

using System.Globalization;
using System.Text.Json.Serialization;
using MedSsl.Data;
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

/// <summary>One trained model evaluated on one test set ("in": source A, "cross": source B). Classification measures
/// are NaN for U-Net, segmentation measures NaN for Enc and Enc-SSL; a count the model does not use is 0. Segmentation
/// measures are means over the test images of the per-image values at threshold ½; the average Hausdorff distance is in
/// pixels (<see cref="Segmentation.AverageHausdorff"/>), and an image with an empty predicted mask counts the image
/// diagonal.</summary>
public sealed record MultiMixRow(string Model, int LabelledMasks, int LabelledLabels, string Domain, int Seed,
    double Accuracy, double F1Normal, double F1Pneumonia, double Dice, double Jaccard, double AverageHausdorff, double Precision, double Recall);

/// <summary>The protocol's sizes for a profile: data, backbone, label counts, models, seeds, steps and the method's settings.</summary>
public sealed record MultiMixSettings(ChestXraySizes Sizes, IReadOnlyList<int> Widths, IReadOnlyList<int> MaskCounts, IReadOnlyList<int> LabelCounts,
    IReadOnlyList<(int Masks, int Labels)> MultiTaskSettings, IReadOnlyList<MultiMixModel> Models, int Seeds, int Steps, MultiMixOptions Options)
{
    public int FewestMasks => MaskCounts.Min();
    public int FewestLabels => LabelCounts.Min();

    /// <summary>Quick (sized for 4 minutes on two cores): 32 × 32 images, widths 8-16-32-64; the fewest counts, 4 masks
    /// (the paper's 10 of JSRT's 111, scaled to 40) and 20 labels (its 100 of CheX's 5216: fewer would not let the
    /// classes be learnt), for every model; the encoders also with all 400 labels; 2 seeds; 120 steps of batches of 16 per
    /// stream at a constant Adam 1e-3. Full: 48 × 48, widths 16-32-64-128; {10, 50, all 110} masks × {40, 400, all 2000}
    /// labels, every pair; 4 seeds; 1500 steps of batches of 8, Adam 1e-3 decayed ×0.1 after two thirds of the steps
    /// (the paper's 1e-4 needs its 100 epochs).</summary>
    public static MultiMixSettings For(RunProfile profile)
    {
        var sizes = SyntheticChestXray.DefaultSizes(profile);
        var masks = profile.Pick<int[]>(quick: [4], full: [10, 50, sizes.Segmentation]);
        var labels = profile.Pick<int[]>(quick: [20, sizes.Classification], full: [40, 400, sizes.Classification]);
        var pairs = profile == RunProfile.Quick ? [(masks[0], labels[0])] : masks.SelectMany(m => labels.Select(l => (m, l))).ToArray();
        var steps = profile.Pick(quick: 120, full: 1500);
        // Quick: no decay (DecayEvery = steps falls after the last step), batches of 16: with 150 steps of 8 and a decay
        // at step 100, Enc's loss was still at its plateau (≈ 0.6) when the decay came; it leaves the plateau after
        // ≈ 1500 images. 120 × 16 = 1920 images at about the CPU cost of 150 × 8 (small tensors: cost is per operator call).
        return new MultiMixSettings(sizes, profile.Pick<int[]>(quick: [8, 16, 32, 64], full: [16, 32, 64, 128]), masks, labels, pairs,
            Enum.GetValues<MultiMixModel>(), profile.Pick(quick: 2, full: 4), steps,
            new MultiMixOptions { LearningRate = 1e-3, DecayEvery = profile.Pick(quick: steps, full: 2 * steps / 3), BatchSize = profile.Pick(quick: 16, full: 8) });
    }
}

/// <summary>The values results.json reports.</summary>
public sealed record MultiMixHeadline(
    [property: JsonPropertyName("runs")] MultiMixRunResult[] Runs,
    [property: JsonPropertyName("dice_multimix_minus_umtl_fewest_masks")] double DiceMultiMixMinusUmtlFewestMasks,
    [property: JsonPropertyName("accuracy_multimix_minus_enc_fewest_labels")] double AccuracyMultiMixMinusEncFewestLabels);

/// <summary>One row of results.json's <c>runs</c>: accuracy or Dice is null where the model has no such head.</summary>
public sealed record MultiMixRunResult(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("labelled_masks")] int LabelledMasks,
    [property: JsonPropertyName("labelled_labels")] int LabelledLabels,
    [property: JsonPropertyName("domain")] string Domain,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("accuracy")] double? Accuracy,
    [property: JsonPropertyName("dice")] double? Dice);

/// <summary>The models of one seed at the fewest masks and labels, with that seed's data, kept for the figures.</summary>
public sealed class MultiMixExample(int seed, ChestXrayData data, IReadOnlyDictionary<MultiMixModel, MultiMix> models) : IDisposable
{
    public int Seed { get; } = seed;
    public ChestXrayData Data { get; } = data;
    public IReadOnlyDictionary<MultiMixModel, MultiMix> Models { get; } = models;

    /// <summary>Fig. 8: the first <paramref name="count"/> test images of a domain with the reference mask (1) and each
    /// listed model's predicted mask (2) drawn over them, one row per image.</summary>
    public (List<float[,]> Images, List<float[,]?> Masks, List<string> Titles) MaskGrid(string domain, int count, params MultiMixModel[] models)
    {
        var set = TestSet(domain);
        var indices = Enumerable.Range(0, Math.Min(count, set.Count)).ToArray();
        var predictions = models.ToDictionary(m => m, m => { using var p = Models[m].PredictMasks(set.Images(indices)); return p.data<float>().ToArray(); });
        var (images, masks, titles) = (new List<float[,]>(), new List<float[,]?>(), new List<string>());
        var plane = set.Size * set.Size;
        foreach (var (i, k) in indices.Select((i, k) => (i, k)))
        {
            var reference = set.Mask(i);
            images.Add(set.Image(i)); masks.Add(null); titles.Add($"{domain} #{i}: {ChestXraySet.ClassNames[set.Classes[i]]}");
            images.Add(set.Image(i)); masks.Add(set.MaskImage(i)); titles.Add("reference");
            foreach (var m in models)
            {
                var predicted = Map(reference, (_, y, x) => predictions[m][k * plane + y * set.Size + x] >= 0.5f ? 2f : 0f);
                images.Add(set.Image(i)); masks.Add(predicted);
                titles.Add($"{MultiMixStudy.Name(m)}: Dice {Segmentation.Dice(Map(predicted, v => v > 0), reference):F2}");
            }
        }
        return (images, masks, titles);
    }

    /// <summary>Figs. 9–10: for up to <paramref name="perClass"/> test images of each class, the image and the saliency
    /// maps (eq. 3) of both classes under <paramref name="model"/>, each map scaled to [0, 1] by its maximum.</summary>
    public (List<float[,]> Images, List<string> Titles) SaliencyGrid(string domain, int perClass, MultiMixModel model = MultiMixModel.MultiMix)
    {
        var set = TestSet(domain);
        var method = Models[model];
        var (images, titles) = (new List<float[,]>(), new List<string>());
        foreach (var c in new[] { 0, 1 })
            foreach (var i in Enumerable.Range(0, set.Count).Where(i => set.Classes[i] == c).Take(perClass))
            {
                using var x = set.Images([i]);
                using var p = method.Predict(x);
                images.Add(set.Image(i));
                titles.Add($"{ChestXraySet.ClassNames[c]} (p = {p[0, 1].ToDouble():F2})");
                foreach (var target in new[] { 0, 1 })
                {
                    using var s = method.Saliency(x, target);
                    using var scaled = s / s.max().clamp_min(1e-12);
                    var values = scaled.data<float>().ToArray();
                    images.Add(Map(set.Image(i), (_, y, xx) => values[y * set.Size + xx]));
                    titles.Add($"saliency: {ChestXraySet.ClassNames[target]}");
                }
            }
        return (images, titles);
    }

    private ChestXraySet TestSet(string domain) => domain switch
    {
        "in" => Data.TestInDomain,
        "cross" => Data.TestCrossDomain,
        _ => throw new ArgumentException($"domain is \"in\" or \"cross\", not \"{domain}\"", nameof(domain)),
    };

    private static float[,] Map<T>(T[,] source, Func<T, float> f) => Map(source, (v, _, _) => f(v));

    private static bool[,] Map(float[,] source, Func<float, bool> f)
    {
        var result = new bool[source.GetLength(0), source.GetLength(1)];
        for (var y = 0; y < result.GetLength(0); y++)
            for (var x = 0; x < result.GetLength(1); x++) result[y, x] = f(source[y, x]);
        return result;
    }

    private static float[,] Map<T>(T[,] source, Func<T, int, int, float> f)
    {
        var result = new float[source.GetLength(0), source.GetLength(1)];
        for (var y = 0; y < result.GetLength(0); y++)
            for (var x = 0; x < result.GetLength(1); x++) result[y, x] = f(source[y, x], y, x);
        return result;
    }

    public void Dispose()
    {
        foreach (var m in Models.Values) m.Dispose();
    }
}

/// <summary>The protocol's results: every row, Tables 2–3 in the paper's layout, the paired comparisons behind the
/// paper's claims, the headline values, and the example seed's models for the figures.</summary>
public sealed class MultiMixResults(Study<MultiMixRow> study, MultiMixSettings settings, MultiMixExample example) : IDisposable
{
    public Study<MultiMixRow> Study { get; } = study;
    public IReadOnlyList<MultiMixRow> Rows => Study.Rows;
    public MultiMixSettings Settings { get; } = settings;
    public MultiMixExample Example { get; } = example;

    /// <summary>Table 2 ("in") or Table 3 ("cross"): per model and label counts, mean ± standard deviation over seeds
    /// of accuracy, F1 per class, Dice, Jaccard, average Hausdorff (pixels), precision and recall; "—" where not measured.</summary>
    public DataFrame PaperTable(string domain)
    {
        var groups = Rows.Where(r => r.Domain == domain)
            .GroupBy(r => (r.Model, r.LabelledLabels, r.LabelledMasks))
            .OrderBy(g => Array.IndexOf(ModelNames, g.Key.Model)).ThenBy(g => g.Key.LabelledLabels).ThenBy(g => g.Key.LabelledMasks).ToList();
        string Count(int n) => n == 0 ? "—" : n.ToString(CultureInfo.InvariantCulture);
        string Cell(IEnumerable<double> values)
        {
            var v = values.ToList();
            if (v.Any(double.IsNaN)) return "—";
            var mean = v.Average();
            var sd = v.Count > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1)) : 0;
            return $"{mean.ToString("F3", CultureInfo.InvariantCulture)} ± {sd.ToString("F3", CultureInfo.InvariantCulture)}";
        }
        (string Name, Func<MultiMixRow, double> Value)[] measures =
        [
            ("Acc", r => r.Accuracy), ("F1-Nor", r => r.F1Normal), ("F1-Abn", r => r.F1Pneumonia),
            ("DS", r => r.Dice), ("JS", r => r.Jaccard), ("HD", r => r.AverageHausdorff), ("P", r => r.Precision), ("R", r => r.Recall),
        ];
        var frame = new DataFrame(
            new StringDataFrameColumn("Model", groups.Select(g => g.Key.Model)),
            new StringDataFrameColumn("|D_l^c|", groups.Select(g => Count(g.Key.LabelledLabels))),
            new StringDataFrameColumn("|D_l^s|", groups.Select(g => Count(g.Key.LabelledMasks))),
            new Int32DataFrameColumn("seeds", groups.Select(g => g.Count())));
        foreach (var (name, value) in measures) frame.Columns.Add(new StringDataFrameColumn(name, groups.Select(g => Cell(g.Select(value)))));
        return frame;
    }

    /// <summary>Mean paired difference (a − b) over seeds of a measure, with its 95 % t-interval, in one domain: rows of
    /// <paramref name="a"/> at the given counts (null: any) are paired with rows of <paramref name="b"/> of the same seed
    /// and the same counts, except that a count <paramref name="b"/> does not use (0) pairs with any.</summary>
    public MeanConfidenceInterval PairedDifference(MultiMixModel a, MultiMixModel b, string domain, Func<MultiMixRow, double> measure,
        int? labelledMasks = null, int? labelledLabels = null)
    {
        var differences = new List<double>();
        foreach (var ra in Rows.Where(r => r.Model == Name(a) && r.Domain == domain
                     && (labelledMasks is null || r.LabelledMasks == labelledMasks) && (labelledLabels is null || r.LabelledLabels == labelledLabels)))
        {
            var rb = Rows.Single(r => r.Model == Name(b) && r.Domain == domain && r.Seed == ra.Seed
                                      && (r.LabelledMasks == 0 || r.LabelledMasks == ra.LabelledMasks)
                                      && (r.LabelledLabels == 0 || r.LabelledLabels == ra.LabelledLabels));
            differences.Add(measure(ra) - measure(rb));
        }
        if (differences.Count == 0) throw new InvalidOperationException($"no {Name(a)} rows to pair with {Name(b)} in domain {domain}");
        return MeanConfidenceInterval.Of(differences);
    }

    /// <summary>The paper's claims as paired differences over seeds, in-domain and cross-domain: the saliency bridge at
    /// the fewest masks (UMTL-S − UMTL and MultiMix − UMTL-SSL, Dice), MultiMix against UMTL (Dice, fewest masks), and
    /// MultiMix against Enc (accuracy, fewest labels).</summary>
    public DataFrame Comparisons
    {
        get
        {
            var claims = new (string Claim, MultiMixModel A, MultiMixModel B, string Measure, Func<MultiMixRow, double> Value, int? Masks, int? Labels)[]
            {
                ("bridge, supervised: UMTL-S − UMTL", MultiMixModel.UmtlS, MultiMixModel.Umtl, "dice", r => r.Dice, Settings.FewestMasks, null),
                ("bridge, semi-supervised: MultiMix − UMTL-SSL", MultiMixModel.MultiMix, MultiMixModel.UmtlSsl, "dice", r => r.Dice, Settings.FewestMasks, null),
                ("MultiMix − UMTL", MultiMixModel.MultiMix, MultiMixModel.Umtl, "dice", r => r.Dice, Settings.FewestMasks, null),
                ("MultiMix − U-Net", MultiMixModel.MultiMix, MultiMixModel.UNet, "dice", r => r.Dice, Settings.FewestMasks, null),
                ("MultiMix − Enc", MultiMixModel.MultiMix, MultiMixModel.Enc, "accuracy", r => r.Accuracy, null, Settings.FewestLabels),
                ("Enc-SSL − Enc", MultiMixModel.EncSsl, MultiMixModel.Enc, "accuracy", r => r.Accuracy, null, Settings.FewestLabels),
            };
            var rows = claims.SelectMany(c => new[] { "in", "cross" }.Select(d => (c, d, ci: PairedDifference(c.A, c.B, d, c.Value, c.Masks, c.Labels)))).ToList();
            return new DataFrame(
                new StringDataFrameColumn("comparison", rows.Select(r => r.c.Claim)),
                new StringDataFrameColumn("measure", rows.Select(r => r.c.Measure)),
                new StringDataFrameColumn("setting", rows.Select(r => r.c.Masks is { } m ? $"{m} masks" : $"{r.c.Labels} labels")),
                new StringDataFrameColumn("domain", rows.Select(r => r.d)),
                new Int32DataFrameColumn("pairs", rows.Select(r => r.ci.Count)),
                new DoubleDataFrameColumn("difference_mean", rows.Select(r => r.ci.Mean)),
                new DoubleDataFrameColumn("ci_low", rows.Select(r => r.ci.Lower)),
                new DoubleDataFrameColumn("ci_high", rows.Select(r => r.ci.Upper)));
        }
    }

    /// <summary>results.json: every run (model, counts, domain, seed, accuracy, Dice), and the two headline differences,
    /// each the mean over seeds (and over the other task's label counts) of the paired in-domain difference: MultiMix −
    /// UMTL in Dice at the fewest masks, MultiMix − Enc in accuracy at the fewest labels.</summary>
    public MultiMixHeadline Headline => new(
        [.. Rows.Select(r => new MultiMixRunResult(r.Model, r.LabelledMasks, r.LabelledLabels, r.Domain, r.Seed,
            double.IsNaN(r.Accuracy) ? null : r.Accuracy, double.IsNaN(r.Dice) ? null : r.Dice))],
        PairedDifference(MultiMixModel.MultiMix, MultiMixModel.Umtl, "in", r => r.Dice, labelledMasks: Settings.FewestMasks).Mean,
        PairedDifference(MultiMixModel.MultiMix, MultiMixModel.Enc, "in", r => r.Accuracy, labelledLabels: Settings.FewestLabels).Mean);

    /// <summary>results.json (the headline) and the CSV of all rows beside it, in one call.</summary>
    public string? Save(string? path = null) => ResultsFile.Save(Headline, Study, path);

    private static readonly string[] ModelNames = [.. Enum.GetValues<MultiMixModel>().Select(MultiMixStudy.Name)];

    private static string Name(MultiMixModel model) => MultiMixStudy.Name(model);

    public void Dispose() => Example.Dispose();
}

/// <summary>MultiMix's protocol (Haque et al. 2021, §3.1–3.2, Tables 2–3) on synthetic chest X-rays: every model of §3.2
/// on the same backbone, at several counts of labelled masks |D_l^s| and labelled classes |D_l^c|, over seeds, each
/// evaluated in-domain (source A) and cross-domain (source B).</summary>
public static class MultiMixStudy
{
    /// <summary>The paper's name of a model.</summary>
    public static string Name(MultiMixModel model) => model switch
    {
        MultiMixModel.UNet => "U-Net",
        MultiMixModel.Enc => "Enc",
        MultiMixModel.EncSsl => "Enc-SSL",
        MultiMixModel.Umtl => "UMTL",
        MultiMixModel.UmtlS => "UMTL-S",
        MultiMixModel.UmtlSsl => "UMTL-SSL",
        MultiMixModel.MultiMix => "MultiMix",
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, "unknown MultiMix model"),
    };

    /// <summary>The (masks, labels) counts a model is trained at: U-Net at every mask count, the encoders at every
    /// label count (the other count 0), the multi-task models at the settings' pairs.</summary>
    public static IEnumerable<(int Masks, int Labels)> Counts(MultiMixModel model, MultiMixSettings settings) => model switch
    {
        MultiMixModel.UNet => settings.MaskCounts.Select(m => (m, 0)),
        MultiMixModel.Enc or MultiMixModel.EncSsl => settings.LabelCounts.Select(l => (0, l)),
        _ => settings.MultiTaskSettings,
    };

    /// <summary>Which classification images have their class and which segmentation images their mask: for a seed, a
    /// class-balanced draw of <paramref name="labels"/> and a uniform draw of <paramref name="masks"/>; smaller counts are
    /// subsets of larger ones, so label counts compare like with like.</summary>
    public static (int[] Labelled, int[] Masked) Labelled(ChestXrayData data, int masks, int labels, int seed)
    {
        var byClass = Enumerable.Range(0, 2).Select(c =>
        {
            var members = Enumerable.Range(0, data.Classification.Count).Where(i => data.Classification.Classes[i] == c).ToArray();
            new SeededRandom(seed, 10 + (ulong)c).Shuffle(members);
            return members;
        }).ToArray();
        var labelled = byClass[0].Take(labels / 2).Concat(byClass[1].Take(labels - labels / 2)).Order().ToArray();
        var masked = SeededRandom.Permutation(data.Segmentation.Count, seed, 12).Take(masks).Order().ToArray();
        if (labelled.Length != labels || masked.Length != masks)
            throw new ArgumentException($"cannot label {labels} classification images and {masks} masks of {data.Classification.Count} and {data.Segmentation.Count}");
        return (labelled, masked);
    }

    /// <summary>Trains one model (initial weights from <paramref name="seed"/>) for the settings' steps.</summary>
    public static MultiMix Train(MultiMixModel model, ChestXrayData data, int masks, int labels, int seed, MultiMixSettings settings, Trainer trainer)
    {
        var options = settings.Options.For(model) with { Seed = seed };
        torch.manual_seed(seed);   // libtorch draws the initial weights
        var method = new MultiMix(new MultiMixNet(options.Network(settings.Widths)), options);
        var (labelled, masked) = Labelled(data, masks, labels, seed);
        trainer.Run(method, method.Batches(data.Classification, labelled, data.Segmentation, masked),
            $"{Name(model)} |D_l^s| {masks} |D_l^c| {labels} seed {seed}", settings.Steps);
        return method;
    }

    /// <summary>The trained model's rows, one per test domain.</summary>
    public static IEnumerable<MultiMixRow> Evaluate(MultiMix method, MultiMixModel model, int masks, int labels, int seed, ChestXrayData data)
    {
        foreach (var (domain, set) in new[] { ("in", data.TestInDomain), ("cross", data.TestCrossDomain) })
        {
            using var scope = torch.NewDisposeScope();
            var images = set.Images();
            double accuracy = double.NaN, f1Normal = double.NaN, f1Pneumonia = double.NaN;
            if (method.Options.Classification)
            {
                var predicted = method.Predict(images).argmax(1).data<long>().Select(v => (int)v).ToArray();
                var truth = set.Classes.ToArray();
                accuracy = Classification.Accuracy(truth, predicted);
                var f1 = Classification.F1PerClass(truth, predicted, 2);
                (f1Normal, f1Pneumonia) = (f1[0], f1[1]);
            }
            var seg = method.Options.Segmentation ? SegmentationScores(method.PredictMasks(images), set) : (Dice: double.NaN, Jaccard: double.NaN, Hausdorff: double.NaN, Precision: double.NaN, Recall: double.NaN);
            yield return new MultiMixRow(Name(model), masks, labels, domain, seed, accuracy, f1Normal, f1Pneumonia,
                seg.Dice, seg.Jaccard, seg.Hausdorff, seg.Precision, seg.Recall);
        }
    }

    /// <summary>Runs the protocol: for each seed, new data, then every model at each of its counts. The models of
    /// <paramref name="exampleSeed"/> at the fewest masks and labels are kept for figures.</summary>
    public static MultiMixResults Run(RunProfile profile, int exampleSeed = 0) => Run(MultiMixSettings.For(profile), exampleSeed);

    public static MultiMixResults Run(MultiMixSettings settings, int exampleSeed = 0)
    {
        var seeds = Enumerable.Range(0, settings.Seeds).ToList();
        if (!seeds.Contains(exampleSeed)) seeds.Add(exampleSeed);
        var rows = new List<MultiMixRow>();
        var kept = new Dictionary<MultiMixModel, MultiMix>();
        ChestXrayData? exampleData = null;
        using var trainer = new Trainer();
        try
        {
            foreach (var seed in seeds)
            {
                var data = SyntheticChestXray.Make(settings.Sizes, seed);
                if (seed == exampleSeed) exampleData = data;
                foreach (var model in settings.Models)
                    foreach (var (masks, labels) in Counts(model, settings))
                    {
                        var method = Train(model, data, masks, labels, seed, settings, trainer);
                        if (seed < settings.Seeds) rows.AddRange(Evaluate(method, model, masks, labels, seed, data));
                        var fewest = (masks == 0 || masks == settings.FewestMasks) && (labels == 0 || labels == settings.FewestLabels);
                        if (seed == exampleSeed && fewest) kept[model] = method;
                        else method.Dispose();
                    }
            }
        }
        catch
        {
            foreach (var m in kept.Values) m.Dispose();
            throw;
        }
        return new MultiMixResults(new Study<MultiMixRow>("runs", rows), settings, new MultiMixExample(exampleSeed, exampleData!, kept));
    }

    private static (double Dice, double Jaccard, double Hausdorff, double Precision, double Recall) SegmentationScores(Tensor probabilities, ChestXraySet set)
    {
        var values = probabilities.data<float>().ToArray();
        var size = set.Size;
        var diagonal = Math.Sqrt(2) * size;
        var scores = Enumerable.Range(0, set.Count).Select(i =>
        {
            var predicted = new bool[size, size];
            for (var y = 0; y < size; y++)
                for (var x = 0; x < size; x++) predicted[y, x] = values[(i * size + y) * size + x] >= 0.5f;
            var reference = set.Mask(i);
            var empty = !predicted.Cast<bool>().Any();
            return (Segmentation.Dice(predicted, reference), Segmentation.Iou(predicted, reference),
                empty ? diagonal : Segmentation.AverageHausdorff(predicted, reference),
                Segmentation.Precision(predicted, reference), Segmentation.Recall(predicted, reference));
        }).ToList();
        return (scores.Average(s => s.Item1), scores.Average(s => s.Item2), scores.Average(s => s.Item3), scores.Average(s => s.Item4), scores.Average(s => s.Item5));
    }
}

using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Data.Sampling;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Reports;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Experiments;

/// <summary>How the backbone f starts (Dadoun et al. 2022, §2.3.3): random weights, or the weights learned by deep
/// clustering on the unlabelled images (§2.2). ImageNet weights, the paper's third option, cannot be had offline.</summary>
public enum Initialisation { Random, DeepClustering }

/// <summary>The three models the study trains from each initialisation.</summary>
public enum StudyModel { OneHead, TwoHead, Supervised }

/// <summary>One trained model: which head and initialisation, the labelled fraction, the seed; the weighted F1 on the test
/// images with per-class thresholds chosen on the validation images; the labelled images it saw; the mean fraction of
/// unlabelled images that passed τ over its last 10 % of steps (null for the supervised baseline).</summary>
public sealed record FixMatchRow(
    [property: JsonPropertyName("head")] string Head,
    [property: JsonPropertyName("init")] string Init,
    [property: JsonPropertyName("label_fraction")] double LabelFraction,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("f1_weighted")] double F1Weighted,
    [property: JsonPropertyName("labelled_images")] int LabelledImages,
    [property: JsonPropertyName("final_mask_rate")] double? FinalMaskRate);

/// <summary>The sizes of one profile of the study.</summary>
public sealed record FixMatchStudySettings
{
    public required int Images { get; init; }
    /// <summary>Image side and backbone widths: the deep-clustering backbone's (<see cref="PicaStudy.Settings"/>), so its
    /// weights fit.</summary>
    public required int ImageSize { get; init; }
    public required long[] Widths { get; init; }
    /// <summary>Whether One-Head also trains from random weights. Fig. 6 compares the heads from one initialisation and
    /// random vs deep clustering with the Two-Head and supervised models only; the quick profile skips this cell.</summary>
    public bool OneHeadFromRandom { get; init; } = true;
    public required int Steps { get; init; }
    public required int Seeds { get; init; }
    public required double[] LabelFractions { get; init; }
    /// <summary>Labelled exams per step; μ times as many unlabelled exams (Dadoun et al. 2022, §3.2: 16 unlabelled exams).</summary>
    public required int LabelledExamsPerBatch { get; init; }
    public required int Mu { get; init; }
    /// <summary>Patients per split: labelled, unlabelled, validation, test.</summary>
    public double[] SplitFractions { get; init; } = [0.2, 0.5, 0.1, 0.2];
    /// <summary>libtorch threads while the study runs (0: libtorch's default, one per core). The quick profile's networks are
    /// so small that a second thread spends more CPU time waiting for the first than it saves.</summary>
    public int Threads { get; init; }
    public int DataSeed { get; init; }

    /// <summary>Quick: 900 images, 2 seeds, fractions 10 % and 100 %, 100 steps, μ = 2, one libtorch thread (the CPU-time
    /// budget of a notebook in CI), no One-Head from random weights. Full: the paper's shape — 4000 images, 5000 steps (§3.2), 4 seeds, fractions
    /// 10/20/50/100 %, μ = 7, every model from both initialisations. Image size and widths are the deep-clustering
    /// backbone's in both (quick: 32×32, widths 8–32; full: 64×64, ResNet-18's stages at ¼ width).</summary>
    public static FixMatchStudySettings For(RunProfile profile)
    {
        var backbone = PicaStudy.Settings(profile);
        return profile.Pick(
            quick: new FixMatchStudySettings
            {
                Images = 900, ImageSize = backbone.ImageSize, Widths = backbone.Widths, Steps = 100, Seeds = 2, LabelFractions = [0.1, 1.0],
                LabelledExamsPerBatch = 1, Mu = 2, OneHeadFromRandom = false, Threads = 1,
            },
            full: new FixMatchStudySettings
            {
                Images = 4000, ImageSize = backbone.ImageSize, Widths = backbone.Widths, Steps = 5000, Seeds = 4, LabelFractions = [0.1, 0.2, 0.5, 1.0],
                LabelledExamsPerBatch = 2, Mu = 7,
            });
    }
}

/// <summary>Everything one run keeps for the notebook: its row, the test report, the mask rate per step, and (for the
/// example seed) the trained method, to draw test images with their predictions.</summary>
public sealed record FixMatchRun(FixMatchRow Row, StudyModel Model, Initialisation Init, MultiLabelReport Report, double[] MaskRates);

/// <summary>The values results.json reports (the names the issue fixes).</summary>
public sealed record FixMatchHeadline(
    [property: JsonPropertyName("runs")] FixMatchRow[] Runs,
    [property: JsonPropertyName("f1_weighted_one_head")] double? F1WeightedOneHead,
    [property: JsonPropertyName("f1_weighted_two_head")] double? F1WeightedTwoHead,
    [property: JsonPropertyName("two_head_minus_one_head")] double? TwoHeadMinusOneHead,
    [property: JsonPropertyName("pretrained_minus_random_at_10pct")] double? PretrainedMinusRandomAt10Pct,
    [property: JsonPropertyName("per_class_best")] PerClassBest PerClassBest,
    [property: JsonPropertyName("deep_clustering_backbone")] string DeepClusteringBackbone);

/// <summary>Table 2's layout for the best setting: per class F1, precision, recall and support, and the weighted average.</summary>
public sealed record PerClassBest(
    [property: JsonPropertyName("head")] string Head,
    [property: JsonPropertyName("init")] string Init,
    [property: JsonPropertyName("label_fraction")] double LabelFraction,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("classes")] PerClassScore[] Classes,
    [property: JsonPropertyName("weighted")] PerClassScore Weighted);

public sealed record PerClassScore(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("f1")] double F1,
    [property: JsonPropertyName("precision")] double Precision,
    [property: JsonPropertyName("recall")] double Recall,
    [property: JsonPropertyName("support")] int Support);

/// <summary>The study's results: every run, summaries, the headline, and the example seed's best model for figures.</summary>
public sealed class FixMatchResults(FixMatchStudySettings settings, ImageDataset data, IReadOnlyList<FixMatchRun> runs,
    string deepClustering, FixMatchMultiLabel example, FixMatchRun exampleRun) : IDisposable
{
    public FixMatchStudySettings Settings { get; } = settings;
    public ImageDataset Data { get; } = data;
    public IReadOnlyList<FixMatchRun> Runs { get; } = runs;
    public Study<FixMatchRow> Study { get; } = new("runs", runs.Select(r => r.Row).ToList());
    public IReadOnlyList<FixMatchRow> Rows => Study.Rows;
    /// <summary>How the deep-clustering backbone was obtained, or why it is missing.</summary>
    public string DeepClustering { get; } = deepClustering;
    public bool HasDeepClustering => Rows.Any(r => r.Init == FixMatchStudy.InitName(Initialisation.DeepClustering));
    /// <summary>The trained model of <see cref="ExampleRun"/> (Two-Head at the largest fraction, first seed).</summary>
    public FixMatchMultiLabel Example { get; } = example;
    public FixMatchRun ExampleRun { get; } = exampleRun;

    /// <summary>Mean weighted F1 with its 95 % CI per model, initialisation and labelled fraction.</summary>
    public Microsoft.Data.Analysis.DataFrame Summary =>
        Study.Summarize(r => new { r.Head, r.Init, r.LabelFraction }, [("f1_weighted", r => r.F1Weighted)]);

    /// <summary>The paired differences (a − b) of runs with the same seed and labelled fraction.</summary>
    public IEnumerable<(double Fraction, double Difference)> Paired(StudyModel a, Initialisation initA, StudyModel b, Initialisation initB) =>
        from x in Rows.Where(r => r.Head == FixMatchStudy.HeadName(a) && r.Init == FixMatchStudy.InitName(initA))
        join y in Rows.Where(r => r.Head == FixMatchStudy.HeadName(b) && r.Init == FixMatchStudy.InitName(initB))
            on (x.Seed, x.LabelFraction) equals (y.Seed, y.LabelFraction)
        select (x.LabelFraction, x.F1Weighted - y.F1Weighted);

    /// <summary>The paper's claims (§3.3.2) as paired differences of weighted F1 per labelled fraction, with their mean, 95 %
    /// CI over seeds and whether the mean is ≥ 0: Two-Head ≥ One-Head (deep-clustering init); semi-supervised (Two-Head) ≥
    /// supervised, from each initialisation; deep clustering ≥ random initialisation (Two-Head and supervised).</summary>
    public Microsoft.Data.Analysis.DataFrame Claims
    {
        get
        {
            var dc = Initialisation.DeepClustering;
            var random = Initialisation.Random;
            (string Claim, StudyModel A, Initialisation InitA, StudyModel B, Initialisation InitB)[] claims =
            [
                ("Two-Head ≥ One-Head (deep clustering)", StudyModel.TwoHead, dc, StudyModel.OneHead, dc),
                ("Two-Head ≥ One-Head (random)", StudyModel.TwoHead, random, StudyModel.OneHead, random),
                ("semi-supervised ≥ supervised (deep clustering)", StudyModel.TwoHead, dc, StudyModel.Supervised, dc),
                ("semi-supervised ≥ supervised (random)", StudyModel.TwoHead, random, StudyModel.Supervised, random),
                ("deep clustering ≥ random (Two-Head)", StudyModel.TwoHead, dc, StudyModel.TwoHead, random),
                ("deep clustering ≥ random (supervised)", StudyModel.Supervised, dc, StudyModel.Supervised, random),
            ];
            var rows = new List<(string Claim, double Fraction, MeanConfidenceInterval Interval)>();
            foreach (var (claim, a, initA, b, initB) in claims)
                foreach (var group in Paired(a, initA, b, initB).GroupBy(p => p.Fraction).OrderBy(g => g.Key))
                    rows.Add((claim, group.Key, MeanConfidenceInterval.Of(group.Select(p => p.Difference).ToList())));
            return new Microsoft.Data.Analysis.DataFrame(
                new Microsoft.Data.Analysis.StringDataFrameColumn("claim", rows.Select(r => r.Claim)),
                new Microsoft.Data.Analysis.DoubleDataFrameColumn("label_fraction", rows.Select(r => r.Fraction)),
                new Microsoft.Data.Analysis.Int32DataFrameColumn("pairs", rows.Select(r => r.Interval.Count)),
                new Microsoft.Data.Analysis.DoubleDataFrameColumn("mean_difference", rows.Select(r => r.Interval.Mean)),
                new Microsoft.Data.Analysis.DoubleDataFrameColumn("ci_low", rows.Select(r => r.Interval.Lower)),
                new Microsoft.Data.Analysis.DoubleDataFrameColumn("ci_high", rows.Select(r => r.Interval.Upper)),
                new Microsoft.Data.Analysis.BooleanDataFrameColumn("mean_at_least_0", rows.Select(r => r.Interval.Mean >= 0)));
        }
    }

    /// <summary>Weighted F1 per run as (series, labelled fraction in %, F1) for <see cref="Charts.MeanWithCi"/>, for the
    /// given (model, initialisation) pairs.</summary>
    public IEnumerable<(string Series, double X, double Value)> F1Curves(params (StudyModel Model, Initialisation Init)[] series) =>
        series.SelectMany(s => Rows.Where(r => r.Head == FixMatchStudy.HeadName(s.Model) && r.Init == FixMatchStudy.InitName(s.Init))
            .Select(r => (FixMatchStudy.DisplayName(s.Model, s.Init), r.LabelFraction * 100, r.F1Weighted)));

    /// <summary>The fraction of unlabelled images passing τ over training, per head (both initialisations): each run's
    /// per-step mask rate averaged in <paramref name="bins"/> windows of steps, as (series, step, rate) for
    /// <see cref="Charts.MeanWithCi"/> (the band spans the runs: seeds × fractions).</summary>
    public IEnumerable<(string Series, double X, double Value)> MaskRateCurves(int bins = 15) =>
        Runs.Where(r => r.MaskRates.Length > 0).SelectMany(r =>
        {
            var width = Math.Max(1, r.MaskRates.Length / bins);
            return Enumerable.Range(0, (r.MaskRates.Length + width - 1) / width).Select(b =>
                (FixMatchStudy.DisplayName(r.Model, r.Init), (double)(b * width + Math.Min(width, r.MaskRates.Length - b * width) / 2.0),
                 r.MaskRates.Skip(b * width).Take(width).Average()));
        });

    /// <summary>Table 2's layout for <see cref="Best"/>: one row per measure, one column per class and the weighted average.</summary>
    public Microsoft.Data.Analysis.DataFrame BestTable()
    {
        var best = Best();
        var columns = new List<Microsoft.Data.Analysis.DataFrameColumn>
        {
            new Microsoft.Data.Analysis.StringDataFrameColumn("measure", ["F1-score", "precision", "recall", "n_labels"]),
        };
        foreach (var c in best.Classes.Append(best.Weighted))
            columns.Add(new Microsoft.Data.Analysis.DoubleDataFrameColumn(c.Name, [Math.Round(c.F1, 2), Math.Round(c.Precision, 2), Math.Round(c.Recall, 2), c.Support]));
        return new Microsoft.Data.Analysis.DataFrame(columns);
    }

    /// <summary>The first <paramref name="count"/> test images with their true organs and those the example model predicts
    /// (thresholds chosen on the validation images), for <see cref="Charts.ImageGrid"/> (Fig. 7's idea).</summary>
    public (IReadOnlyList<float[,]> Images, IReadOnlyList<string> Titles) ExamplePredictions(int count = 8)
    {
        var validation = Data.Where(DataSplit.Validation);
        var test = Data.Where(DataSplit.Test);
        var thresholds = new F1Thresholds().Fit(validation.LabelMatrix(), FixMatchStudy.Probabilities(Example, validation));
        var shown = test.Subset([.. Enumerable.Range(0, Math.Min(count, test.Count))]);
        var predicted = thresholds.Predict(FixMatchStudy.Probabilities(Example, shown));
        var truth = shown.LabelMatrix();
        string Organs(bool[,] m, int i) => string.Join("+", Data.LabelNames.Where((_, c) => m[i, c])) is { Length: > 0 } s ? s : "(none)";
        var images = new List<float[,]>();
        var titles = new List<string>();
        for (var i = 0; i < shown.Count; i++)
        {
            var pixels = shown.Image(i);
            var image = new float[shown.Height, shown.Width];
            for (var y = 0; y < shown.Height; y++)
                for (var x = 0; x < shown.Width; x++) image[y, x] = pixels[y * shown.Width + x];
            images.Add(image);
            var (t, p) = (Organs(truth, i), Organs(predicted, i));
            titles.Add(t == p ? $"✓ {t}" : $"✗ true {t}<br>predicted {p}");
        }
        return (images, titles);
    }

    /// <summary>The headline: every row; the mean weighted F1 of One- and Two-Head over fractions and seeds and their mean
    /// paired difference (deep-clustering init); Two-Head's gain from deep clustering over random weights at the smallest
    /// fraction; Table 2 for the best setting. Values needing deep-clustering rows are null without them.</summary>
    public FixMatchHeadline Headline
    {
        get
        {
            var dc = Initialisation.DeepClustering;
            double? Mean(StudyModel m) => MeanOrNull(Rows.Where(r => r.Head == FixMatchStudy.HeadName(m) && r.Init == FixMatchStudy.InitName(dc)).Select(r => r.F1Weighted));
            var smallest = Settings.LabelFractions.Min();
            return new FixMatchHeadline([.. Rows], Mean(StudyModel.OneHead), Mean(StudyModel.TwoHead),
                MeanOrNull(Paired(StudyModel.TwoHead, dc, StudyModel.OneHead, dc).Select(p => p.Difference)),
                MeanOrNull(Paired(StudyModel.TwoHead, dc, StudyModel.TwoHead, Initialisation.Random).Where(p => p.Fraction == smallest).Select(p => p.Difference)),
                Best(), DeepClustering);
        }
    }

    /// <summary>Table 2: the setting (model, initialisation, fraction) with the highest mean weighted F1, shown through its
    /// run of median F1 among the seeds (not the luckiest seed).</summary>
    public PerClassBest Best()
    {
        var setting = Runs.GroupBy(r => (r.Row.Head, r.Row.Init, r.Row.LabelFraction)).MaxBy(g => g.Average(r => r.Row.F1Weighted))!;
        var ordered = setting.OrderBy(r => r.Row.F1Weighted).ToList();
        var run = ordered[(ordered.Count - 1) / 2];
        var report = run.Report;
        var names = Data.LabelNames;
        return new PerClassBest(run.Row.Head, run.Row.Init, run.Row.LabelFraction, run.Row.Seed,
            [.. names.Select((n, c) => new PerClassScore(n, report.F1[c], report.Precision[c], report.Recall[c], report.Support[c]))],
            new PerClassScore("weighted avg", report.WeightedF1, report.WeightedPrecision, report.WeightedRecall, report.Support.Sum()));
    }

    /// <summary>results.json (the headline) and the CSV of all rows beside it.</summary>
    public string? Save(string? path = null) => ResultsFile.Save(Headline, Study, path);

    private static double? MeanOrNull(IEnumerable<double> values)
    {
        var list = values.ToList();
        return list.Count == 0 ? null : list.Average();
    }

    public void Dispose() => Example.Dispose();
}

/// <summary>Dadoun et al. (2022)'s semi-supervised comparison (§3.3.2, Fig. 6, Table 2) on the synthetic ultrasound exams:
/// One-Head and Two-Head FixMatch and the supervised baseline, from random and deep-clustering initialisation, for several
/// fractions of the labelled split, over seeds. Every model is evaluated through its EMA copy with per-class thresholds that
/// maximise F1 on the validation images (§3.2); batches are drawn by exam (§3.2).</summary>
public static class FixMatchStudy
{
    public static string HeadName(StudyModel model) => model switch
    {
        StudyModel.OneHead => "one",
        StudyModel.TwoHead => "two",
        _ => "supervised",
    };

    /// <summary>How figures name a model: "Two-Head, deep clustering", "supervised, random", …</summary>
    public static string DisplayName(StudyModel model, Initialisation init) =>
        $"{model switch { StudyModel.OneHead => "One-Head", StudyModel.TwoHead => "Two-Head", _ => "supervised" }}, {(init == Initialisation.Random ? "random" : "deep clustering")}";

    public static string InitName(Initialisation init) => init == Initialisation.Random ? "random" : "deep_clustering";

    /// <summary>The study's data: one synthetic set (the seeds vary the labelled subset, the weights and the batches, as in the
    /// paper, where the data is fixed).</summary>
    public static ImageDataset MakeData(FixMatchStudySettings settings) =>
        SyntheticUltrasound.Make(settings.Images, settings.DataSeed, settings.ImageSize, settings.SplitFractions);

    /// <summary>The labelled images of a fraction for a seed: whole exams of the labelled split in a seeded order until the
    /// fraction of its images is reached (at least one exam), so the subsets of one seed are nested (10 % ⊂ 20 % ⊂ …).</summary>
    public static int[] LabelledSubset(ImageDataset labelled, double fraction, int seed)
    {
        if (fraction is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the labelled fraction must be in (0, 1]");
        var exams = Enumerable.Range(0, labelled.Count).GroupBy(labelled.ExamId).Select(g => g.ToArray()).ToArray();
        var order = SeededRandom.Permutation(exams.Length, seed, 7);
        var target = fraction * labelled.Count;
        var chosen = new List<int>();
        foreach (var e in order)
        {
            if (chosen.Count > 0 && chosen.Count >= target - 1e-9) break;
            chosen.AddRange(exams[e]);
        }
        chosen.Sort();
        return [.. chosen];
    }

    /// <summary>Trains one model and scores it: <paramref name="backbone"/> gives the initial weights (deep clustering) or
    /// null (random weights from <paramref name="seed"/>).</summary>
    public static (FixMatchRun Run, FixMatchMultiLabel Method) Train(ImageDataset data, LabelCombinations combinations, FixMatchStudySettings settings,
        StudyModel model, Initialisation init, ResNet? backbone, double fraction, int seed, Trainer trainer)
    {
        if (init == Initialisation.DeepClustering && backbone is null)
            throw new ArgumentException("deep-clustering initialisation needs the pre-trained backbone", nameof(backbone));
        var labelledSplit = data.Where(DataSplit.Labelled);
        var subset = labelledSplit.Subset(LabelledSubset(labelledSplit, fraction, seed));
        var options = new FixMatchOptions { Head = model == StudyModel.TwoHead ? FixMatchHead.Two : FixMatchHead.One }.ForSteps(settings.Steps);
        if (model == StudyModel.Supervised) options = options.SupervisedOnly();
        var k = model == StudyModel.TwoHead ? combinations.K : 0;
        MultiLabelClassifier MakeNetwork()
        {
            torch.manual_seed(seed);   // libtorch draws the initial weights: the same backbone and heads for every model of a seed
            var resnet = new ResNet(data.Channels, settings.Widths);
            if (backbone is not null) CopyWeights(backbone, resnet);
            return new MultiLabelClassifier(resnet, data.LabelNames.Count, k);
        }
        var method = new FixMatchMultiLabel(MakeNetwork, model == StudyModel.TwoHead ? combinations : null, options);
        try
        {
            using var generator = new SeededRandom(seed, 11).TorchGenerator();
            var unlabelled = options.UsesUnlabelled ? data.Where(DataSplit.Unlabelled) : null;
            var batches = Batches.SemiSupervisedByExam(subset, new ExamBatchSampler(ExamIds(subset), settings.LabelledExamsPerBatch, seed),
                unlabelled, unlabelled is null ? null : new ExamBatchSampler(ExamIds(unlabelled), settings.LabelledExamsPerBatch * settings.Mu, seed + 1),
                new WeakAugment(), new RandAugment(), generator);
            var phase = $"{HeadName(model)}, {InitName(init)}, {fraction:P0} labelled, seed {seed}";
            var first = trainer.History.Count;
            trainer.Run(method, batches, phase, settings.Steps);
            var maskRates = options.UsesUnlabelled ? trainer.History.Skip(first).Select(s => s.Losses["mask_rate"]).ToArray() : [];
            var report = Evaluate(method, data);
            var tail = maskRates.Skip(maskRates.Length - Math.Max(1, maskRates.Length / 10)).ToArray();
            var row = new FixMatchRow(HeadName(model), InitName(init), fraction, seed, report.WeightedF1, subset.Count, tail.Length == 0 ? null : tail.Average());
            return (new FixMatchRun(row, model, init, report, maskRates), method);
        }
        catch
        {
            method.Dispose();
            throw;
        }
    }

    /// <summary>Dadoun et al. (2022)'s evaluation (§3.2): the model's probabilities on the validation images choose each
    /// class's threshold (maximum F1), which then binarises the test probabilities.</summary>
    public static MultiLabelReport Evaluate(FixMatchMultiLabel method, ImageDataset data)
    {
        var validation = data.Where(DataSplit.Validation);
        var test = data.Where(DataSplit.Test);
        var thresholds = new F1Thresholds().Fit(validation.LabelMatrix(), Probabilities(method, validation));
        return MultiLabelReport.Compute(test.LabelMatrix(), thresholds.Predict(Probabilities(method, test)));
    }

    /// <summary>The EMA model's sigmoid outputs [N, C] for every image of <paramref name="data"/>.</summary>
    public static double[,] Probabilities(FixMatchMultiLabel method, ImageDataset data)
    {
        using var scope = torch.NewDisposeScope();
        var parts = new List<Tensor>();
        for (var start = 0; start < data.Count; start += 256)
        {
            var (images, _) = data.Batch(Enumerable.Range(start, Math.Min(256, data.Count - start)).ToArray());
            parts.Add(method.Predict(images));
        }
        var all = torch.cat(parts).to(ScalarType.Float64);
        var values = all.data<double>().ToArray();
        int n = data.Count, c = (int)all.size(1);
        var result = new double[n, c];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < c; j++) result[i, j] = values[i * c + j];
        return result;
    }

    /// <summary>The deep-clustering backbone (§2.3.3): the one notebook 01 saved beside this run's results
    /// (<see cref="PicaStudy.BackbonePath"/>) when it is there, otherwise PICA + L_SD pre-trained here on the unlabelled
    /// images (<see cref="PicaStudy.PretrainBackbone"/>). Says which.</summary>
    public static (ResNet Backbone, string Source) DeepClusteringBackbone(ImageDataset data, RunProfile profile)
    {
        var path = PicaStudy.BackbonePath();
        if (File.Exists(path))
        {
            var loaded = PicaStudy.NewBackbone(profile, 0);
            loaded.LoadSafetensors(path);
            return (loaded, $"loaded from {Path.GetFileName(path)} (notebook 01's PICA + L_SD backbone)");
        }
        var started = DateTime.UtcNow;
        var trained = PicaStudy.PretrainBackbone(data, profile, 0);
        return (trained, $"pre-trained here (PICA + L_SD on the {data.IndicesOf(DataSplit.Unlabelled).Length} unlabelled images, {profile.ToString().ToLowerInvariant()} profile, " +
            $"{(DateTime.UtcNow - started).TotalSeconds:F0} s): notebook 01's {Path.GetFileName(path)} was not found beside the results");
    }

    /// <summary>The models trained from one initialisation.</summary>
    public static IEnumerable<StudyModel> Models(FixMatchStudySettings settings, Initialisation init) =>
        Enum.GetValues<StudyModel>().Where(m => settings.OneHeadFromRandom || init == Initialisation.DeepClustering || m != StudyModel.OneHead);

    /// <summary>The protocol: for every seed, fraction, initialisation and model, one trained model. With
    /// <paramref name="deepClustering"/> false only random initialisation runs. The Two-Head model of the first seed at the
    /// largest fraction (deep-clustering init when present) is kept for the figures.</summary>
    public static FixMatchResults Run(RunProfile profile, bool deepClustering = true, FixMatchStudySettings? settings = null)
    {
        settings ??= FixMatchStudySettings.For(profile);
        var threads = torch.get_num_threads();
        if (settings.Threads > 0) torch.set_num_threads(settings.Threads);
        try { return RunProtocol(profile, deepClustering, settings); }
        finally { torch.set_num_threads(threads); }
    }

    private static FixMatchResults RunProtocol(RunProfile profile, bool deepClustering, FixMatchStudySettings settings)
    {
        var data = MakeData(settings);
        var combinations = LabelCombinations.Of(data.Where(DataSplit.Labelled));
        var pretrained = deepClustering ? DeepClusteringBackbone(data, profile) : ((ResNet Backbone, string Source)?)null;
        Initialisation[] inits = deepClustering ? [Initialisation.Random, Initialisation.DeepClustering] : [Initialisation.Random];
        var exampleInit = inits[^1];
        var exampleFraction = settings.LabelFractions.Max();
        var runs = new List<FixMatchRun>();
        FixMatchMultiLabel? example = null;
        FixMatchRun? exampleRun = null;
        using var trainer = new Trainer();
        try
        {
            for (var seed = 0; seed < settings.Seeds; seed++)
                foreach (var fraction in settings.LabelFractions)
                    foreach (var init in inits)
                        foreach (var model in Models(settings, init))
                        {
                            var (run, method) = Train(data, combinations, settings, model, init, init == Initialisation.DeepClustering ? pretrained!.Value.Backbone : null, fraction, seed, trainer);
                            runs.Add(run);
                            if (seed == 0 && fraction == exampleFraction && init == exampleInit && model == StudyModel.TwoHead)
                                (example, exampleRun) = (method, run);
                            else method.Dispose();
                        }
        }
        catch
        {
            example?.Dispose();
            throw;
        }
        finally { pretrained?.Backbone.Dispose(); }
        return new FixMatchResults(settings, data, runs, pretrained?.Source ?? "not run (random initialisation only)", example!, exampleRun!);
    }

    private static string[] ExamIds(ImageDataset data) => [.. Enumerable.Range(0, data.Count).Select(data.ExamId)];

    private static void CopyWeights(ResNet from, ResNet to)
    {
        var source = from.state_dict();
        var target = to.state_dict();
        var problems = target.Where(kv => !source.TryGetValue(kv.Key, out var t) || !t.shape.SequenceEqual(kv.Value.shape)).Select(kv => kv.Key).ToList();
        if (problems.Count > 0 || source.Count != target.Count)
            throw new ArgumentException($"the pre-trained backbone does not have the study's ResNet shape ({source.Count} tensors for {target.Count}; " +
                $"missing or differently shaped: {string.Join(", ", problems)})", nameof(from));
        using var noGrad = torch.no_grad();
        foreach (var (name, tensor) in target) tensor.copy_(source[name]);
    }
}

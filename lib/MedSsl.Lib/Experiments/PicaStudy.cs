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

/// <summary>The sizes of the protocol for a profile: the synthetic set, the network, the training and the sweep.</summary>
public sealed record PicaSettings(int Images, int ImageSize, long[] Widths, int Epochs, int ExamsPerBatch, int Seeds,
    double[] Lambdas, int TsnePoints);

/// <summary>One trained model of the protocol, scored on the test split after Algorithm 1 on the development split.
/// <see cref="ClusterSizeDistance"/> compares the cluster sizes on the unlabelled training images with their true
/// label-combination frequencies (<see cref="PicaStudies.SortedSizeDistance"/>).</summary>
public sealed record PicaRow(string Loss, double Lambda, int Seed, double F1Weighted, double PrecisionWeighted, double RecallWeighted,
    double F1WeightedAtHalf, double ClusterSizeDistance, int ClustersUsed, double Nmi);

/// <summary>One class of one trained model (Table 1's cells), with the F1-optimal thresholds.</summary>
public sealed record PicaClassRow(string Loss, double Lambda, int Seed, string Class, double F1, double Precision, double Recall, int Support);

/// <summary>A trained model with what it was scored with: its cluster assignments per split and its matching.</summary>
public sealed record PicaRun(string Loss, double Lambda, int Seed, Pica Model, ClusterLabelMatching Matching,
    int[] TrainClusters, int[] DevelopmentClusters, int[] TestClusters) : IDisposable
{
    public void Dispose() => Model.Dispose();
}

public sealed record PicaClassScores(
    [property: JsonPropertyName("f1")] double F1,
    [property: JsonPropertyName("precision")] double Precision,
    [property: JsonPropertyName("recall")] double Recall);

public sealed record PicaSweepPoint(
    [property: JsonPropertyName("loss")] string Loss,
    [property: JsonPropertyName("lambda")] double Lambda,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("f1_weighted")] double F1Weighted);

/// <summary>The values results.json reports (issue 12): means and bests over seeds at the default λ, the sweep, and
/// Table 1's per-class means.</summary>
public sealed record PicaHeadline(
    [property: JsonPropertyName("f1_weighted_pica")] double F1WeightedPica,
    [property: JsonPropertyName("f1_weighted_lsd")] double F1WeightedLsd,
    [property: JsonPropertyName("f1_weighted_best_pica")] double F1WeightedBestPica,
    [property: JsonPropertyName("f1_weighted_best_lsd")] double F1WeightedBestLsd,
    [property: JsonPropertyName("cluster_size_distance_pica")] double ClusterSizeDistancePica,
    [property: JsonPropertyName("cluster_size_distance_lsd")] double ClusterSizeDistanceLsd,
    [property: JsonPropertyName("lambda_sweep")] PicaSweepPoint[] LambdaSweep,
    [property: JsonPropertyName("per_class")] IReadOnlyDictionary<string, IReadOnlyDictionary<string, PicaClassScores>> PerClass);

/// <summary>The protocol's results: every row, Table 1, the sweep, the cluster sizes, and the runs of the example seed
/// at the default λ (kept so the figures show the very models the numbers come from).</summary>
public sealed class PicaStudyResult(PicaSettings settings, ImageDataset data, Study<PicaRow> runs, Study<PicaClassRow> classes,
    IReadOnlyDictionary<(string Loss, double Lambda, int Seed), double[]> sortedSizes, double[] trueFrequencies,
    IReadOnlyDictionary<string, PicaRun> examples) : IDisposable
{
    public PicaSettings Settings { get; } = settings;
    public ImageDataset Data { get; } = data;
    public Study<PicaRow> Runs { get; } = runs;
    public Study<PicaClassRow> Classes { get; } = classes;
    public IReadOnlyList<PicaRow> Rows => Runs.Rows;
    /// <summary>Label-combination frequencies of the unlabelled training images, largest first.</summary>
    public double[] TrueFrequencies { get; } = trueFrequencies;
    /// <summary>The example seed's runs at the default λ, by loss ("pica", "lsd").</summary>
    public IReadOnlyDictionary<string, PicaRun> Examples { get; } = examples;

    public IEnumerable<PicaRow> AtDefault(string loss) => Rows.Where(r => r.Loss == loss && r.Lambda == PicaStudy.DefaultLambda);

    /// <summary>Mean weighted F1 (and size distance) with 95 % CIs per loss and λ.</summary>
    public DataFrame Summary => Runs.Summarize(r => new { r.Loss, r.Lambda },
        [("f1_weighted", r => r.F1Weighted), ("f1_weighted_at_0.5", r => r.F1WeightedAtHalf), ("cluster_size_distance", r => r.ClusterSizeDistance), ("nmi", r => r.Nmi)]);

    /// <summary>Table 1's layout at the default λ: rows (measure, loss), per class and for the weighted average the best
    /// and the mean over seeds (each cell's best is taken on its own, as Table 1 reports).</summary>
    public DataFrame Table1
    {
        get
        {
            var classNames = Data.LabelNames;
            var cells = new List<(string Column, List<double> Values)>();
            foreach (var name in classNames.Append("weighted avg"))
            {
                cells.Add(($"{name} best", []));
                cells.Add(($"{name} mean", []));
            }
            var measures = new (string Name, Func<PicaClassRow, double> Class, Func<PicaRow, double> Weighted)[]
            {
                ("F1", c => c.F1, r => r.F1Weighted), ("precision", c => c.Precision, r => r.PrecisionWeighted), ("recall", c => c.Recall, r => r.RecallWeighted),
            };
            var labels = new List<(string Measure, string Loss)>();
            foreach (var (measure, ofClass, weighted) in measures)
                foreach (var loss in PicaStudy.Losses)
                {
                    labels.Add((measure, PicaStudy.DisplayName(loss)));
                    var k = 0;
                    foreach (var name in classNames)
                    {
                        var values = Classes.Rows.Where(c => c.Loss == loss && c.Lambda == PicaStudy.DefaultLambda && c.Class == name).Select(ofClass).ToList();
                        cells[k++].Values.Add(100 * values.Max());
                        cells[k++].Values.Add(100 * values.Average());
                    }
                    var overall = AtDefault(loss).Select(weighted).ToList();
                    cells[k++].Values.Add(100 * overall.Max());
                    cells[k].Values.Add(100 * overall.Average());
                }
            // Table 1's last row: the labels per class in the test split, and their total.
            labels.Add(("n_labels", ""));
            var support = Data.Where(DataSplit.Test).LabelCounts();
            for (var j = 0; j <= classNames.Count; j++)
            {
                var n = j < classNames.Count ? support[j] : support.Sum();
                cells[2 * j].Values.Add(n);
                cells[2 * j + 1].Values.Add(n);
            }
            return new DataFrame([new StringDataFrameColumn("measure", labels.Select(l => l.Measure)), new StringDataFrameColumn("loss", labels.Select(l => l.Loss)),
                .. cells.Select(c => (DataFrameColumn)new DoubleDataFrameColumn(c.Column, c.Values.Select(v => Math.Round(v, 2))))]);
        }
    }

    /// <summary>Per loss, the mean over seeds at the default λ of the sorted cluster sizes on the unlabelled training images.</summary>
    public double[] MeanSortedSizes(string loss)
    {
        var runs = sortedSizes.Where(p => p.Key.Loss == loss && p.Key.Lambda == PicaStudy.DefaultLambda).Select(p => p.Value).ToList();
        var length = runs.Max(r => r.Length);
        return [.. Enumerable.Range(0, length).Select(k => runs.Average(r => k < r.Length ? r[k] : 0))];
    }

    /// <summary>The matched clusters of an example run: cluster, its size on the unlabelled training and development
    /// images, the organs its v̂ holds at ≥ 0.5, v̂ itself, and the most common true combination among its training images.</summary>
    public DataFrame MatchedClusters(string loss)
    {
        var run = Examples[loss];
        var combinations = LabelCombinations.Of(Data.Where(DataSplit.Unlabelled));
        var k = run.Matching.Clusters;
        var names = Data.LabelNames;
        var order = Enumerable.Range(0, k).OrderByDescending(c => run.TrainClusters.Count(t => t == c)).ToArray();
        string Organs(int c) => string.Join('+', names.Where((_, j) => run.Matching.ClusterLabels[c, j] >= 0.5)) is { Length: > 0 } s ? s : "(none)";
        string Vector(int c) => string.Join(", ", names.Select((n, j) => (n, v: run.Matching.ClusterLabels[c, j])).Where(p => p.v > 0).Select(p => $"{p.n} {p.v:0.00}"));
        string Majority(int c)
        {
            var members = Enumerable.Range(0, run.TrainClusters.Length).Where(i => run.TrainClusters[i] == c).ToList();
            return members.Count == 0 ? "" : combinations.Name(members.GroupBy(i => combinations.Assignments[i]).MaxBy(g => g.Count())!.Key);
        }
        return new DataFrame(
            new Int32DataFrameColumn("cluster", order),
            new Int32DataFrameColumn("train_size", order.Select(c => run.TrainClusters.Count(t => t == c))),
            new Int32DataFrameColumn("dev_size", order.Select(c => run.Matching.ClusterSizes[c])),
            new StringDataFrameColumn("organs", order.Select(Organs)),
            new StringDataFrameColumn("mean_label_vector", order.Select(Vector)),
            new StringDataFrameColumn("majority_true_combination", order.Select(Majority)));
    }

    /// <summary>t-SNE of the backbone features f(x) of an example run on up to <see cref="PicaSettings.TsnePoints"/> unlabelled
    /// training images spread evenly over the split, with each image's cluster and true label combination.</summary>
    public (double[,] Points, string[] Clusters, string[] Combinations) Embedding(string loss)
    {
        var run = Examples[loss];
        var train = Data.Where(DataSplit.Unlabelled);
        var n = Math.Min(Settings.TsnePoints, train.Count);
        int[] chosen = [.. Enumerable.Range(0, n).Select(i => (int)((long)i * train.Count / n))];
        double[,] features;
        using (torch.NewDisposeScope())
        {
            var (images, _) = train.Batch(chosen);
            var f = run.Model.Features(images).to(ScalarType.Float64);
            features = new double[n, f.size(1)];
            var flat = f.data<double>().ToArray();
            Buffer.BlockCopy(flat, 0, features, 0, flat.Length * sizeof(double));
        }
        var combinations = LabelCombinations.Of(train);
        return (new Embedding.Tsne { Seed = run.Seed }.FitTransform(features),
            [.. chosen.Select(i => $"cluster {run.TrainClusters[i]:D2}")], [.. chosen.Select(i => combinations.Name(combinations.Assignments[i]))]);
    }

    public PicaHeadline Headline
    {
        get
        {
            double Mean(string loss, Func<PicaRow, double> value) => AtDefault(loss).Average(value);
            var perClass = PicaStudy.Losses.ToDictionary(loss => loss, loss => (IReadOnlyDictionary<string, PicaClassScores>)Data.LabelNames.ToDictionary(name => name, name =>
            {
                var rows = Classes.Rows.Where(c => c.Loss == loss && c.Lambda == PicaStudy.DefaultLambda && c.Class == name).ToList();
                return new PicaClassScores(rows.Average(r => r.F1), rows.Average(r => r.Precision), rows.Average(r => r.Recall));
            }));
            return new PicaHeadline(
                Mean("pica", r => r.F1Weighted), Mean("lsd", r => r.F1Weighted),
                AtDefault("pica").Max(r => r.F1Weighted), AtDefault("lsd").Max(r => r.F1Weighted),
                Mean("pica", r => r.ClusterSizeDistance), Mean("lsd", r => r.ClusterSizeDistance),
                [.. Rows.Select(r => new PicaSweepPoint(r.Loss, r.Lambda, r.Seed, r.F1Weighted))],
                perClass);
        }
    }

    /// <summary>results.json (the headline), the CSV of every run and the CSV of every class score beside it.</summary>
    public string? Save(string? path = null)
    {
        ResultsFile.Save(Headline, Classes, path);
        return ResultsFile.Save(Headline, Runs, path);
    }

    public void Dispose()
    {
        foreach (var run in Examples.Values) run.Dispose();
    }
}

/// <summary>Helpers of the deep-clustering protocol that need no trained model.</summary>
public static class PicaStudies
{
    /// <summary>Total variation ½ Σ_k |s_(k) − f_(k)| between two distributions each sorted from largest to smallest
    /// (the shorter padded with zeros). Clusters carry no identity, so the sizes are compared as a shape: how unbalanced
    /// they are against how unbalanced the true label combinations are. 0 when the shapes agree; at most 1.</summary>
    public static double SortedSizeDistance(IReadOnlyList<double> sizes, IReadOnlyList<double> frequencies)
    {
        double[] Normalised(IReadOnlyList<double> v)
        {
            var total = v.Sum();
            if (v.Count == 0 || total <= 0 || v.Any(x => x < 0)) throw new ArgumentException("a size distribution needs non-negative values with a positive sum");
            return [.. v.Select(x => x / total).OrderDescending()];
        }
        var a = Normalised(sizes);
        var b = Normalised(frequencies);
        var n = Math.Max(a.Length, b.Length);
        return 0.5 * Enumerable.Range(0, n).Sum(k => Math.Abs((k < a.Length ? a[k] : 0) - (k < b.Length ? b[k] : 0)));
    }

    /// <summary>Images per cluster as a fraction of all, largest first (all K clusters, empty ones as 0).</summary>
    public static double[] SortedFractions(IReadOnlyList<int> clusters, int k) =>
        [.. Enumerable.Range(0, k).Select(c => clusters.Count(x => x == c) / (double)clusters.Count).OrderDescending()];
}

/// <summary>Dadoun et al. 2022's deep-clustering experiment (§2.2, §3.3.1, Table 1, Fig. 5) on the synthetic ultrasound
/// exams: PICA (L_CE + λ L_NE) against PICA + L_SD (L_CE + λ L_SD) trained without labels on the unlabelled split, each
/// cluster matched to a multi-label vector on the development split (the labelled and validation patients, Algorithm 1,
/// F1-optimal thresholds there), and scored on the test split, for λ ∈ {0.5, 1, 2, 5, 10} and several seeds.</summary>
public static class PicaStudy
{
    /// <summary>λ = 2, PICA's default and the one of Table 1 (Dadoun et al. 2022, §3.3.1).</summary>
    public const double DefaultLambda = 2.0;
    public static readonly IReadOnlyList<string> Losses = ["pica", "lsd"];
    public const string NotebookStem = "01-deep-clustering-pica-vs-lsd";

    public static string DisplayName(string loss) => loss == "pica" ? "PICA" : "PICA + L_SD";

    /// <summary>Quick: 600 images of 32×32, a 3-stage ResNet of width 8–32, 2 seeds; full: the default synthetic set of
    /// 4000 images at 64×64, the library's ResNet (ResNet-18's shape at ¼ width), 4 seeds (§3.2's count), 5 λ each.</summary>
    public static PicaSettings Settings(RunProfile profile) => profile.Pick(
        quick: new PicaSettings(Images: 600, ImageSize: 16, Widths: [8, 16, 32], Epochs: 8, ExamsPerBatch: 4, Seeds: 2,
            Lambdas: [0.5, 1, 2, 5, 10], TsnePoints: 360),
        full: new PicaSettings(Images: SyntheticUltrasound.DefaultCount(RunProfile.Full), ImageSize: 64, Widths: [16, 32, 64, 128], Epochs: 30, ExamsPerBatch: 16, Seeds: 4,
            Lambdas: [0.5, 1, 2, 5, 10], TsnePoints: 1000));

    /// <summary>The synthetic exams of a profile (drawn once per study: seeds vary the training, as in §3.2).</summary>
    public static ImageDataset MakeData(RunProfile profile, int dataSeed = 0)
    {
        var s = Settings(profile);
        return SyntheticUltrasound.Make(s.Images, dataSeed, s.ImageSize);
    }

    /// <summary>The development images: the labelled and validation patients (only they lend labels to clusters).</summary>
    public static ImageDataset Development(ImageDataset data) =>
        data.Subset([.. data.IndicesOf(DataSplit.Labelled).Concat(data.IndicesOf(DataSplit.Validation)).Order()]);

    /// <summary>K (§2.2.3): the number of label combinations seen among the development images — the label prior
    /// available without looking at the unlabelled data's labels.</summary>
    public static int Clusters(ImageDataset data)
    {
        var development = Development(data);
        return Math.Max(2, LabelCombinations.Of(development.Count > 0 ? development : data).K);
    }

    /// <summary>The backbone f of a profile, its initial weights drawn from <paramref name="seed"/>.</summary>
    public static ResNet NewBackbone(RunProfile profile, int seed)
    {
        torch.manual_seed(seed);
        return new ResNet(inChannels: 1, widths: Settings(profile).Widths);
    }

    public static PicaOptions Options(RunProfile profile, int clusters, ClusterSizeLoss sizeLoss, double lambda, int seed)
    {
        var s = Settings(profile);
        return new PicaOptions { Clusters = clusters, SizeLoss = sizeLoss, Lambda = lambda, Epochs = s.Epochs, ExamsPerBatch = s.ExamsPerBatch, LearningRate = LearningRate(profile), Seed = seed };
    }

    /// <summary>Quick runs a few hundred steps, so Adam's 1e-4 (§3.2) barely moves the weights; 1e-3 there.</summary>
    public static double LearningRate(RunProfile profile) => profile.Pick(quick: 1e-3, full: 1e-4);

    /// <summary>PICA + L_SD at the default λ trained without labels on <paramref name="data"/>'s unlabelled images (all
    /// images when it has no unlabelled split); returns the backbone f for fine-tuning or FixMatch (§2.2.4, §2.3.3).
    /// K comes from the development images' label combinations (<see cref="Clusters"/>).</summary>
    public static ResNet PretrainBackbone(ImageDataset data, RunProfile profile, int seed)
    {
        var unlabelled = data.IndicesOf(DataSplit.Unlabelled) is { Length: > 0 } u ? data.Subset(u) : data;
        using var trainer = new Trainer();
        var pica = new Pica(NewBackbone(profile, seed), Options(profile, Clusters(data), ClusterSizeLoss.SymmetricDirichlet, DefaultLambda, seed));
        pica.Fit(unlabelled, trainer, "PICA + L_SD pre-training");
        pica.Head.Dispose();
        return pica.Backbone;
    }

    /// <summary>Trains one model and scores it: Algorithm 1 on the development images, F1-optimal thresholds there,
    /// the test split's per-class report; cluster sizes on the unlabelled training images.</summary>
    public static (PicaRun Run, PicaRow Row, PicaClassRow[] Classes, double[] SortedSizes) Run(ImageDataset data, RunProfile profile, string loss, double lambda, int seed, Trainer trainer)
    {
        var train = data.Where(DataSplit.Unlabelled);
        var development = Development(data);
        var test = data.Where(DataSplit.Test);
        var k = Clusters(data);
        var pica = new Pica(NewBackbone(profile, seed), Options(profile, k, loss == "pica" ? ClusterSizeLoss.NegativeEntropy : ClusterSizeLoss.SymmetricDirichlet, lambda, seed));
        pica.Fit(train, trainer, $"{DisplayName(loss)}, λ = {lambda}, seed {seed}");
        var trainClusters = pica.PredictClusters(train);
        var devClusters = pica.PredictClusters(development);
        var testClusters = pica.PredictClusters(test);
        var matching = new ClusterLabelMatching().Fit(devClusters, development.LabelMatrix(), k);
        var truth = test.LabelMatrix();
        var report = MultiLabelReport.Compute(truth, matching.PredictLabels(testClusters));
        var atHalf = MultiLabelReport.Compute(truth, matching.PredictLabels(testClusters, 0.5));
        var sorted = PicaStudies.SortedFractions(trainClusters, k);
        var row = new PicaRow(loss, lambda, seed, report.WeightedF1, report.WeightedPrecision, report.WeightedRecall, atHalf.WeightedF1,
            PicaStudies.SortedSizeDistance(sorted, TrueFrequencies(train)), trainClusters.Distinct().Count(),
            Clustering.Nmi(LabelCombinations.Of(test).Assignments, testClusters));
        var classes = data.LabelNames.Select((name, j) => new PicaClassRow(loss, lambda, seed, name, report.F1[j], report.Precision[j], report.Recall[j], report.Support[j])).ToArray();
        return (new PicaRun(loss, lambda, seed, pica, matching, trainClusters, devClusters, testClusters), row, classes, sorted);
    }

    /// <summary>How often each label combination occurs among <paramref name="images"/>, largest first.</summary>
    public static double[] TrueFrequencies(IImageDataset images) =>
        [.. LabelCombinations.Of(images).Counts.Select(c => c / (double)images.Count)];

    /// <summary>The protocol: for every seed, both losses at every λ of the profile; the runs of
    /// <paramref name="exampleSeed"/> at the default λ are kept for figures.</summary>
    public static PicaStudyResult RunStudy(RunProfile profile, int exampleSeed = 0, int dataSeed = 0)
    {
        var settings = Settings(profile);
        var data = MakeData(profile, dataSeed);
        var seeds = Enumerable.Range(0, settings.Seeds).ToList();
        if (!seeds.Contains(exampleSeed)) seeds.Add(exampleSeed);
        var rows = new List<PicaRow>();
        var classRows = new List<PicaClassRow>();
        var sizes = new Dictionary<(string, double, int), double[]>();
        var examples = new Dictionary<string, PicaRun>();
        using var trainer = new Trainer();
        try
        {
            foreach (var seed in seeds)
                foreach (var loss in Losses)
                    foreach (var lambda in settings.Lambdas.Where(l => seed < settings.Seeds || l == DefaultLambda))
                    {
                        var (run, row, classes, sorted) = Run(data, profile, loss, lambda, seed, trainer);
                        if (seed < settings.Seeds)
                        {
                            rows.Add(row);
                            classRows.AddRange(classes);
                            sizes[(loss, lambda, seed)] = sorted;
                        }
                        if (seed == exampleSeed && lambda == DefaultLambda) examples[loss] = run;
                        else run.Dispose();
                    }
        }
        catch
        {
            foreach (var run in examples.Values) run.Dispose();
            throw;
        }
        return new PicaStudyResult(settings, data, new Study<PicaRow>("runs", rows), new Study<PicaClassRow>("classes", classRows),
            sizes, TrueFrequencies(data.Where(DataSplit.Unlabelled)), examples);
    }

    /// <summary>Where the notebook saves its example backbone: beside the run's results (<see cref="RunContext"/>),
    /// or under <c>out/</c> when run interactively.</summary>
    public static string BackbonePath() =>
        RunContext.Current.ArtefactPath("backbone.safetensors") ?? Path.GetFullPath(Path.Combine("out", NotebookStem + ".backbone.safetensors"));
}

using MedSsl.Data;
using MedSsl.Data.Sampling;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Reports;
using MedSsl.Training;
using Microsoft.Data.Analysis;
using Plotly.NET;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Experiments;

/// <summary>The sizes of the deep-clustering protocol for a profile: the synthetic set (drawn once, as the paper's data
/// set is one), the network, the training, the seeds and the grid (λ of Fig. 5, ε of L_SD's α = 1 + ε).</summary>
public sealed record PicaSettings(int Images, int ImageSize, long[] Widths, int Epochs, int ExamsPerBatch, int Seeds,
    double[] Lambdas, int TsnePoints)
{
    /// <summary>ε values of the L_SD ablation at the default λ (the paper gives none; <see cref="PicaStudy.DefaultEpsilon"/> is ours).</summary>
    public double[] Epsilons { get; init; } = [PicaStudy.DefaultEpsilon];
    /// <summary>Adam's fixed learning rate (§3.2: 1e-4).</summary>
    public double LearningRate { get; init; } = 1e-4;
    /// <summary>libtorch threads while the protocol runs (0: libtorch's default). One thread spends the least CPU time
    /// on networks this small.</summary>
    public int Threads { get; init; }
}

/// <summary>A trained model (PICA or PICA + L_SD) with Algorithm 1 fitted on the development images, and the most
/// probable cluster of every image of each split.</summary>
public sealed record PicaRun(PicaSetting Setting, int Seed, Pica Model, ClusterLabelMatching Matching,
    int[] TrainClusters, int[] DevelopmentClusters, int[] TestClusters) : IDisposable
{
    public void Dispose() => Model.Dispose();
}

/// <summary>One trained model, scored on the test split (F1-optimal thresholds from the development split, and at 0.5),
/// with the mechanism: how far its cluster sizes are from the true label-combination frequencies and from uniform —
/// on the hard partition of all unlabelled training images, and on the soft per-batch cluster mass z of eq. 4, the very
/// quantity L_NE and L_SD act on (<see cref="PicaStudies.SortedSizeDistance"/>).</summary>
public sealed record PicaRow(string Loss, double Lambda, double Epsilon, int Seed, double F1Weighted, double PrecisionWeighted,
    double RecallWeighted, double F1WeightedAtHalf, double Nmi, int ClustersUsed, double LargestCluster,
    double HardToTrue, double HardToUniform, double SoftToTrue, double SoftToUniform) : ISeededRow;

/// <summary>One class of one trained model (Table 1's cells), with the F1-optimal thresholds.</summary>
public sealed record PicaClassRow(string Loss, double Lambda, double Epsilon, int Seed, string Class, double F1, double Precision, double Recall, int Support);

/// <summary>Training and scoring one run of the deep-clustering protocol; what the protocol file leaves to plumbing.</summary>
public static class PicaRuns
{
    /// <summary>PICA on the unlabelled images (labels unused), then Algorithm 1 on the development images.</summary>
    public static PicaRun Train(ImageDataset data, PicaSettings settings, PicaSetting setting, int seed, Trainer trainer)
    {
        var train = data.Where(DataSplit.Unlabelled);
        var development = PicaStudy.Development(data);
        var k = PicaStudy.Clusters(data);
        var pica = new Pica(PicaStudy.NewBackbone(settings, seed), PicaStudy.Options(settings, k, setting, seed));
        try
        {
            pica.Fit(train, trainer, setting.ToString());
            var devClusters = pica.PredictClusters(development);
            var matching = new ClusterLabelMatching().Fit(devClusters, development.LabelMatrix(), k);
            return new PicaRun(setting, seed, pica, matching, pica.PredictClusters(train), devClusters, pica.PredictClusters(data.Where(DataSplit.Test)));
        }
        catch
        {
            pica.Dispose();
            throw;
        }
    }

    /// <summary>The run's row, its per-class rows, and its sorted hard sizes and mean sorted soft batch mass (for the figure).</summary>
    public static (PicaRow Row, PicaClassRow[] Classes, double[] Hard, double[] Soft) Evaluate(ImageDataset data, PicaSettings settings, PicaRun run)
    {
        var (loss, lambda, epsilon) = run.Setting;
        var train = data.Where(DataSplit.Unlabelled);
        var test = data.Where(DataSplit.Test);
        var k = run.Matching.Clusters;
        var truth = test.LabelMatrix();
        var report = MultiLabelReport.Compute(truth, run.Matching.PredictLabels(run.TestClusters));
        var atHalf = MultiLabelReport.Compute(truth, run.Matching.PredictLabels(run.TestClusters, 0.5));
        var combinations = LabelCombinations.Of(train);
        var frequencies = PicaStudy.TrueFrequencies(train);
        var uniform = Enumerable.Repeat(1.0 / k, k).ToArray();
        var hard = PicaStudies.SortedFractions(run.TrainClusters, k);
        var batches = BatchMasses(run.Model, train, settings.ExamsPerBatch, run.Seed);
        var soft = Enumerable.Range(0, k).Select(j => batches.Average(b => b.Mass[j])).ToArray();
        var row = new PicaRow(loss, lambda, epsilon, run.Seed, report.WeightedF1, report.WeightedPrecision, report.WeightedRecall, atHalf.WeightedF1,
            Clustering.Nmi(LabelCombinations.Of(test).Assignments, run.TestClusters), run.TrainClusters.Distinct().Count(), hard[0],
            PicaStudies.SortedSizeDistance(hard, frequencies), PicaStudies.SortedSizeDistance(hard, uniform),
            batches.Average(b => PicaStudies.SortedSizeDistance(b.Mass, PicaStudies.SortedFractions([.. b.Images.Select(i => combinations.Assignments[i])], combinations.K))),
            batches.Average(b => PicaStudies.SortedSizeDistance(b.Mass, uniform)));
        var classes = data.LabelNames.Select((name, j) => new PicaClassRow(loss, lambda, epsilon, run.Seed, name, report.F1[j], report.Precision[j], report.Recall[j], report.Support[j])).ToArray();
        return (row, classes, hard, soft);
    }

    /// <summary>The soft cluster mass z of eq. 4 (sorted, largest first) of every batch of one epoch of the training
    /// exams, batched as in training, with the batch's image indices.</summary>
    public static IReadOnlyList<(int[] Images, double[] Mass)> BatchMasses(Pica model, IImageDataset train, int examsPerBatch, int seed)
    {
        var sampler = new ExamBatchSampler([.. Enumerable.Range(0, train.Count).Select(train.ExamId)], examsPerBatch, seed);
        var result = new List<(int[], double[])>();
        foreach (var indices in sampler.Epoch(0))
        {
            using var scope = torch.NewDisposeScope();
            var (images, _) = train.Batch(indices);
            var z = Pica.ClusterSizes(model.Predict(images)).to(ScalarType.Float64).data<double>().ToArray();
            result.Add((indices, [.. z.OrderDescending()]));
        }
        return result;
    }
}

/// <summary>Helpers of the deep-clustering protocol that need no trained model.</summary>
public static class PicaStudies
{
    /// <summary>Total variation ½ Σ_k |s_(k) − f_(k)| between two distributions each sorted from largest to smallest
    /// (the shorter padded with zeros). Clusters carry no identity, so the sizes are compared as a shape: how unbalanced
    /// they are against how unbalanced the true label combinations (or uniform sizes) are. 0 when the shapes agree; below 1.</summary>
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

    /// <summary>Items per cluster as a fraction of all, largest first (all K clusters, empty ones as 0).</summary>
    public static double[] SortedFractions(IReadOnlyList<int> clusters, int k) =>
        [.. Enumerable.Range(0, k).Select(c => clusters.Count(x => x == c) / (double)clusters.Count).OrderDescending()];

    /// <summary>Per seed, how far each value falls short of the best of its group: best − value. Their mean over the
    /// seeds is Table 1's gap between the best and the mean.</summary>
    public static double ShortfallFromBest(double value, IEnumerable<double> group) => group.Max() - value;

    /// <summary>The median of a few values (the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("the median of no values");
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>The protocol's results: every row with the claims' verdicts (<see cref="ProtocolResult{TSetting, TRun, TRow}"/>),
/// Table 1, the sizes, and the example seed's runs at the default λ (kept so the figures show the very models the
/// numbers come from).</summary>
public sealed class PicaStudyResult(PicaSettings settings, ImageDataset data, ProtocolResult<PicaSetting, PicaRun, PicaRow> result,
    Study<PicaClassRow> classes, IReadOnlyDictionary<(PicaSetting, int), (double[] Hard, double[] Soft)> sizes) : IDisposable
{
    public PicaSettings Settings { get; } = settings;
    public ImageDataset Data { get; } = data;
    public ProtocolResult<PicaSetting, PicaRun, PicaRow> Result { get; } = result;
    public IReadOnlyList<PicaRow> Rows => Result.Rows;
    public Study<PicaClassRow> Classes { get; } = classes;
    public ClaimTable Claims => Result.Claims;
    public SeedPlan Seeds => Result.Seeds;
    /// <summary>Label-combination frequencies of the unlabelled training images, largest first.</summary>
    public double[] TrueFrequencies { get; } = PicaStudy.TrueFrequencies(data.Where(DataSplit.Unlabelled));
    public int Clusters => PicaStudy.Clusters(Data);

    /// <summary>The example seed's run of a loss at the default λ and ε.</summary>
    public PicaRun Example(string loss) => Result.Example(PicaStudy.AtDefault(loss));

    public IEnumerable<PicaRow> AtDefault(string loss) => Rows.Where(r => PicaStudy.AtDefault(loss).Matches(r));

    /// <summary>Mean with 95 % CIs per setting: weighted F1 (F1-optimal thresholds and 0.5), NMI, and the four size distances.</summary>
    public DataFrame Summary => Result.Study.Summarize(r => new { r.Loss, r.Lambda, r.Epsilon },
        [("f1_weighted", r => r.F1Weighted), ("f1_weighted_at_0.5", r => r.F1WeightedAtHalf), ("nmi", r => r.Nmi),
         ("soft_to_uniform", r => r.SoftToUniform), ("hard_to_uniform", r => r.HardToUniform), ("soft_to_true", r => r.SoftToTrue), ("hard_to_true", r => r.HardToTrue)]);

    /// <summary>Table 1's layout at the default λ: rows (measure, loss), per class and for the weighted average the best
    /// and the mean over seeds (each cell's best on its own, as Table 1 reports), in percent; the test labels per class last.</summary>
    public DataFrame Table1
    {
        get
        {
            var classNames = Data.LabelNames;
            var cells = classNames.Append("weighted avg").SelectMany(n => new[] { ($"{n} best", new List<double>()), ($"{n} mean", new List<double>()) }).ToList();
            var measures = new (string Name, Func<PicaClassRow, double> Class, Func<PicaRow, double> Weighted)[]
            {
                ("F1", c => c.F1, r => r.F1Weighted), ("precision", c => c.Precision, r => r.PrecisionWeighted), ("recall", c => c.Recall, r => r.RecallWeighted),
            };
            var labels = new List<(string Measure, string Loss)>();
            foreach (var (measure, ofClass, weighted) in measures)
                foreach (var loss in PicaStudy.Losses)
                {
                    labels.Add((measure, PicaStudy.DisplayName(loss)));
                    var values = classNames.Select(name => Classes.Rows.Where(c => PicaStudy.AtDefault(loss).Matches(c.Loss, c.Lambda, c.Epsilon) && c.Class == name).Select(ofClass).ToList())
                        .Append(AtDefault(loss).Select(weighted).ToList()).ToList();
                    for (var j = 0; j < values.Count; j++)
                    {
                        cells[2 * j].Item2.Add(100 * values[j].Max());
                        cells[2 * j + 1].Item2.Add(100 * values[j].Average());
                    }
                }
            labels.Add(("n_labels", ""));
            var support = Data.Where(DataSplit.Test).LabelCounts();
            for (var j = 0; j <= classNames.Count; j++)
            {
                var n = j < classNames.Count ? support[j] : support.Sum();
                cells[2 * j].Item2.Add(n);
                cells[2 * j + 1].Item2.Add(n);
            }
            return new DataFrame([new StringDataFrameColumn("measure", labels.Select(l => l.Measure)), new StringDataFrameColumn("loss", labels.Select(l => l.Loss)),
                .. cells.Select(c => (DataFrameColumn)new DoubleDataFrameColumn(c.Item1, c.Item2.Select(v => Math.Round(v, 2))))]);
        }
    }

    /// <summary>Per loss at the default λ, the mean over seeds of the sorted cluster sizes: the hard partition of the
    /// unlabelled training images, or the soft batch mass z (mean over the batches of one epoch).</summary>
    public double[] MeanSortedSizes(string loss, bool soft)
    {
        var runs = sizes.Where(p => p.Key.Item1 == PicaStudy.AtDefault(loss)).Select(p => soft ? p.Value.Soft : p.Value.Hard).ToList();
        return [.. Enumerable.Range(0, runs.Max(r => r.Length)).Select(k => runs.Average(r => k < r.Length ? r[k] : 0))];
    }

    /// <summary>The sorted sizes of both losses at λ = 2 (mean over seeds) against the true label-combination
    /// frequencies and against uniform sizes: the soft batch mass z, or the hard partition of the training images.</summary>
    public GenericChart SizesChart(bool soft)
    {
        double[] Ranks(int n) => [.. Enumerable.Range(1, n).Select(r => (double)r)];
        var what = soft ? "soft cluster mass z per batch (mean over batches and seeds)" : "hard partition of the unlabelled training images (mean over seeds)";
        var k = Clusters;
        return Plotly.NET.CSharp.Chart.Combine([
            Charts.Line(Ranks(TrueFrequencies.Length), TrueFrequencies, "true label combinations", $"Sorted cluster sizes at λ = 2: {what}", "rank (largest first)", "fraction"),
            Charts.Line(Ranks(k), [.. Enumerable.Repeat(1.0 / k, k)], $"uniform over K = {k}"),
            .. PicaStudy.Losses.Select(l => Charts.Line(Ranks(MeanSortedSizes(l, soft).Length), MeanSortedSizes(l, soft), PicaStudy.DisplayName(l)))]);
    }

    /// <summary>"What this run shows": the claims' sentences, then the mechanism's numbers at λ = 2 computed from the rows.</summary>
    public string WhatThisRunShows
    {
        get
        {
            string Mean(string loss, Func<PicaRow, double> value) => AtDefault(loss).Average(value).ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
            var uniform = PicaStudies.SortedSizeDistance(Enumerable.Repeat(1.0, Clusters).ToArray(), TrueFrequencies);
            return $"{Seeds.Description}.{Environment.NewLine}{Claims.Summary}{Environment.NewLine}" +
                $"- At λ = 2 the largest cluster holds {Mean("pica", r => r.LargestCluster)} of the training images with PICA and {Mean("lsd", r => r.LargestCluster)} with PICA + L_SD " +
                $"(the commonest true combination: {TrueFrequencies[0]:0.000}; equal sizes: {1.0 / Clusters:0.000}).{Environment.NewLine}" +
                $"- Total variation to uniform sizes, soft batch mass / hard partition: PICA {Mean("pica", r => r.SoftToUniform)} / {Mean("pica", r => r.HardToUniform)}, " +
                $"PICA + L_SD {Mean("lsd", r => r.SoftToUniform)} / {Mean("lsd", r => r.HardToUniform)}; to the true frequencies: PICA {Mean("pica", r => r.SoftToTrue)} / {Mean("pica", r => r.HardToTrue)}, " +
                $"PICA + L_SD {Mean("lsd", r => r.SoftToTrue)} / {Mean("lsd", r => r.HardToTrue)} (uniform sizes would be {uniform:0.000} from the true frequencies).{Environment.NewLine}" +
                $"- Weighted F1 with the development set's thresholds instead of 0.5: PICA {Mean("pica", r => r.F1WeightedAtHalf)} → {Mean("pica", r => r.F1Weighted)}, " +
                $"PICA + L_SD {Mean("lsd", r => r.F1WeightedAtHalf)} → {Mean("lsd", r => r.F1Weighted)}.";
        }
    }

    /// <summary>The matched clusters of an example run: cluster, its size on the unlabelled training and development
    /// images, the organs its v̂ holds at ≥ 0.5, v̂ itself, and the most common true combination among its training images.</summary>
    public DataFrame MatchedClusters(string loss)
    {
        var run = Example(loss);
        var combinations = LabelCombinations.Of(Data.Where(DataSplit.Unlabelled));
        var names = Data.LabelNames;
        var order = Enumerable.Range(0, run.Matching.Clusters).OrderByDescending(c => run.TrainClusters.Count(t => t == c)).ToArray();
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
        var run = Example(loss);
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

    /// <summary>results.json's headline: per loss at λ = 2, the mean and best weighted F1 and the mean size distances
    /// (every run is in the runs' CSV, every class score in the classes' CSV).</summary>
    public IReadOnlyDictionary<string, double> Headline
    {
        get
        {
            var values = new Dictionary<string, double>();
            foreach (var loss in PicaStudy.Losses)
            {
                var rows = AtDefault(loss).ToList();
                values[$"f1_weighted_{loss}"] = rows.Average(r => r.F1Weighted);
                values[$"f1_weighted_best_{loss}"] = rows.Max(r => r.F1Weighted);
                values[$"soft_size_to_uniform_{loss}"] = rows.Average(r => r.SoftToUniform);
                values[$"hard_size_to_uniform_{loss}"] = rows.Average(r => r.HardToUniform);
                values[$"soft_size_to_true_{loss}"] = rows.Average(r => r.SoftToTrue);
                values[$"hard_size_to_true_{loss}"] = rows.Average(r => r.HardToTrue);
            }
            return values;
        }
    }

    /// <summary>results.json (the headline, the seeds, the claims), the CSV of every run and the CSV of every class score.</summary>
    public string? Save(RunContext? context = null)
    {
        var path = Result.Save(Headline, context);
        if (path is not null) ResultsFile.Save(Headline, Classes, path);
        return path;
    }

    public void Dispose() => Result.Dispose();
}

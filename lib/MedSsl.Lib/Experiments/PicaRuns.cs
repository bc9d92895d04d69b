using MedSsl.Data;
using MedSsl.Data.Sampling;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Reports;
using MedSsl.Training;
using Microsoft.Data.Analysis;
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
/// the sizes, and the example seed's runs at the default λ (kept so the figures show the very models the
/// numbers come from).</summary>
public sealed class PicaStudyResult(PicaSettings settings, ImageDataset data, ProtocolResult<PicaSetting, PicaRun, PicaRow> result,
    Study<PicaClassRow> classes, IReadOnlyDictionary<(PicaSetting, int), (double[] Hard, double[] Soft)> sizes) : IDisposable
{
    /// <summary>Per run, its sorted hard cluster sizes and mean sorted soft batch mass (the figures' data; <see cref="Reports.PicaFigures"/>).</summary>
    public IReadOnlyDictionary<(PicaSetting, int), (double[] Hard, double[] Soft)> Sizes { get; } = sizes;
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

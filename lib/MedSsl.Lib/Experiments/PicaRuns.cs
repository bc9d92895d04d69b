using MedSsl.Data;
using MedSsl.Data.Sampling;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Training;
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
/// quantity L_NE and L_SD act on (<see cref="ClusterSizes.SortedDistance"/>).</summary>
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
        var hard = ClusterSizes.SortedFractions(run.TrainClusters, k);
        var batches = BatchMasses(run.Model, train, settings.ExamsPerBatch, run.Seed);
        var soft = Enumerable.Range(0, k).Select(j => batches.Average(b => b.Mass[j])).ToArray();
        var row = new PicaRow(loss, lambda, epsilon, run.Seed, report.WeightedF1, report.WeightedPrecision, report.WeightedRecall, atHalf.WeightedF1,
            Clustering.Nmi(LabelCombinations.Of(test).Assignments, run.TestClusters), run.TrainClusters.Distinct().Count(), hard[0],
            ClusterSizes.SortedDistance(hard, frequencies), ClusterSizes.SortedDistance(hard, uniform),
            batches.Average(b => ClusterSizes.SortedDistance(b.Mass, ClusterSizes.SortedFractions([.. b.Images.Select(i => combinations.Assignments[i])], combinations.K))),
            batches.Average(b => ClusterSizes.SortedDistance(b.Mass, uniform)));
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

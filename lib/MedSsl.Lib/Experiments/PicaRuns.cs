using MedSsl.Data;
using MedSsl.Data.Sampling;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
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
    public double[] Epsilons { get; init; } = [0.01, PicaStudy.DefaultEpsilon, 1];
    /// <summary>Adam's fixed learning rate (§3.2: 1e-4).</summary>
    public double LearningRate { get; init; } = 1e-4;
    /// <summary>libtorch threads while the protocol runs (0: libtorch's default). One thread spends the least CPU time
    /// on networks this small.</summary>
    public int Threads { get; init; }

    /// <summary>Quick (CI smoke): 600 images of 16×16, widths 8–32, 80 steps, 2 seeds, λ ∈ {0.5, 2, 10}, ε ∈ {0.01, 0.1, 1}.
    /// Workshop: the same data and network trained long enough for L_NE to act, 5 seeds, the same grid. Full: the
    /// paper's shape — 4000 images of 64×64, ResNet-18's stages at ¼ width, 30 epochs of 16 exams, 4 seeds (§3.2), 5 λ.</summary>
    public static PicaSettings For(RunProfile profile)
    {
        var quick = new PicaSettings(Images: 600, ImageSize: 16, Widths: [8, 16, 32], Epochs: 8, ExamsPerBatch: 4, Seeds: 2,
            Lambdas: [0.5, 2, 10], TsnePoints: 360) { LearningRate = 1e-3, Threads = 1 };
        return profile.Pick(quick, workshop: quick with { Epochs = 40, Seeds = 5 },
            full: new PicaSettings(Images: SyntheticUltrasound.DefaultCount(RunProfile.Full), ImageSize: 64, Widths: [16, 32, 64, 128], Epochs: 30,
                ExamsPerBatch: 16, Seeds: 4, Lambdas: [0.5, 1, 2, 5, 10], TsnePoints: 1000));
    }
}

/// <summary>A trained model (PICA or PICA + L_SD) with Algorithm 1 fitted on the development images, and the most
/// probable cluster of every unlabelled training image.</summary>
public sealed record PicaRun(PicaSetting Setting, int Seed, Pica Model, ClusterLabelMatching Matching, int[] TrainClusters) : IDisposable
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
    /// <summary>PICA on the unlabelled images (labels unused; <see cref="PicaClustering.Train"/>), then Algorithm 1 on the
    /// development images.</summary>
    public static PicaRun Train(ImageDataset data, PicaSettings settings, PicaSetting setting, int seed, Trainer trainer)
    {
        var development = PicaStudy.Development(data);
        var k = PicaStudy.Clusters(data);
        var trained = PicaClustering.Train(data, PicaStudy.Options(settings, k, setting, seed), settings.Widths, trainer);
        try
        {
            var matching = new ClusterLabelMatching().Fit(trained.Clusters(development), development.LabelMatrix(), k);
            return new PicaRun(setting, seed, trained.Model, matching, trained.Clusters(data.Where(DataSplit.Unlabelled)));
        }
        catch
        {
            trained.Dispose();
            throw;
        }
    }

    /// <summary>The run's row, its per-class rows, and its sorted hard sizes and mean sorted soft batch mass (for the figure).</summary>
    public static (PicaRow Row, PicaClassRow[] Classes, double[] Hard, double[] Soft) Evaluate(ImageDataset data, PicaSettings settings, PicaRun run)
    {
        var (loss, lambda, epsilon) = run.Setting;
        var train = data.Where(DataSplit.Unlabelled);
        var test = data.Where(DataSplit.Test);
        var testClusters = run.Model.PredictClusters(test);
        var k = run.Matching.Clusters;
        var truth = test.LabelMatrix();
        var report = MultiLabelReport.Compute(truth, run.Matching.PredictLabels(testClusters));
        var atHalf = MultiLabelReport.Compute(truth, run.Matching.PredictLabels(testClusters, 0.5));
        var combinations = LabelCombinations.Of(train);
        var frequencies = PicaStudy.TrueFrequencies(train);
        var uniform = Enumerable.Repeat(1.0 / k, k).ToArray();
        var hard = ClusterSizes.SortedFractions(run.TrainClusters, k);
        var batches = BatchMasses(run.Model, train, settings.ExamsPerBatch, run.Seed);
        var soft = Enumerable.Range(0, k).Select(j => batches.Average(b => b.Mass[j])).ToArray();
        var row = new PicaRow(loss, lambda, epsilon, run.Seed, report.WeightedF1, report.WeightedPrecision, report.WeightedRecall, atHalf.WeightedF1,
            Clustering.Nmi(LabelCombinations.Of(test).Assignments, testClusters), run.TrainClusters.Distinct().Count(), hard[0],
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

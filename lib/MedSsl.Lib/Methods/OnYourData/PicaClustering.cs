using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Embedding;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods.OnYourData;

/// <summary>How well clusters recover the classes (for multi-label data: the label sets) of a split: clustering accuracy (best one-to-one matching, Hungarian)
/// and NMI, sklearn's definitions (<see cref="Metrics.Clustering"/>), and the share of the largest cluster.</summary>
public sealed record ClusteringReport(string Split, int Images, int Clusters, double Accuracy, double Nmi, double LargestCluster)
{
    public static ClusteringReport Compute(string split, IReadOnlyList<int> classes, IReadOnlyList<int> clusters, int k) =>
        new(split, classes.Count, k, Metrics.Clustering.Accuracy(classes, clusters), Metrics.Clustering.Nmi(classes, clusters),
            clusters.Count == 0 ? 0 : clusters.GroupBy(c => c).Max(g => g.Count()) / (double)clusters.Count);

    public override string ToString() => $"{Split}: {Images} images in {Clusters} clusters, ACC {Accuracy:P1}, NMI {Nmi:F3}, largest cluster {LargestCluster:P0}";
}

/// <summary>A trained PICA / PICA + L_SD clustering: cluster probabilities, hard clusters, backbone embeddings, a report
/// against a split's classes, the training curve. <see cref="Backbone"/> can start a FixMatch training
/// (<see cref="FixMatchTrainingOptions.InitialBackbone"/>).</summary>
public sealed class TrainedClustering(Pica model, IReadOnlyList<StepRecord> history) : IDisposable
{
    public Pica Model { get; } = model;
    public ResNet Backbone => Model.Backbone;
    public IReadOnlyList<StepRecord> History { get; } = history;

    /// <summary>Soft assignments [N, K] of every image of <paramref name="data"/>.</summary>
    public double[,] Probabilities(IImageDataset data)
    {
        using var scope = torch.NewDisposeScope();
        var p = Model.Predict(data.Batch([.. Enumerable.Range(0, data.Count)]).Images).to(ScalarType.Float64);
        var values = p.data<double>().ToArray();
        var result = new double[p.size(0), p.size(1)];
        Buffer.BlockCopy(values, 0, result, 0, values.Length * sizeof(double));
        return result;
    }

    public int[] Clusters(IImageDataset data) => Model.PredictClusters(data);

    /// <summary>Scores the clusters of one split of <paramref name="data"/> against its classes (label sets).</summary>
    public ClusteringReport Report(IImageDataset data, DataSplit split)
    {
        var images = TrainedClassifier.OfSplit(data, split);
        return ClusteringReport.Compute(split.ToString().ToLowerInvariant(), LabelCombinations.Of(images).Assignments, Clusters(images), Model.Options.Clusters);
    }

    /// <summary>The training objective per step (<c>total</c>, <c>ce</c> or <c>size</c>).</summary>
    public (double[] Steps, double[] Values) Curve(string term = "total") =>
        ([.. History.Select((_, i) => (double)(i + 1))], [.. History.Select(s => s.Losses[term])]);

    public void Dispose() => Model.Dispose();
}

/// <summary>PICA (Huang et al. 2020) or PICA + L_SD (Dadoun et al. 2022, §2.2) on a user's images in one call.</summary>
public static class PicaClustering
{
    /// <summary>The learning rate of the short-run preset: Adam at 1e-3, ten times PICA's 1e-4 (Huang et al. 2020 and
    /// Raymond-sci/PICA; Dadoun et al. 2022, §3.2), which is tuned for 100+ epochs on a GPU. Measured in this
    /// repository: on 600 synthetic 16×16 frames, 40 epochs at 1e-3 separate the clusters in CPU minutes, where 1e-4 has
    /// barely left the start (docs/methods/pica-lsd.md).</summary>
    public const double ShortRunLearningRate = 1e-3;

    /// <summary>A preset that trains in CPU minutes: <see cref="ShortRunLearningRate"/>, <paramref name="epochs"/> passes,
    /// batches of <paramref name="imagesPerBatch"/> exams (one image each in a plain folder; PUI compares cluster columns
    /// over the batch, so a batch should hold many more images than clusters), L_SD with PICA's λ = 2.</summary>
    public static PicaOptions ShortRun(int clusters, int epochs = 40, int imagesPerBatch = 128, int seed = 0) => new()
    {
        Clusters = clusters, LearningRate = ShortRunLearningRate, Epochs = epochs, ExamsPerBatch = imagesPerBatch, Seed = seed,
    };

    /// <summary>Trains on the <see cref="DataSplit.Unlabelled"/> images of <paramref name="data"/> (every image when it has
    /// none), labels unused, with a ResNet of <paramref name="widths"/> whose initial weights come from the options' seed.</summary>
    public static TrainedClustering Train(IImageDataset data, PicaOptions options, long[]? widths = null, Trainer? trainer = null)
    {
        var all = data as ImageDataset ?? throw new ArgumentException("give an ImageDataset (every loader returns one)", nameof(data));
        var train = all.IndicesOf(DataSplit.Unlabelled) is { Length: > 0 } u ? all.Subset(u) : all;
        torch.manual_seed(options.Seed);
        var pica = new Pica(new ResNet(data.Channels, widths ?? [16, 32]), options);
        using var lease = new TrainerLease(trainer);
        try
        {
            pica.Fit(train, lease.Trainer);
            return new TrainedClustering(pica, lease.Steps());
        }
        catch
        {
            pica.Dispose();
            throw;
        }
    }

    /// <summary>The baseline: k-means (k-means++ seeding) on the raw pixels of the unlabelled images (every image when
    /// there are none), then each image of <paramref name="split"/> assigned to its nearest centroid.</summary>
    public static ClusteringReport KMeansOnPixels(ImageDataset data, int clusters, DataSplit split, int seed, int iterations = 50)
    {
        var train = data.IndicesOf(DataSplit.Unlabelled) is { Length: > 0 } u ? data.Subset(u) : data;
        var evaluated = data.Where(split);
        using var scope = torch.NewDisposeScope();
        using var generator = new SeededRandom(seed, RandomStreams.Method).TorchGenerator();
        var points = train.Batch([.. Enumerable.Range(0, train.Count)]).Images.flatten(1);
        using var fit = KMeans.Fit(points, clusters, generator, iterations);
        var assigned = KMeans.Assign(evaluated.Batch([.. Enumerable.Range(0, evaluated.Count)]).Images.flatten(1), fit.Centroids).Labels;
        return ClusteringReport.Compute(split.ToString().ToLowerInvariant(), LabelCombinations.Of(evaluated).Assignments,
            [.. assigned.data<long>().ToArray().Select(c => (int)c)], clusters);
    }
}

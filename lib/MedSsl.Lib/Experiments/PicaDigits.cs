using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Data.Sampling;
using MedSsl.Embedding;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;

namespace MedSsl.Experiments;

/// <summary>How PICA trains on the handwritten digits: batches of images (no exams), the views, the budget. Defaults
/// are fixed before any run: Huang et al. 2020 (PICA, §4.1) train with batches of 256 and Adam at 1e-4 for hundreds
/// of epochs; a CPU budget asks for a larger rate and fewer, smaller batches.</summary>
public sealed record PicaDigitsSettings
{
    public int Epochs { get; init; } = 30;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>K: 10 digits; more over-clusters (NMI and ACC are computed on the K clusters all the same).</summary>
    public int Clusters { get; init; } = 10;
    public long[] Widths { get; init; } = [16, 32, 64];
    public double Lambda { get; init; } = PicaStudy.DefaultLambda;
    /// <summary>The first view: a shift by up to one pixel of 8, no flip (a flipped 2 is not a 2).</summary>
    public IAugmentation FirstView { get; init; } = new WeakAugment { FlipProbability = 0 };
    /// <summary>The second view: RandAugment without Cutout, as on the ultrasound frames.</summary>
    public IAugmentation SecondView { get; init; } = new RandAugment { CutoutFraction = 0 };
}

/// <summary>One point of a training curve: the epoch (0 = initial weights), NMI and ACC of the most probable cluster of
/// every image against its digit, and how many clusters hold at least one image.</summary>
public sealed record PicaDigitsPoint(int Epoch, double Nmi, double Accuracy, int ClustersUsed);

/// <summary>PICA (L_CE + λ L_NE) and PICA + L_SD on real images: scikit-learn's copy of the UCI optical handwritten digits
/// (1797 images of 8×8 pixels, values 0–16; Alpaydin &amp; Kaynak 1998), clustered without labels and scored on all images
/// as clustering benchmarks are (Huang et al. 2020, §4), against k-means on the raw pixels.</summary>
public static class PicaDigits
{
    /// <summary>The digits (<see cref="Data.Loaders.Digits"/>) and each image's digit.</summary>
    public static (ImageDataset Images, int[] Digits) Load(string? path = null)
    {
        var images = Data.Loaders.Digits.Load(path);
        return (images, images.ClassIndices());
    }

    /// <summary>k-means (k-means++, Lloyd to convergence) on the raw pixels: the baseline PICA should beat.</summary>
    public static PicaDigitsPoint KMeansOnPixels(ImageDataset images, int[] digits, int k, int seed)
    {
        using var scope = torch.NewDisposeScope();
        var (x, _) = images.Batch([.. Enumerable.Range(0, images.Count)]);
        using var generator = new SeededRandom(seed).TorchGenerator();
        using var fit = KMeans.Fit(x.flatten(1), k, generator, iterations: 300);
        return Score(0, digits, [.. fit.Labels.data<long>().ToArray().Select(l => (int)l)]);
    }

    /// <summary>Trains one model (<paramref name="sizeLoss"/> decides PICA or PICA + L_SD) from weights and batch order
    /// drawn from <paramref name="seed"/>; scores it at the start and every <paramref name="every"/> epochs.</summary>
    public static IReadOnlyList<PicaDigitsPoint> Train(ImageDataset images, int[] digits, PicaDigitsSettings settings, ClusterSizeLoss sizeLoss, int seed, int every = 5)
    {
        torch.manual_seed(seed);
        var options = new PicaOptions
        {
            Clusters = settings.Clusters, SizeLoss = sizeLoss, Lambda = settings.Lambda, Epsilon = PicaStudy.DefaultEpsilon,
            LearningRate = settings.LearningRate, ExamsPerBatch = settings.BatchSize, Epochs = settings.Epochs,
            FirstView = settings.FirstView, SecondView = settings.SecondView, Seed = seed,
        };
        using var pica = new Pica(new ResNet(1, settings.Widths), options);
        var sampler = new ExamBatchSampler([.. Enumerable.Range(0, images.Count).Select(images.ExamId)], settings.BatchSize, seed);
        var perEpoch = (sampler.ExamCount + settings.BatchSize - 1) / settings.BatchSize;
        var curve = new List<PicaDigitsPoint> { Score(0, digits, pica.PredictClusters(images)) };
        using var trainer = new Trainer { Progress = new Silent() };
        trainer.Run(pica, Pica.TwoViews(images, sampler, options), "PICA on digits", settings.Epochs * perEpoch, new Evaluation(every * perEpoch, () =>
        {
            curve.Add(Score((int)Math.Ceiling(trainer.History.Count / (double)perEpoch), digits, pica.PredictClusters(images)));
            return new Dictionary<string, double> { ["nmi"] = curve[^1].Nmi };
        }));
        return curve;
    }

    private static PicaDigitsPoint Score(int epoch, int[] digits, int[] clusters) =>
        new(epoch, Clustering.Nmi(digits, clusters), Clustering.Accuracy(digits, clusters), clusters.Distinct().Count());

    private sealed class Silent : ITrainingProgress
    {
        public void Report(TrainingStatus status) { }
        public void Dispose() { }
    }
}

using MedSsl.Data;
using MedSsl.Data.Sampling;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;

namespace MedSsl.Experiments;

/// <summary>One point of a training curve: the epoch (0 = initial weights), NMI and ACC of the most probable cluster of
/// every image against its digit, and how many clusters hold at least one image.</summary>
public sealed record PicaDigitsPoint(int Epoch, double Nmi, double Accuracy, int ClustersUsed);

/// <summary>PICA (L_CE + λ L_NE) and PICA + L_SD on real images: scikit-learn's copy of the UCI optical handwritten digits
/// (1797 images of 8×8 pixels, values 0–16; Alpaydin &amp; Kaynak 1998, <see cref="Data.Loaders.Digits"/>), clustered
/// without labels and scored on all images as clustering benchmarks are (Huang et al. 2020, §4), against k-means on the
/// raw pixels (<see cref="PicaClustering.KMeansOnPixels"/> on every image: the loader assigns no split).</summary>
public static class PicaDigits
{
    /// <summary>The backbone's three ResNet stages.</summary>
    public static readonly long[] Widths = [16, 32, 64];

    /// <summary>The settings, fixed before any run: <see cref="Presets.Pica"/> (views without flips — a flipped 2 is not a
    /// 2 — Adam at 1e-3, batches of 128 images) with K = 10 digits, 30 epochs and the size term of
    /// <paramref name="sizeLoss"/>. Huang et al. 2020 (PICA, §4.1) train with batches of 256 and Adam at 1e-4 for hundreds
    /// of epochs; a CPU budget asks for a larger rate and fewer, smaller batches.</summary>
    public static PicaOptions Options(ClusterSizeLoss sizeLoss, int seed, int epochs = 30) =>
        Presets.Pica(Data.Loaders.Digits.Classes, seed, epochs) with { SizeLoss = sizeLoss };

    /// <summary>Trains one model from weights and batch order drawn from the options' seed; scores it at the start and
    /// every <paramref name="every"/> epochs.</summary>
    public static IReadOnlyList<PicaDigitsPoint> Train(ImageDataset images, PicaOptions options, int every = 5)
    {
        var digits = images.ClassIndices();
        torch.manual_seed(options.Seed);
        using var pica = new Pica(new ResNet(1, Widths), options);
        var sampler = new ExamBatchSampler([.. Enumerable.Range(0, images.Count).Select(images.ExamId)], options.ExamsPerBatch, options.Seed);
        var perEpoch = (sampler.ExamCount + options.ExamsPerBatch - 1) / options.ExamsPerBatch;
        var curve = new List<PicaDigitsPoint> { Score(0, digits, pica.PredictClusters(images)) };
        using var trainer = new Trainer { Progress = new Silent() };
        trainer.Run(pica, Pica.TwoViews(images, sampler, options), "PICA on digits", options.Epochs * perEpoch, new Evaluation(every * perEpoch, () =>
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

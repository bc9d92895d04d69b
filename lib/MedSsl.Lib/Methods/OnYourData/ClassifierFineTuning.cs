using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods.OnYourData;

/// <summary>Fine-tuning a backbone with a new linear head, every weight trained with Adam (Singh et al. 2024,
/// "Classification": "we initialize the networks with their pre-trained weights and use corresponding image-label
/// pairs"). Sizes and rate are those notebook 05 fine-tunes its CNN with (docs/methods/s4mi-classification.md: the
/// paper's 50 epochs at Adam 3e-4 become CPU steps, and at 1e-3 a short run fits its training labels where 3e-4 had
/// not). <see cref="SingleLabel"/> null picks softmax + cross-entropy when every labelled image has exactly one label,
/// else a sigmoid per label with binary cross-entropy.</summary>
public sealed record ClassifierFineTuningOptions
{
    public int Steps { get; init; } = 200;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Augmentation of each labelled batch (default: a flip and a shift of ⅛ of the side); null for none.</summary>
    public IAugmentation? Augment { get; init; } = new WeakAugment();
    public bool? SingleLabel { get; init; }
    /// <summary>Draws the batch order, the augmentations and the backbone's initial weights when no start is given.</summary>
    public int Seed { get; init; }
    /// <summary>When set, the head's initial weights are drawn right after <c>torch.manual_seed(HeadSeed)</c> (a study
    /// gives every arm the same head this way); when null they follow the backbone's draws from <see cref="Seed"/>.</summary>
    public long? HeadSeed { get; init; }
}

/// <summary>A fine-tuned classifier: probabilities (softmax for single-label, a sigmoid per label otherwise), labels,
/// embeddings and <see cref="ClassifierReport"/>s. Multi-label predictions use per-label thresholds of maximum F1 on
/// validation images (<see cref="FitThresholds(Tensor, bool[,])"/>; ½ until fitted).</summary>
public sealed class FineTunedClassifier : IDisposable
{
    private readonly FineTuning method;
    private double[] thresholds;

    internal FineTunedClassifier(FineTuning method, IReadOnlyList<string> labelNames, IReadOnlyList<StepRecord> history)
    {
        this.method = method;
        SingleLabel = method is SingleLabelFineTuning;
        LabelNames = labelNames;
        History = history;
        thresholds = [.. labelNames.Select(_ => F1Thresholds.Default)];
    }

    /// <summary>Backbone + linear head (e.g. for <see cref="Saliency.Map"/>).</summary>
    public BackboneWithHead Network => method.Classifier;
    public bool SingleLabel { get; }
    public IReadOnlyList<string> LabelNames { get; }
    /// <summary>The loss of every step (<c>bce</c> multi-label, <c>ce</c> single-label).</summary>
    public IReadOnlyList<StepRecord> History { get; }
    public IReadOnlyList<double> Thresholds => thresholds;

    /// <summary>Chooses each label's threshold for maximum F1 on <paramref name="images"/> with their labels
    /// <paramref name="truth"/> [N, labels] (<see cref="F1Thresholds"/>; ½ for a label without positives there).</summary>
    public void FitThresholds(Tensor images, bool[,] truth)
    {
        if (SingleLabel) throw new InvalidOperationException("a single-label classifier predicts the most probable class: it has no thresholds to fit");
        thresholds = new F1Thresholds().Fit(truth, Probabilities(images)).Thresholds;
    }

    /// <summary>Class probabilities [N, C] of <paramref name="images"/> [N, C, H, W], in one pass.</summary>
    public double[,] Probabilities(Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        return NetworkOutputs.ToArray(method.Predict(images));
    }

    /// <summary>Class probabilities [N, C] of every image of <paramref name="data"/>.</summary>
    public double[,] Probabilities(IImageDataset data) => NetworkOutputs.OfDataset(data, method.Predict);

    /// <summary>Predicted label sets [N, C]: the most probable class (single-label) or each label over its threshold.</summary>
    public bool[,] PredictLabels(IImageDataset data) => Labels(Probabilities(data));

    public bool[,] PredictLabels(Tensor images) => Labels(Probabilities(images));

    /// <summary>Backbone features [N, D] of every image of <paramref name="data"/>: embeddings for a t-SNE or k-means.</summary>
    public double[,] Embeddings(IImageDataset data) => NetworkOutputs.OfDataset(data, Network.Backbone.call, Network);

    /// <summary>Scores the classifier on the images of one split of <paramref name="data"/> (e.g. Test).</summary>
    public ClassifierReport Report(IImageDataset data, DataSplit split)
    {
        var images = TrainedClassifier.OfSplit(data, split);
        return ClassifierReport.Compute(split.ToString().ToLowerInvariant(), images.LabelMatrix(), PredictLabels(images), LabelNames);
    }

    /// <summary>Scores the classifier on <paramref name="images"/> with their labels <paramref name="truth"/> [N, C].</summary>
    public ClassifierReport Report(Tensor images, bool[,] truth, string name = "images") =>
        ClassifierReport.Compute(name, truth, PredictLabels(images), LabelNames);

    private bool[,] Labels(double[,] p)
    {
        if (!SingleLabel) return MultiLabelReport.Binarize(p, thresholds);
        var result = new bool[p.GetLength(0), p.GetLength(1)];
        var classes = Classification.ArgMax(p);
        for (var i = 0; i < classes.Length; i++) result[i, classes[i]] = true;
        return result;
    }

    public void Dispose() => method.Dispose();
}

/// <summary>Fine-tuning a pre-trained (or random) backbone with a new linear head on a user's labelled images, in one
/// call. The start network is copied, never changed, so one pre-training serves several fine-tunings.</summary>
public static class ClassifierFineTuning
{
    private const string NoLabels = "the images carry no labels: the dataset has no label columns";

    /// <summary>Fine-tunes <paramref name="start"/>'s backbone on the <see cref="DataSplit.Labelled"/> images of
    /// <paramref name="data"/>; multi-label thresholds are fitted on its <see cref="DataSplit.Validation"/> images.</summary>
    public static FineTunedClassifier Train(IImageDataset data, PretrainedBackbone start, ClassifierFineTuningOptions? options = null, Trainer? trainer = null) =>
        Train(data, start.Architecture, start.Network, options, trainer);

    /// <summary>As above from <paramref name="start"/> of <paramref name="architecture"/>, or from random weights drawn with
    /// the options' seed when <paramref name="start"/> is null (the baseline without pre-training).</summary>
    public static FineTunedClassifier Train(IImageDataset data, BackboneArchitecture architecture, nn.Module<Tensor, Tensor>? start = null,
        ClassifierFineTuningOptions? options = null, Trainer? trainer = null)
    {
        architecture.CheckImages(data, nameof(data));
        if (data.LabelNames.Count == 0) throw new ArgumentException(NoLabels, nameof(data));
        var labelled = TrainedClassifier.OfSplit(data, DataSplit.Labelled);
        if (labelled.Count == 0) throw new ArgumentException("fine-tuning needs labelled images (none in the labelled split)", nameof(data));
        // Not under a dispose scope: the network is made in there, and a scope would free its weights on leaving.
        var (images, labels) = labelled.Batch([.. Enumerable.Range(0, labelled.Count)]);
        FineTunedClassifier classifier;
        using (images)
        using (labels)
            classifier = Train(images, labels, data.LabelNames, architecture, start, options, trainer);
        var validation = TrainedClassifier.OfSplit(data, DataSplit.Validation);
        if (!classifier.SingleLabel && validation.Count > 0)
            using (var scope = torch.NewDisposeScope())
                classifier.FitThresholds(validation.Batch([.. Enumerable.Range(0, validation.Count)]).Images, validation.LabelMatrix());
        return classifier;
    }

    /// <summary>Fine-tunes on <paramref name="images"/> [N, C, H, W] with <paramref name="labels"/> [N, labels] (0/1, one
    /// column per name of <paramref name="labelNames"/>), the images in shuffled passes of the options' batch size.</summary>
    public static FineTunedClassifier Train(Tensor images, Tensor labels, IReadOnlyList<string> labelNames, BackboneArchitecture architecture,
        nn.Module<Tensor, Tensor>? start = null, ClassifierFineTuningOptions? options = null, Trainer? trainer = null)
    {
        options ??= new ClassifierFineTuningOptions();
        architecture.CheckImages(images, nameof(images));
        if (images.size(0) == 0) throw new ArgumentException("fine-tuning needs labelled images (none given)", nameof(images));
        if (labelNames.Count == 0) throw new ArgumentException(NoLabels, nameof(labelNames));
        if (labels.dim() != 2 || labels.size(0) != images.size(0) || labels.size(1) != labelNames.Count)
            throw new ArgumentException($"labels must be [{images.size(0)}, {labelNames.Count}] (images × label names), got [{string.Join(", ", labels.shape)}]", nameof(labels));
        if (options.Steps < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Steps, "Steps: fine-tuning needs at least one step");
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "BatchSize: a batch holds at least one image");
        long[] perImage;
        using (var scope = torch.NewDisposeScope()) perImage = labels.sum(1).to(ScalarType.Int64).data<long>().ToArray();
        var singleLabel = options.SingleLabel ?? perImage.All(k => k == 1);
        if (singleLabel && Array.FindIndex(perImage, k => k != 1) is var wrong and >= 0)
            throw new ArgumentException($"single-label fine-tuning needs exactly one label per image; image {wrong} of the labelled ones has {perImage[wrong]}", nameof(labels));

        torch.manual_seed(options.Seed);
        var backbone = start is null ? architecture.Create() : architecture.Copy(start, nameof(start));
        if (options.HeadSeed is { } headSeed) torch.manual_seed(headSeed);
        var network = new BackboneWithHead(backbone, nn.Linear(architecture.FeatureDim, labelNames.Count));
        var methodOptions = new FineTuningOptions { LearningRate = options.LearningRate, Augment = options.Augment, Seed = options.Seed };
        FineTuning method = singleLabel ? new SingleLabelFineTuning(network, methodOptions) : new MultiLabelFineTuning(network, methodOptions);
        using var lease = new TrainerLease(trainer);
        try
        {
            using var generator = new SeededRandom(options.Seed, RandomStreams.BatchOrder).TorchGenerator();
            var epochs = options.Steps / Batches.PerEpoch(images.size(0), options.BatchSize) + 1;
            lease.Trainer.Run(method, Batches.Shuffled(images, labels, options.BatchSize, generator, epochs), "fine-tuning", options.Steps);
            return new FineTunedClassifier(method, labelNames, lease.Steps());
        }
        catch
        {
            method.Dispose();
            throw;
        }
    }
}

/// <summary>Network outputs as arrays: one pass over a tensor, or a dataset in chunks.</summary>
internal static class NetworkOutputs
{
    private const int Chunk = 256;

    /// <summary>A 2-D tensor as a [rows, columns] array of doubles.</summary>
    public static double[,] ToArray(Tensor t)
    {
        var result = new double[t.size(0), t.size(1)];
        using var values = t.to(ScalarType.Float64).contiguous();
        Buffer.BlockCopy(values.data<double>().ToArray(), 0, result, 0, result.Length * sizeof(double));
        return result;
    }

    /// <summary><paramref name="run"/> on every image of <paramref name="data"/> in chunks, rows in dataset order; with
    /// <paramref name="network"/> given, in its eval mode without gradients.</summary>
    public static double[,] OfDataset(IImageDataset data, Func<Tensor, Tensor> run, nn.Module? network = null)
    {
        var rows = new List<double[,]>();
        for (var start = 0; start < data.Count; start += Chunk)
        {
            using var scope = torch.NewDisposeScope();
            var images = data.Batch([.. Enumerable.Range(start, Math.Min(Chunk, data.Count - start))]).Images;
            rows.Add(ToArray(network is null ? run(images) : network.Evaluate(() => run(images))));
        }
        var columns = rows.Count == 0 ? 0 : rows[0].GetLength(1);
        var result = new double[data.Count, columns];
        var offset = 0;
        foreach (var part in rows)
        {
            Buffer.BlockCopy(part, 0, result, offset * sizeof(double), part.Length * sizeof(double));
            offset += part.Length;
        }
        return result;
    }
}

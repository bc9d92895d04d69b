using MedSsl.Data;
using MedSsl.Metrics;
using MedSsl.Training;
using Microsoft.Data.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods.OnYourData;

/// <summary>One class's scores on a split.</summary>
public sealed record ClassScore(string Name, double Precision, double Recall, double F1, int Support);

/// <summary>How a classifier does on one split: accuracy (single-label: the argmax class is the label; multi-label: the
/// predicted label set is exactly the true one), macro and support-weighted F1, and per class precision, recall, F1 and
/// support (sklearn's definitions, <see cref="MultiLabelReport"/>). A class without a true image scores 0 and has
/// support 0: it stays in the table.</summary>
public sealed record ClassifierReport(string Split, int Images, double Accuracy, double MacroF1, double WeightedF1, IReadOnlyList<ClassScore> Classes)
{
    public static ClassifierReport Compute(string split, bool[,] truth, bool[,] predicted, IReadOnlyList<string> names)
    {
        var report = MultiLabelReport.Compute(truth, predicted);
        int n = truth.GetLength(0), c = truth.GetLength(1);
        var exact = Enumerable.Range(0, n).Count(i => Enumerable.Range(0, c).All(j => truth[i, j] == predicted[i, j]));
        return new ClassifierReport(split, n, n == 0 ? 0 : exact / (double)n, report.F1.Average(), report.WeightedF1,
            [.. names.Select((name, j) => new ClassScore(name, report.Precision[j], report.Recall[j], report.F1[j], report.Support[j]))]);
    }

    /// <summary>The per-class table (one row per class, then the macro and weighted averages).</summary>
    public DataFrame Table => new(
        new StringDataFrameColumn("class", [.. Classes.Select(s => s.Name), "macro average", "weighted average"]),
        new DoubleDataFrameColumn("precision", [.. Classes.Select(s => s.Precision), Classes.Average(s => s.Precision), Weighted(s => s.Precision)]),
        new DoubleDataFrameColumn("recall", [.. Classes.Select(s => s.Recall), Classes.Average(s => s.Recall), Weighted(s => s.Recall)]),
        new DoubleDataFrameColumn("f1", [.. Classes.Select(s => s.F1), MacroF1, WeightedF1]),
        new Int32DataFrameColumn("support", [.. Classes.Select(s => s.Support), Classes.Sum(s => s.Support), Classes.Sum(s => s.Support)]));

    public override string ToString() => $"{Split}: {Images} images, accuracy {Accuracy:P1}, macro F1 {MacroF1:F3}, weighted F1 {WeightedF1:F3}";

    private double Weighted(Func<ClassScore, double> value)
    {
        double total = Classes.Sum(s => s.Support);
        return total == 0 ? 0 : Classes.Sum(s => value(s) * s.Support) / total;
    }
}

/// <summary>A trained FixMatch (or supervised-baseline) model on a user's dataset: probabilities from the head its loss
/// trains (softmax for single-label data, sigmoid otherwise), labels, embeddings, reports per split and the training
/// curves. Multi-label predictions use per-class thresholds chosen on the validation split (maximum F1; ½ without
/// validation images or positives).</summary>
public sealed class TrainedClassifier : IDisposable
{
    private readonly double[] thresholds;

    internal TrainedClassifier(FixMatchMultiLabel method, IImageDataset data, IReadOnlyList<StepRecord> history, double[] maskRates)
    {
        Method = method;
        LabelNames = data.LabelNames;
        SingleLabel = method.Options.Head == FixMatchHead.SingleLabel;
        History = history;
        MaskRates = maskRates;
        var validation = OfSplit(data, DataSplit.Validation);
        thresholds = SingleLabel || validation.Count == 0 ? [.. LabelNames.Select(_ => F1Thresholds.Default)]
            : new F1Thresholds().Fit(validation.LabelMatrix(), method.Probabilities(validation)).Thresholds;
    }

    public FixMatchMultiLabel Method { get; }
    public IReadOnlyList<string> LabelNames { get; }
    public bool SingleLabel { get; }
    /// <summary>The loss terms of every step (total, labelled, unlabelled, mask_rate).</summary>
    public IReadOnlyList<StepRecord> History { get; }
    /// <summary>The fraction of unlabelled images whose pseudo-label passed τ, per step (empty for the supervised baseline).</summary>
    public IReadOnlyList<double> MaskRates { get; }
    public IReadOnlyList<double> Thresholds => thresholds;

    /// <summary>Class probabilities [N, C] of every image of <paramref name="data"/> (the EMA model).</summary>
    public double[,] Probabilities(IImageDataset data) => Method.Probabilities(data);

    /// <summary>Predicted label sets [N, C]: the argmax class (single-label) or each class over its threshold.</summary>
    public bool[,] PredictLabels(IImageDataset data)
    {
        var p = Probabilities(data);
        if (!SingleLabel) return MultiLabelReport.Binarize(p, thresholds);
        var result = new bool[p.GetLength(0), p.GetLength(1)];
        var classes = Classification.ArgMax(p);
        for (var i = 0; i < classes.Length; i++) result[i, classes[i]] = true;
        return result;
    }

    /// <summary>The predicted class of each image (single-label data).</summary>
    public int[] PredictClasses(IImageDataset data) => SingleLabel ? Classification.ArgMax(Probabilities(data))
        : throw new InvalidOperationException("a multi-label model predicts label sets: use PredictLabels");

    /// <summary>Backbone features [N, D] of the EMA model: embeddings for a t-SNE or k-means.</summary>
    public double[,] Embeddings(IImageDataset data)
    {
        var parts = new List<double[]>();
        long d = 0;
        for (var start = 0; start < data.Count; start += 256)
        {
            using var scope = torch.NewDisposeScope();
            var features = Method.Features(data.Batch([.. Enumerable.Range(start, Math.Min(256, data.Count - start))]).Images).to(ScalarType.Float64);
            d = features.size(1);
            parts.Add(features.data<double>().ToArray());
        }
        var all = parts.SelectMany(p => p).ToArray();
        var result = new double[data.Count, d];
        Buffer.BlockCopy(all, 0, result, 0, all.Length * sizeof(double));
        return result;
    }

    /// <summary>Scores the model on the images of one split of <paramref name="data"/> (e.g. Test).</summary>
    public ClassifierReport Report(IImageDataset data, DataSplit split) => Report(OfSplit(data, split), split.ToString().ToLowerInvariant());

    /// <summary>Scores the model on every image of <paramref name="images"/>.</summary>
    public ClassifierReport Report(ImageDataset images, string name = "images") =>
        ClassifierReport.Compute(name, images.LabelMatrix(), PredictLabels(images), LabelNames);

    /// <summary>The training loss per step, averaged over windows of <paramref name="window"/> steps, as (step, loss) for
    /// <see cref="Reports.Charts.Line"/>; <paramref name="term"/> is total, labelled, unlabelled or mask_rate.</summary>
    public (double[] Steps, double[] Values) Curve(string term = "total", int window = 10) => LossCurve.Windowed(History, term, window);

    internal static ImageDataset OfSplit(IImageDataset data, DataSplit split)
    {
        var dataset = data as ImageDataset ?? throw new ArgumentException("give an ImageDataset (every loader returns one)", nameof(data));
        return dataset.Where(split);
    }

    public void Dispose() => Method.Dispose();
}

/// <summary>FixMatch on a user's dataset in one call: the <see cref="DataSplit.Labelled"/> images with their labels, the
/// <see cref="DataSplit.Unlabelled"/> images without (their labels, if any, are never read), the
/// <see cref="DataSplit.Validation"/> images for multi-label thresholds. <see cref="FewLabels.Split"/> draws such splits.
/// Progress and cancellation come from <paramref name="trainer"/> (default: a progress line in the notebook).</summary>
public static class FixMatchClassifier
{
    public static TrainedClassifier Train(IImageDataset data, FixMatchTrainingOptions? options = null, Trainer? trainer = null)
    {
        options ??= new FixMatchTrainingOptions();
        var labelled = TrainedClassifier.OfSplit(data, DataSplit.Labelled);
        var unlabelled = TrainedClassifier.OfSplit(data, DataSplit.Unlabelled);
        using var lease = new TrainerLease(trainer);
        var (method, maskRates) = FixMatchTraining.Train(labelled, unlabelled, options, lease.Trainer, options.SupervisedOnly ? "supervised" : "FixMatch");
        try { return new TrainedClassifier(method, data, lease.Steps(), maskRates); }
        catch
        {
            method.Dispose();
            throw;
        }
    }
}

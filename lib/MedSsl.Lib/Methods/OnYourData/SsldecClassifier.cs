using MedSsl.Data;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods.OnYourData;

/// <summary>Everything one SSLDEC training on images needs besides the images. The network is an MLP on the flattened
/// pixels: ReLU layers of <see cref="HiddenWidths"/>, then a linear embedding z with one unit per class — "the last
/// layer is a fully connected layer without a softmax activation, with number of units equal to the number of classes"
/// (Enguehard et al. 2019, §III-A) — under DEC's clustering layer with one centroid per class (eq. 1). The default widths
/// 256 → 128 are the dense layers of the paper's classifier (Fig. 2: dense1 → 128, dense2 128 → 10) with one 256-unit
/// layer in place of its nine convolutions, for CPU cost. <see cref="Method"/> holds Algorithm 1's settings, the paper's
/// by default (§IV-B); its Seed also draws the initial weights (<c>torch.manual_seed</c>).</summary>
public sealed record SsldecTrainingOptions
{
    public SsldecOptions Method { get; init; } = new();
    public long[] HiddenWidths { get; init; } = [256, 128];
    /// <summary>Pre-training on the labelled images only, no rounds: SSLDEC's supervised start, the baseline of
    /// Fig. 4b and Fig. 7 (left), with the same network, initial weights and batches.</summary>
    public bool SupervisedOnly { get; init; }

    /// <summary>Throws a named error for a setting Algorithm 1 cannot run with.</summary>
    public void Validate()
    {
        if (Method.PretrainEpochs < 1)
            throw new ArgumentOutOfRangeException(nameof(SsldecOptions.PretrainEpochs), Method.PretrainEpochs, "SSLDEC needs at least one pre-training epoch: it sets cluster j to class j (Algorithm 1)");
        if (!SupervisedOnly && Method.Rounds < 1)
            throw new ArgumentOutOfRangeException(nameof(SsldecOptions.Rounds), Method.Rounds, "SSLDEC needs at least one round; set SupervisedOnly to train on the labels alone");
        if (Method.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(SsldecOptions.BatchSize), Method.BatchSize, "a batch holds at least one image");
        if (Method.MaxRetrainEpochs < 0) throw new ArgumentOutOfRangeException(nameof(SsldecOptions.MaxRetrainEpochs), Method.MaxRetrainEpochs, "cannot be negative");
        if (HiddenWidths.Any(w => w < 1))
            throw new ArgumentOutOfRangeException(nameof(HiddenWidths), $"[{string.Join(", ", HiddenWidths)}]", "every hidden layer needs at least one unit");
    }

    /// <summary>The record's text with the widths written out (a notebook shows the settings as this text).</summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"Method = {Method}, HiddenWidths = [{string.Join(", ", HiddenWidths)}], SupervisedOnly = {SupervisedOnly}");
        return true;
    }
}

/// <summary>A trained SSLDEC (or its supervised start) on a user's images: soft cluster assignments q (eq. 1), the
/// cluster of each image, which is its predicted class, the embedding z the clustering layer sees, reports per split,
/// and the rounds of Algorithm 1. Cluster j is class j: pre-training and every retraining fit the labelled images of
/// class j to the one-hot target j, so the labelled points define which class each centroid stands for.</summary>
public sealed class TrainedSsldec : IDisposable
{
    private readonly (int Channels, int Height, int Width) imageShape;

    internal TrainedSsldec(Ssldec method, IImageDataset data, IReadOnlyList<StepRecord> history)
    {
        Method = method;
        LabelNames = data.LabelNames;
        imageShape = (data.Channels, data.Height, data.Width);
        History = history;
    }

    public Ssldec Method { get; }
    public IReadOnlyList<string> LabelNames { get; }
    /// <summary>The KL loss (eq. 3) of every step: "pretrain", each round's epoch against P′, each retraining on labels.</summary>
    public IReadOnlyList<StepRecord> History { get; }
    /// <summary>Per round: its KL loss against P′, the labelled accuracy after retraining, the fraction of assignments that
    /// changed (empty for the supervised start).</summary>
    public IReadOnlyList<SsldecRound> Rounds => Method.Rounds;

    /// <summary>Soft assignments q [N, K] of every image of <paramref name="data"/> (eq. 1; K = the number of classes).</summary>
    public double[,] Probabilities(IImageDataset data) => Matrix(Method.Predict, data);

    /// <summary>The most probable cluster of each image.</summary>
    public int[] Clusters(IImageDataset data)
    {
        using var scope = torch.NewDisposeScope();
        return [.. Method.PredictLabels(Images(data)).data<long>().ToArray().Select(c => (int)c)];
    }

    /// <summary>The predicted class of each image: its cluster (cluster j is class j).</summary>
    public int[] PredictClasses(IImageDataset data) => Clusters(data);

    /// <summary>Predicted label sets [N, C]: one class per image.</summary>
    public bool[,] PredictLabels(IImageDataset data)
    {
        var classes = PredictClasses(data);
        var result = new bool[classes.Length, LabelNames.Count];
        for (var i = 0; i < classes.Length; i++) result[i, classes[i]] = true;
        return result;
    }

    /// <summary>The embedding z [N, K] that the clustering layer sees: for a k-means or a t-SNE (Fig. 7).</summary>
    public double[,] Embeddings(IImageDataset data) => Matrix(images => Method.Network.Evaluate(() => Method.Network.Embed(images)), data);

    /// <summary>Scores the model on the images of one split of <paramref name="data"/> (e.g. Test).</summary>
    public ClassifierReport Report(IImageDataset data, DataSplit split) => Report(TrainedClassifier.OfSplit(data, split), split.ToString().ToLowerInvariant());

    /// <summary>Scores the model on every image of <paramref name="images"/>.</summary>
    public ClassifierReport Report(ImageDataset images, string name = "images") =>
        ClassifierReport.Compute(name, images.LabelMatrix(), PredictLabels(images), LabelNames);

    /// <summary>The KL loss per step of every phase, averaged over windows of <paramref name="window"/> steps, as (step, loss)
    /// for <see cref="Reports.Charts.Line"/>.</summary>
    public (double[] Steps, double[] Values) Curve(int window = 10) => LossCurve.Windowed(History, "kl", window);

    public void Dispose() => Method.Dispose();

    /// <summary>All images of <paramref name="data"/> as one batch, as Algorithm 1 predicts Q over all points at once.</summary>
    private Tensor Images(IImageDataset data)
    {
        if ((data.Channels, data.Height, data.Width) != imageShape)
            throw new ArgumentException($"the model was trained on {imageShape.Channels}×{imageShape.Height}×{imageShape.Width} images, " +
                $"these are {data.Channels}×{data.Height}×{data.Width}: resize them to the training size", nameof(data));
        return data.Batch([.. Enumerable.Range(0, data.Count)]).Images;
    }

    private double[,] Matrix(Func<Tensor, Tensor> compute, IImageDataset data)
    {
        using var scope = torch.NewDisposeScope();
        var values = compute(Images(data)).to(ScalarType.Float64);
        var result = new double[values.size(0), values.size(1)];
        Buffer.BlockCopy(values.data<double>().ToArray(), 0, result, 0, result.Length * sizeof(double));
        return result;
    }
}

/// <summary>SSLDEC (Enguehard et al. 2019) on a user's images in one call: pre-training on the
/// <see cref="DataSplit.Labelled"/> images, then Algorithm 1's rounds over them and the <see cref="DataSplit.Unlabelled"/>
/// images (whose labels, if any, are never read). <see cref="FewLabels.Split"/> draws such splits. SSLDEC gives each
/// image one class, so every labelled image needs exactly one label and every class at least one labelled image (its
/// centroid is fitted to them). Progress and cancellation come from <paramref name="trainer"/> (default: a progress line
/// in the notebook).</summary>
public static class SsldecClassifier
{
    public static TrainedSsldec Train(IImageDataset data, SsldecTrainingOptions? options = null, Trainer? trainer = null)
    {
        options ??= new SsldecTrainingOptions();
        options.Validate();
        var labelled = TrainedClassifier.OfSplit(data, DataSplit.Labelled);
        var classes = LabelledClasses(labelled);
        var unlabelled = TrainedClassifier.OfSplit(data, DataSplit.Unlabelled);
        if (!options.SupervisedOnly && unlabelled.Count == 0)
            throw new ArgumentException("SSLDEC needs unlabelled images (none in the unlabelled split); set SupervisedOnly to train on labels alone", nameof(data));
        using var lease = new TrainerLease(trainer);
        torch.manual_seed(options.Method.Seed);
        var k = data.LabelNames.Count;
        var backbone = nn.Sequential(nn.Flatten(), Mlp.Create(data.Channels * data.Height * data.Width, options.HiddenWidths, k));
        var method = new Ssldec(new ClusteringNetwork(backbone, embeddingDim: k, clusters: k), options.Method);
        try
        {
            using (var scope = torch.NewDisposeScope())
            {
                var x = labelled.Batch([.. Enumerable.Range(0, labelled.Count)]).Images;
                var y = torch.tensor(classes.Select(c => (long)c).ToArray());
                if (options.SupervisedOnly) method.FitSupervised(x, y, lease.Trainer);
                else method.Fit(x, y, unlabelled.Batch([.. Enumerable.Range(0, unlabelled.Count)]).Images, lease.Trainer);
            }
            return new TrainedSsldec(method, data, lease.Steps());
        }
        catch
        {
            method.Dispose();
            throw;
        }
    }

    /// <summary>The class of each labelled image, or a named error: an image with no label or several, a class without a
    /// labelled image (no point would pin its centroid, and P′ — as many points per predicted class as the rarest has —
    /// would be empty once it is never predicted).</summary>
    private static int[] LabelledClasses(ImageDataset labelled)
    {
        if (labelled.Count == 0) throw new ArgumentException("SSLDEC needs labelled images (none in the labelled split)", "data");
        var classes = new int[labelled.Count];
        for (var i = 0; i < labelled.Count; i++)
        {
            var labels = Enumerable.Range(0, labelled.LabelNames.Count).Where(l => labelled.HasLabel(i, l)).ToArray();
            if (labels.Length != 1)
                throw new ArgumentException($"labelled image '{labelled.ExamId(i)}' has {labels.Length} labels: SSLDEC gives each image exactly one class " +
                    "(for label sets use FixMatchClassifier)", "data");
            classes[i] = labels[0];
        }
        var missing = labelled.LabelNames.Where((_, c) => !classes.Contains(c)).ToArray();
        if (missing.Length > 0)
            throw new ArgumentException($"no labelled image of class {string.Join(", ", missing.Select(n => $"'{n}'"))}: SSLDEC fits cluster j to the " +
                "labelled images of class j, so every class needs at least one", "data");
        return classes;
    }
}

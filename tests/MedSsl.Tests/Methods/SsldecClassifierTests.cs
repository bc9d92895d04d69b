using MedSsl.Data;
using MedSsl.Data.Loaders;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
using MedSsl.Tests.Support;
using MedSsl.Training;

namespace MedSsl.Tests.Methods;

/// <summary>SSLDEC in one call on the real digits, trained for a handful of steps: what the model returns agrees with
/// itself and its report with scikit-learn's on its own predictions; bad arguments are named errors.</summary>
public sealed class SsldecClassifierTests
{
    private static readonly Lazy<ImageDataset> Split = new(() => FewLabels.Split(Digits.Load(), labelsPerClass: 3, seed: 4));

    /// <summary>Ten pre-training epochs and two rounds of a 16-unit MLP: seconds, and enough to exercise every phase.</summary>
    private static SsldecTrainingOptions Tiny(bool supervisedOnly = false) => new()
    {
        Method = new SsldecOptions { PretrainEpochs = 10, LearningRate = 1e-2, Rounds = 2, MaxRetrainEpochs = 2, Seed = 3 },
        HiddenWidths = [16],
        SupervisedOnly = supervisedOnly,
    };

    private static TrainedSsldec Train(ImageDataset data, SsldecTrainingOptions options)
    {
        using var trainer = new Trainer { Progress = new SilentProgress() };
        return SsldecClassifier.Train(data, options, trainer);
    }

    [Fact]
    public void The_report_on_the_digits_is_sklearns_on_the_models_own_predictions()
    {
        var data = Split.Value;
        using var model = Train(data, Tiny());
        var test = data.Where(DataSplit.Test);
        var predicted = model.PredictClasses(test);
        var truth = test.ClassIndices();
        var report = model.Report(data, DataSplit.Test);

        var sklearn = PyTorchReference.Run($$"""
            from sklearn import metrics
            y, p = [{{string.Join(",", truth)}}], [{{string.Join(",", predicted)}}]
            pr, rc, f1, support = metrics.precision_recall_fscore_support(y, p, labels=list(range(10)), zero_division=0)
            emit({"accuracy": metrics.accuracy_score(y, p), "precision": pr.tolist(), "recall": rc.tolist(), "f1": f1.tolist(),
                  "support": support.tolist(), "macro": metrics.f1_score(y, p, labels=list(range(10)), average="macro", zero_division=0),
                  "weighted": metrics.f1_score(y, p, labels=list(range(10)), average="weighted", zero_division=0)})
            """);
        Assert.Equal("test", report.Split);
        Assert.Equal(test.Count, report.Images);
        Assert.Equal(sklearn.GetProperty("accuracy").GetDouble(), report.Accuracy, 12);
        Assert.Equal(sklearn.GetProperty("macro").GetDouble(), report.MacroF1, 12);
        Assert.Equal(sklearn.GetProperty("weighted").GetDouble(), report.WeightedF1, 12);
        Assert.Equal(data.LabelNames, report.Classes.Select(c => c.Name));
        foreach (var (name, values) in new[] { ("precision", report.Classes.Select(c => c.Precision)), ("recall", report.Classes.Select(c => c.Recall)),
                     ("f1", report.Classes.Select(c => c.F1)), ("support", report.Classes.Select(c => (double)c.Support)) })
            Assert.Equal(sklearn.GetProperty(name).Doubles(), values.ToArray(), (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void Clusters_are_the_argmax_of_q_and_are_the_predicted_classes()
    {
        var data = Split.Value;
        using var model = Train(data, Tiny());
        var test = data.Where(DataSplit.Test);
        var q = model.Probabilities(test);
        Assert.Equal((test.Count, 10), (q.GetLength(0), q.GetLength(1)));
        for (var i = 0; i < test.Count; i++) Assert.Equal(1.0, Enumerable.Range(0, 10).Sum(j => q[i, j]), 5);
        var clusters = model.Clusters(test);
        Assert.Equal(Enumerable.Range(0, test.Count).Select(i => Enumerable.Range(0, 10).MaxBy(j => q[i, j])), clusters);
        Assert.Equal(clusters, model.PredictClasses(test));
        var labels = model.PredictLabels(test);
        Assert.All(Enumerable.Range(0, test.Count), i => Assert.Equal(Enumerable.Range(0, 10).Select(j => j == clusters[i]), Enumerable.Range(0, 10).Select(j => labels[i, j])));
        // z has one unit per class (Enguehard et al. 2019, §III-A).
        var z = model.Embeddings(test);
        Assert.Equal((test.Count, 10), (z.GetLength(0), z.GetLength(1)));
        // Algorithm 1 ran: pre-training, then at most the two rounds asked for, each an epoch over P′ in batches of 128.
        Assert.InRange(model.Rounds.Count, 1, 2);
        Assert.Equal("pretrain", model.History[0].Phase);
        var points = data.IndicesOf(DataSplit.Labelled).Length + data.IndicesOf(DataSplit.Unlabelled).Length;
        foreach (var round in model.Rounds)
            Assert.Equal((int)Math.Ceiling(Math.Round(round.TrainedFraction * points) / 128), model.History.Count(s => s.Phase == $"round {round.Round}/2"));
    }

    [Fact]
    public void The_supervised_start_has_no_rounds_and_trains_on_the_labelled_images_only()
    {
        var data = Split.Value;
        using var model = Train(data, Tiny(supervisedOnly: true));
        Assert.Empty(model.Rounds);
        // 30 labelled images are one batch of 128: one step per pre-training epoch.
        Assert.Equal(Enumerable.Repeat("pretrain", 10), model.History.Select(s => s.Phase));
    }

    [Fact]
    public void A_class_without_a_labelled_image_is_a_named_error()
    {
        var data = Split.Value;
        var classes = data.ClassIndices();
        var splits = Enumerable.Range(0, data.Count).Select(i => classes[i] == 3 && data.Split(i) == DataSplit.Labelled ? DataSplit.Unlabelled : data.Split(i)).ToArray();
        var e = Assert.Throws<ArgumentException>(() => Train(FewLabels.WithSplits(data, splits), Tiny()));
        Assert.Equal("data", e.ParamName);
        Assert.Contains("no labelled image of class '3'", e.Message);
    }

    [Fact]
    public void A_labelled_image_with_several_labels_is_a_named_error()
    {
        float[] pixels = new float[4 * 4];
        bool[] labels = [true, false, false, true, true, true, false, true];
        var data = new ImageDataset(1, 2, 2, ["a", "b"], pixels, labels, ["p", "q", "r", "s"], ["p", "q", "r", "s"],
            [DataSplit.Labelled, DataSplit.Labelled, DataSplit.Labelled, DataSplit.Unlabelled]);
        var e = Assert.Throws<ArgumentException>(() => Train(data, Tiny()));
        Assert.Contains("labelled image 'r' has 2 labels", e.Message);
    }

    [Fact]
    public void Images_of_another_size_are_a_named_error()
    {
        var data = Split.Value;
        using var model = Train(data, Tiny(supervisedOnly: true));
        var larger = new ImageDataset(1, 16, 16, data.LabelNames, new float[2 * 256], new bool[2 * 10], ["a", "b"], ["a", "b"]);
        var e = Assert.Throws<ArgumentException>(() => model.Report(larger));
        Assert.Equal("data", e.ParamName);
        Assert.Contains("trained on 1×8×8 images, these are 1×16×16", e.Message);
    }

    [Fact]
    public void Zero_pre_training_epochs_or_rounds_are_named_errors()
    {
        var data = Split.Value;
        var noPretraining = Assert.Throws<ArgumentOutOfRangeException>(() => Train(data, Tiny() with { Method = Tiny().Method with { PretrainEpochs = 0 } }));
        Assert.Equal("PretrainEpochs", noPretraining.ParamName);
        Assert.Contains("at least one pre-training epoch", noPretraining.Message);
        var noRounds = Assert.Throws<ArgumentOutOfRangeException>(() => Train(data, Tiny() with { Method = Tiny().Method with { Rounds = 0 } }));
        Assert.Equal("Rounds", noRounds.ParamName);
        Assert.Contains("set SupervisedOnly", noRounds.Message);
        // The supervised start runs no rounds, so it does not need any.
        using var supervised = Train(data, Tiny(supervisedOnly: true) with { Method = Tiny().Method with { Rounds = 0 } });
        Assert.Empty(supervised.Rounds);
    }

    [Fact]
    public void SSLDEC_without_unlabelled_images_is_a_named_error()
    {
        var data = Split.Value;
        var splits = Enumerable.Range(0, data.Count).Select(i => data.Split(i) == DataSplit.Unlabelled ? DataSplit.Test : data.Split(i)).ToArray();
        var e = Assert.Throws<ArgumentException>(() => Train(FewLabels.WithSplits(data, splits), Tiny()));
        Assert.Contains("needs unlabelled images", e.Message);
    }
}

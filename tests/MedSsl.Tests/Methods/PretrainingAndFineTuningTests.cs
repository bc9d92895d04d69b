using MedSsl.Data;
using MedSsl.Data.Loaders;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
using MedSsl.Metrics;
using MedSsl.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Methods;

/// <summary>DINO / CASS pre-training and linear-head fine-tuning on a user's images (<see cref="SelfSupervisedPretraining"/>,
/// <see cref="ClassifierFineTuning"/>), on tiny networks for a few steps: what they return, that starts are copied and
/// never changed, the reports against hand computations, and bad arguments as named errors.</summary>
public sealed class PretrainingAndFineTuningTests
{
    private static readonly ResNetArchitecture RgbCnn = new(3, [4, 8]);
    private static readonly VitArchitecture RgbVit = new(3, ImageSize: 16, PatchSize: 4, Dim: 8, Depth: 1, Heads: 2);

    /// <summary>40 RGB lesions of 16×16 with four findings, split 70/10/20 into labelled, validation and test.</summary>
    private static ImageDataset Lesions() => SyntheticSkinLesions.Make(40, seed: 5, imageSize: 16).Images;

    [Fact]
    public void Dino_returns_the_teachers_backbone_and_its_entropy_over_log_K_once_per_step()
    {
        var digits = Digits.Load().Subset([.. Enumerable.Range(0, 24)]);   // grey 8×8: DINO's probe must take one channel
        var cnn = new ResNetArchitecture(1, [4, 8]);
        using var pretrained = SelfSupervisedPretraining.Dino(digits, cnn, new DinoPretrainingOptions { Steps = 3, BatchSize = 8, Prototypes = 8, Seed = 1 });

        Assert.IsType<ResNet>(pretrained.Network);
        Assert.Equal(SelfSupervisedPretraining.DinoDiagnostic, pretrained.DiagnosticName);
        Assert.Equal(new[] { 1.0, 2.0, 3.0 }, pretrained.Diagnostic.Select(p => p.Step));
        Assert.Equal(pretrained.History.Select(h => h.Losses["teacher_entropy"] / Math.Log(8)), pretrained.Diagnostic.Select(p => p.Value), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.All(pretrained.Diagnostic, p => Assert.InRange(p.Value, 0, 1 + 1e-9));
        Assert.Equal(pretrained.Diagnostic[^1].Value, pretrained.FinalDiagnostic);   // the last tenth of 3 steps is the last one
        var embeddings = pretrained.Embeddings(digits);
        Assert.Equal((24, 8), (embeddings.GetLength(0), embeddings.GetLength(1)));
    }

    [Fact]
    public void Dino_trains_a_copy_of_its_start_and_leaves_the_start_as_it_was()
    {
        var data = Lesions();
        torch.manual_seed(2);
        using var start = RgbVit.Create();
        var before = Weights(start);
        using var pretrained = SelfSupervisedPretraining.Dino(data, RgbVit, new DinoPretrainingOptions { Steps = 2, BatchSize = 8, Prototypes = 8, Seed = 1 }, start);

        Assert.Equal(before, Weights(start));
        Assert.NotEqual(before, Weights(pretrained.Network));
        Assert.Equal(2, pretrained.Diagnostic.Count);
    }

    [Fact]
    public void Cass_returns_both_backbones_with_the_cnns_output_spread_times_root_K_once_per_step()
    {
        using var cass = SelfSupervisedPretraining.Cass(Lesions(), RgbCnn, RgbVit, new CassPretrainingOptions { Steps = 2, BatchSize = 8, Outputs = 16, Seed = 1 });

        Assert.IsType<ResNet>(cass.Cnn.Network);
        Assert.IsType<VisionTransformer>(cass.Transformer.Network);
        Assert.Equal(new[] { 1.0, 2.0 }, cass.Cnn.Diagnostic.Select(p => p.Step));
        Assert.Equal(cass.Cnn.History.Select(h => h.Losses["cnn_output_spread"] * 4), cass.Cnn.Diagnostic.Select(p => p.Value), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(cass.Cnn.Diagnostic, cass.Transformer.Diagnostic);
        Assert.All(cass.Cnn.Diagnostic, p => Assert.True(p.Value > 0, $"spread {p.Value}"));
    }

    [Fact]
    public void A_single_label_report_agrees_with_a_hand_computation_from_its_own_probabilities()
    {
        var split = FewLabels.Split(Digits.Load(), labelsPerClass: 3, seed: 0, validationPerClass: 1, testFraction: 0.1);
        using var model = ClassifierFineTuning.Train(split, new ResNetArchitecture(1, [4, 8]), options: new ClassifierFineTuningOptions { Steps = 4, BatchSize = 10, Seed = 1 });
        Assert.True(model.SingleLabel);   // every labelled digit has exactly one label

        var test = split.Where(DataSplit.Test);
        var p = model.Probabilities(test);
        var truth = test.ClassIndices();
        var predicted = Enumerable.Range(0, test.Count).Select(i => Enumerable.Range(0, 10).MaxBy(c => p[i, c])).ToArray();
        for (var i = 0; i < test.Count; i++) Assert.Equal(1.0, Enumerable.Range(0, 10).Sum(c => p[i, c]), 6);
        var report = model.Report(split, DataSplit.Test);

        Assert.Equal(test.Count, report.Images);
        Assert.Equal(Enumerable.Range(0, test.Count).Count(i => predicted[i] == truth[i]) / (double)test.Count, report.Accuracy, 12);
        var f1 = new double[10];
        var support = new int[10];
        for (var c = 0; c < 10; c++)
        {
            var tp = Enumerable.Range(0, test.Count).Count(i => predicted[i] == c && truth[i] == c);
            var calledC = predicted.Count(k => k == c);
            support[c] = truth.Count(k => k == c);
            double precision = calledC == 0 ? 0 : tp / (double)calledC, recall = support[c] == 0 ? 0 : tp / (double)support[c];
            f1[c] = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            Assert.Equal(f1[c], report.Classes[c].F1, 12);
            Assert.Equal(support[c], report.Classes[c].Support);
        }
        Assert.Equal(f1.Average(), report.MacroF1, 12);
        Assert.Equal(Enumerable.Range(0, 10).Sum(c => f1[c] * support[c]) / support.Sum(), report.WeightedF1, 12);
    }

    [Fact]
    public void Multi_label_fine_tuning_fits_its_thresholds_on_the_validation_images_and_leaves_the_pretrained_backbone_as_it_was()
    {
        var data = Lesions();
        using var pretrained = SelfSupervisedPretraining.Dino(data, RgbCnn, new DinoPretrainingOptions { Steps = 1, BatchSize = 8, Prototypes = 8 });
        var before = Weights(pretrained.Network);
        using var model = ClassifierFineTuning.Train(data, pretrained, new ClassifierFineTuningOptions { Steps = 3, BatchSize = 8, Seed = 1 });

        Assert.False(model.SingleLabel);
        Assert.Equal(before, Weights(pretrained.Network));
        var validation = data.Where(DataSplit.Validation);
        Assert.Equal(new F1Thresholds().Fit(validation.LabelMatrix(), model.Probabilities(validation)).Thresholds, model.Thresholds);
        var test = data.Where(DataSplit.Test);
        var expected = MultiLabelReport.Compute(test.LabelMatrix(), MultiLabelReport.Binarize(model.Probabilities(test), model.Thresholds));
        Assert.Equal(expected.WeightedF1, model.Report(data, DataSplit.Test).WeightedF1, 12);
        Assert.Equal(3, model.History.Count);
        var embeddings = model.Embeddings(test);
        Assert.Equal((test.Count, 8), (embeddings.GetLength(0), embeddings.GetLength(1)));
    }

    [Fact]
    public void The_single_label_loss_is_the_mean_cross_entropy_of_the_marked_class()
    {
        using var logits = tensor(new double[] { 2, 0, 0, 0, 1, 3 }, [2, 3]);
        using var oneHot = tensor(new double[] { 1, 0, 0, 0, 0, 1 }, [2, 3]);
        double Nll(double mark, params double[] z) => Math.Log(z.Sum(Math.Exp)) - mark;
        using var loss = SingleLabelFineTuning.SingleLabelLoss(logits, oneHot);
        Assert.Equal((Nll(2, 2, 0, 0) + Nll(3, 0, 1, 3)) / 2, loss.ToDouble(), 12);
    }

    [Fact]
    public void Zero_steps_are_a_named_error()
    {
        var data = Lesions();
        var dino = Assert.Throws<ArgumentOutOfRangeException>(() => SelfSupervisedPretraining.Dino(data, RgbCnn, new DinoPretrainingOptions { Steps = 0 }));
        Assert.Equal("options", dino.ParamName);
        Assert.Contains("Steps: pre-training needs at least one step", dino.Message);
        var cass = Assert.Throws<ArgumentOutOfRangeException>(() => SelfSupervisedPretraining.Cass(data, RgbCnn, RgbVit, new CassPretrainingOptions { Steps = 0 }));
        Assert.Contains("Steps: pre-training needs at least one step", cass.Message);
        var tuning = Assert.Throws<ArgumentOutOfRangeException>(() => ClassifierFineTuning.Train(data, RgbCnn, options: new ClassifierFineTuningOptions { Steps = 0 }));
        Assert.Equal("options", tuning.ParamName);
        Assert.Contains("Steps: fine-tuning needs at least one step", tuning.Message);
    }

    [Fact]
    public void Labelled_images_without_labels_are_a_named_error()
    {
        var digits = Digits.Load().Subset([.. Enumerable.Range(0, 20)]);   // every image unassigned: none labelled
        var cnn = new ResNetArchitecture(1, [4]);
        var noneLabelled = Assert.Throws<ArgumentException>(() => ClassifierFineTuning.Train(digits, cnn));
        Assert.Equal("data", noneLabelled.ParamName);
        Assert.Contains("none in the labelled split", noneLabelled.Message);

        var noColumns = new ImageDataset(1, 4, 4, [], new float[3 * 16], [], ["a", "b", "c"], ["a", "b", "c"], [DataSplit.Labelled, DataSplit.Labelled, DataSplit.Labelled]);
        var e = Assert.Throws<ArgumentException>(() => ClassifierFineTuning.Train(noColumns, cnn));
        Assert.Equal("data", e.ParamName);
        Assert.Contains("the images carry no labels", e.Message);

        var twoLabels = Assert.Throws<ArgumentException>(() => ClassifierFineTuning.Train(Lesions(), RgbCnn, options: new ClassifierFineTuningOptions { SingleLabel = true }));
        Assert.Contains("exactly one label per image; image ", twoLabels.Message);
        Assert.Contains(" of the labelled ones has ", twoLabels.Message);
    }

    [Fact]
    public void Images_that_do_not_fit_the_backbone_are_a_named_error()
    {
        var grey = Digits.Load().Subset([.. Enumerable.Range(0, 8)]);
        var channels = Assert.Throws<ArgumentException>(() => SelfSupervisedPretraining.Dino(grey, RgbCnn));
        Assert.Equal("data", channels.ParamName);
        Assert.Contains("the images have 1 channel(s) but the backbone (ResNet of 3 channel(s) in, widths 4/8) takes 3", channels.Message);

        var size = Assert.Throws<ArgumentException>(() => ClassifierFineTuning.Train(Lesions(), RgbVit with { ImageSize = 32 }));
        Assert.Contains("the images are 16×16 but the backbone (ViT of 3 channel(s) in, 32² images", size.Message);

        using var images = zeros(4, 3, 16, 16);
        var cassSize = Assert.Throws<ArgumentException>(() => SelfSupervisedPretraining.Cass(images, RgbCnn, RgbVit with { ImageSize = 8 }));
        Assert.Equal("images", cassSize.ParamName);

        torch.manual_seed(0);
        using var wider = new ResNet(3, [4, 16]);
        var start = Assert.Throws<ArgumentException>(() => ClassifierFineTuning.Train(Lesions(), RgbCnn, wider));
        Assert.Equal("start", start.ParamName);
        Assert.Contains("the ResNet given is not a ResNet of 3 channel(s) in, widths 4/8", start.Message);
    }

    private static double[] Weights(nn.Module module) =>
        [.. module.state_dict().Values.SelectMany(t => t.to(ScalarType.Float64).flatten().data<double>().ToArray())];
}

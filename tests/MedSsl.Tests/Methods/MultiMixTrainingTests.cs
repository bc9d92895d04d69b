using MedSsl.Data;
using MedSsl.Data.Loaders;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
using MedSsl.Models;
using MedSsl.Tests.Runner;
using MedSsl.Tests.Support;
using MedSsl.Training;
using static TorchSharp.torch;

namespace MedSsl.Tests.Methods;

/// <summary>The one-call MultiMix API on tiny synthetic X-rays (a few steps): it trains exactly what the method trains on
/// the splits' pools, its report against hand computations from the predictions, the mask measures on hand values, and
/// the named errors (one of them on the lesion sample folder's multi-label findings).</summary>
public class MultiMixTrainingTests
{
    private static readonly ChestXrayData Xrays = SyntheticChestXray.Make(new ChestXraySizes(16, 24, 8, 6), seed: 3);

    /// <summary>Classification: images 0–5 labelled, 6–19 unlabelled, 20–23 test; segmentation: 0–2 masked, 3–5 unlabelled, 6–7 test.</summary>
    private static ImageDataset Classification() =>
        Xrays.Classification.ToDataset(i => i < 6 ? DataSplit.Labelled : i < 20 ? DataSplit.Unlabelled : DataSplit.Test).Images;

    private static SegmentationDataset Segmentation() =>
        Xrays.Segmentation.ToDataset(i => i < 3 ? DataSplit.Labelled : i < 6 ? DataSplit.Unlabelled : DataSplit.Test);

    private static MultiMixTrainingOptions Tiny(MultiMixModel model = MultiMixModel.MultiMix) => new()
    {
        Model = model, Steps = 3, Widths = [4, 8], Method = new MultiMixOptions { BatchSize = 3, LearningRate = 1e-3 }, Seed = 7,
    };

    private static TrainedMultiMix Train(ImageDataset classification, SegmentationDataset segmentation, MultiMixTrainingOptions options)
    {
        using var trainer = new Trainer { Progress = new SilentProgress() };
        return MultiMixTraining.Train(classification, segmentation, options, trainer);
    }

    [Fact]
    public void A_chest_xray_set_becomes_one_hot_classes_and_a_two_class_mask_per_image()
    {
        var set = Xrays.Segmentation;
        var data = set.ToDataset(i => i % 2 == 0 ? DataSplit.Labelled : DataSplit.Test);
        Assert.Equal(["normal", "pneumonia"], data.Images.LabelNames);
        Assert.Equal(["background", "lungs"], data.ClassNames);
        Assert.Equal(set.Classes, data.Images.ClassIndices());
        Assert.Equal([0, 2, 4, 6], data.IndicesOf(DataSplit.Labelled));
        for (var i = 0; i < set.Count; i++)
        {
            var mask = set.Mask(i);
            Assert.Equal(mask.Cast<bool>().Select(m => m ? (byte)1 : (byte)0), data.Mask(i).ToArray());
            Assert.Equal(set.Image(i).Cast<float>(), data.Images.Image(i).ToArray());
        }
    }

    [Fact]
    public void The_api_trains_what_the_method_trains_on_the_splits_pools()
    {
        var (classification, segmentation) = (Classification(), Segmentation());
        using var trained = Train(classification, segmentation, Tiny());
        Assert.Equal([0, 1, 2, 3, 4, 5], trained.LabelledImages);
        Assert.Equal([0, 1, 2], trained.LabelledMasks);

        var options = Tiny().Method!.For(MultiMixModel.MultiMix) with { Seed = 7 };
        manual_seed(7);
        using var method = new MultiMix(new MultiMixNet(options.Network([4, 8])), options);
        using var trainer = new Trainer { Progress = new SilentProgress() };
        trainer.Run(method, method.Batches(classification, [0, 1, 2, 3, 4, 5], [.. Enumerable.Range(6, 14)], segmentation, [0, 1, 2], [3, 4, 5]), "direct", 3);
        Assert.Equal(3, trained.History.Count);
        Assert.Equal(trainer.History.SelectMany(s => s.Losses), trained.History.SelectMany(s => s.Losses));
        Assert.Contains(trained.History, s => s.Losses["seg_kl"] > 0 && s.Losses["cls_unsup"] >= 0);
    }

    [Fact]
    public void Unlabelled_images_need_no_label_and_their_labels_are_never_read_in_training()
    {
        var labelledEverywhere = Classification();
        var (n, size) = (labelledEverywhere.Count, labelledEverywhere.ImageSize);
        var pixels = new float[n * size];
        var labels = new bool[n * 2];
        for (var i = 0; i < n; i++)
        {
            labelledEverywhere.Image(i).CopyTo(pixels.AsSpan(i * size, size));
            if (labelledEverywhere.Split(i) != DataSplit.Unlabelled) labels[i * 2 + labelledEverywhere.ClassIndices()[i]] = true;
        }
        var ids = Enumerable.Range(0, n).Select(i => labelledEverywhere.ExamId(i)).ToArray();
        var unlabelledWithout = new ImageDataset(1, 16, 16, labelledEverywhere.LabelNames, pixels, labels, ids, ids,
            [.. Enumerable.Range(0, n).Select(labelledEverywhere.Split)]);

        using var with = Train(labelledEverywhere, Segmentation(), Tiny());
        using var without = Train(unlabelledWithout, Segmentation(), Tiny());
        Assert.Equal(with.History.SelectMany(s => s.Losses), without.History.SelectMany(s => s.Losses));
        var (rate, accuracy) = without.PseudoLabelOutcomes(unlabelledWithout);
        Assert.Equal(with.PseudoLabelOutcomes(labelledEverywhere).Rate, rate);
        Assert.True(double.IsNaN(accuracy), "no class to check the pseudo-labels against");
    }

    [Fact]
    public void The_report_equals_a_hand_computation_from_the_predictions()
    {
        var (classification, segmentation) = (Classification(), Segmentation());
        using var trained = Train(classification, segmentation, Tiny());
        var report = trained.Report(classification, segmentation, DataSplit.Test);

        var test = classification.IndicesOf(DataSplit.Test);
        var (images, _) = classification.Batch(test);
        var p = trained.Probabilities(images).data<float>().ToArray();
        var right = test.Select((i, k) => (p[2 * k + 1] > p[2 * k] ? 1 : 0) == classification.ClassIndices()[i]).Count(r => r);
        Assert.Equal("test", report.Split);
        Assert.Equal(right / (double)test.Length, report.Classification!.Accuracy, 12);

        var masked = segmentation.IndicesOf(DataSplit.Test);
        var probabilities = trained.PredictMasks(segmentation.ImageBatch(masked)).data<float>().ToArray();
        var plane = 16 * 16;
        var dice = masked.Select((i, k) =>
        {
            var reference = segmentation.Mask(i);
            int both = 0, predicted = 0, truth = 0;
            for (var j = 0; j < plane; j++)
            {
                var on = probabilities[k * plane + j] >= 0.5f;
                (both, predicted, truth) = (both + (on && reference[j] == 1 ? 1 : 0), predicted + (on ? 1 : 0), truth + reference[j]);
            }
            return predicted + truth == 0 ? 1 : 2.0 * both / (predicted + truth);
        }).Average();
        Assert.Equal(dice, report.Segmentation!.Dice, 12);
        Assert.Equal(masked.Length, report.Segmentation.Images);

        // Eq. 2's KL between the pixel-wise mean masks of the labelled training images and of the test images.
        var labelled = trained.PredictMasks(segmentation.ImageBatch([0, 1, 2])).data<float>().ToArray();
        double Mean(float[] values, int count, int j) => Enumerable.Range(0, count).Average(k => Math.Clamp((double)values[k * plane + j], 1e-6, 1 - 1e-6));
        var kl = Enumerable.Range(0, plane).Average(j =>
        {
            var (l, u) = (Mean(labelled, 3, j), Mean(probabilities, masked.Length, j));
            return l * Math.Log(l / u) + (1 - l) * Math.Log((1 - l) / (1 - u));
        });
        Assert.Equal(kl, report.MaskKl, 4);
        Assert.True(report.SaliencyOnMask > 0);
    }

    [Fact]
    public void Binary_mask_measures_match_hand_values_and_an_empty_prediction_is_the_diagonal_away()
    {
        var predicted = new bool[3, 4];
        var reference = new bool[3, 4];
        (predicted[0, 0], predicted[0, 1], reference[0, 1], reference[1, 1]) = (true, true, true, true);
        var report = BinaryMaskReport.Compute("test", [predicted, new bool[3, 4]], [reference, reference]);
        // Image 1: one shared pixel of 2 + 2: Dice ½, Jaccard ⅓, precision ½, recall ½. Image 2 predicts nothing: Dice,
        // Jaccard and recall 0, precision 1 (no false positive), and a Hausdorff distance of the 3×4 image's diagonal, 5.
        Assert.Equal((0.25, 1 / 6.0, 0.75, 0.25), (report.Dice, report.Jaccard, report.Precision, report.Recall));
        var first = BinaryMaskReport.Compute("test", [predicted], [reference]).AverageHausdorff;
        Assert.Equal((first + 5) / 2, report.AverageHausdorff, 12);
        // An empty reference against a prediction is as far; two empty masks agree.
        Assert.Equal(5, BinaryMaskReport.Compute("test", [reference], [new bool[3, 4]]).AverageHausdorff);
        Assert.Equal(0, BinaryMaskReport.Compute("test", [new bool[3, 4]], [new bool[3, 4]]).AverageHausdorff);
        Assert.Equal("no annotated image in the test split to score", Assert.Throws<ArgumentException>(() => BinaryMaskReport.Compute("test", [], [])).Message);
    }

    [Fact]
    public void What_a_model_does_not_learn_or_a_split_does_not_hold_is_null_or_NaN_not_an_error()
    {
        var noMasks = Xrays.Segmentation.ToDataset(_ => DataSplit.Unlabelled);
        using var enc = Train(Classification(), noMasks, Tiny(MultiMixModel.Enc));
        var report = enc.Report(Classification(), Segmentation(), DataSplit.Test);
        Assert.Null(report.Segmentation);
        Assert.True(double.IsNaN(report.MaskKl));
        Assert.NotNull(report.Classification);

        // A split without masks or with one class only: no segmentation scores, no AUC; not an error.
        using var multiMix = Train(Classification(), Segmentation(), Tiny());
        var normalOnly = Xrays.Classification.ToDataset(i => Xrays.Classification.Classes[i] == 0 ? DataSplit.Test : DataSplit.Unlabelled).Images;
        var partial = multiMix.Report(normalOnly, Segmentation(), DataSplit.Validation);
        Assert.Null(partial.Segmentation);
        Assert.True(double.IsNaN(partial.SaliencyOnMask) && double.IsNaN(partial.MaskKl) && double.IsNaN(partial.Auc));
        Assert.Null(partial.Classification);
        var oneClass = multiMix.Report(normalOnly, Segmentation(), DataSplit.Test);
        Assert.True(double.IsNaN(oneClass.Auc));
        Assert.Equal(normalOnly.IndicesOf(DataSplit.Test).Length, oneClass.Classification!.Images);
    }

    [Fact]
    public void A_chest_xray_folder_from_data_synth_trains_and_reports_from_its_files()
    {
        var folder = Path.Combine(MedSsl.Tests.Data.Fixture.TempDir(), "xrays");
        SyntheticWriter.Write("chest-xray", folder, seed: 4, n: 40);
        var data = ImageFolder.LoadSegmentation(folder, ["background", "lungs"]);
        Assert.Equal([4, 24, 4, 8], new[] { DataSplit.Labelled, DataSplit.Unlabelled, DataSplit.Validation, DataSplit.Test }.Select(s => data.IndicesOf(s).Length));
        var set = SyntheticChestXray.MakeSet(XraySource.A, 32, 40, seed: 4, stream: 0);
        Assert.Equal(set.Classes, data.Images.ClassIndices());
        Assert.All(Enumerable.Range(0, 40), i => Assert.Equal(set.Mask(i).Cast<bool>().Select(m => m ? (byte)1 : (byte)0), data.Mask(i).ToArray()));

        using var model = Train(data.Images, data, Tiny() with { Steps = 2 });
        Assert.Equal(data.IndicesOf(DataSplit.Labelled), model.LabelledImages);
        Assert.Equal(data.IndicesOf(DataSplit.Labelled), model.LabelledMasks);
        var report = model.Report(data.Images, data, DataSplit.Test);
        Assert.Equal((8, 8), (report.Classification!.Images, report.Segmentation!.Images));
    }

    [Fact]
    public void Unsuitable_data_are_named_errors()
    {
        var lesions = ImageFolder.LoadSegmentation(Path.Combine(Medssl.RepoRoot, "data-samples", "lesions"), ["skin", "lesion"]);
        var e = Assert.Throws<ArgumentException>(() => Train(lesions.Images, lesions, Tiny()));
        var first = lesions.IndicesOf(DataSplit.Labelled).First(i => Enumerable.Range(0, 4).Count(l => lesions.Images.HasLabel(i, l)) != 1);
        Assert.StartsWith($"labelled image {first} ({lesions.Images.ExamId(first)}) does not have exactly one label: MultiMix's classifier is single-label", e.Message);

        var (classification, segmentation) = (Classification(), Segmentation());
        var threeClasses = new SegmentationDataset(segmentation.Images, new byte[segmentation.Count * 256], ["background", "left lung", "right lung"]);
        e = Assert.Throws<ArgumentException>(() => Train(classification, threeClasses, Tiny()));
        Assert.StartsWith("MultiMix segments one structure against the background: the masks have 3 classes (background, left lung, right lung); merge them into two", e.Message);

        var larger = SyntheticChestXray.Make(new ChestXraySizes(20, 4, 4, 2), seed: 1).Segmentation.ToDataset(_ => DataSplit.Labelled);
        e = Assert.Throws<ArgumentException>(() => Train(classification, larger, Tiny()));
        Assert.StartsWith("the classification images are 1×16×16, the segmentation images 1×20×20: one network takes both", e.Message);
        e = Assert.Throws<ArgumentException>(() => Train(larger.Images, larger, Tiny() with { Widths = [4, 8, 16, 32] }));
        Assert.StartsWith("the images are 20×20: an encoder of 4 blocks takes sides divisible by 8", e.Message);

        e = Assert.Throws<ArgumentException>(() => Train(classification, Xrays.Segmentation.ToDataset(_ => DataSplit.Unlabelled), Tiny()));
        Assert.StartsWith("MultiMix segments: the segmentation data need masked images in the labelled split (none)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Train(Xrays.Classification.ToDataset(_ => DataSplit.Unlabelled).Images, segmentation, Tiny(MultiMixModel.Enc)));
        Assert.StartsWith("Enc classifies: the classification data need images in the labelled split (none)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Train(classification, segmentation, Tiny() with { Steps = 0 }));
    }
}

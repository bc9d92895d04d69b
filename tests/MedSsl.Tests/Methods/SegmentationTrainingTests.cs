using MedSsl.Data;
using MedSsl.Data.Loaders;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
using MedSsl.Tests.Support;
using MedSsl.Training;
using static TorchSharp.torch;

namespace MedSsl.Tests.Methods;

/// <summary>The one-call segmentation API on a tiny lesion set (a few steps): which images train with and without their
/// masks, what each method leaves, the report against per-image Dice and IoU computed by hand from <c>Predict</c>, and
/// the named errors.</summary>
public class SegmentationTrainingTests
{
    private static readonly SegmentationDataset Lesions = SyntheticSkinLesions.Make(20, seed: 5, imageSize: 16);

    private static SegmentationTrainingOptions Tiny(SegmentationMethod method) => new()
    {
        Method = method, Steps = 3, SupervisedBatch = 4, LabelledBatch = 2, UnlabelledBatch = 2, UNetWidths = [4, 8], SwinWidth = 8, SwinHeads = [2, 2],
        Picie = new PicieOptions { Rounds = 1, StepsPerRound = 2, BatchSize = 4 }, Seed = 7,
    };

    private static TrainedSegmenter Train(SegmentationDataset data, SegmentationTrainingOptions options)
    {
        using var trainer = new Trainer { Progress = new SilentProgress() };
        return SegmentationTraining.Train(data, options, trainer);
    }

    /// <summary>A masked folder as a user has one: no splits, two images per patient, every fifth image without a mask.</summary>
    private static SegmentationDataset Unsplit()
    {
        var source = SyntheticSkinLesions.Make(60, seed: 6, imageSize: 16);
        var images = source.Images;
        int n = images.Count, plane = images.Height * images.Width;
        var pixels = new float[n * images.ImageSize];
        var masks = new byte[n * plane];
        for (var i = 0; i < n; i++)
        {
            images.Image(i).CopyTo(pixels.AsSpan(i * images.ImageSize, images.ImageSize));
            source.Mask(i).CopyTo(masks.AsSpan(i * plane, plane));
        }
        var unsplit = new ImageDataset(images.Channels, images.Height, images.Width, [], pixels, [],
            [.. Enumerable.Range(0, n).Select(i => $"e{i}")], [.. Enumerable.Range(0, n).Select(i => $"p{i / 2}")]);
        return new SegmentationDataset(unsplit, masks, source.ClassNames, [.. Enumerable.Range(0, n).Select(i => i % 5 != 4)]);
    }

    [Fact]
    public void A_masked_folder_is_split_by_patient_with_the_test_patients_the_same_for_every_seed()
    {
        var data = Unsplit();
        var a = FewLabels.Split(data, seed: 1);
        var b = FewLabels.Split(data, seed: 2);
        var patients = Enumerable.Range(0, data.Count).GroupBy(i => i / 2).ToList();   // every patient here has an annotated image
        foreach (var split in new[] { a, b })
        {
            int Held(DataSplit s) => patients.Count(p => p.Any(i => split.Images.Split(i) == s));
            Assert.Equal(6, Held(DataSplit.Test));          // ⌊0.2 · 30⌋ patients
            Assert.Equal(3, Held(DataSplit.Validation));    // ⌊0.1 · 30⌋
            foreach (var p in patients)
            {
                var sides = p.Select(split.Images.Split).Distinct().ToHashSet();
                Assert.True(sides.IsSubsetOf([DataSplit.Labelled, DataSplit.Unlabelled]) || sides.IsSubsetOf([DataSplit.Test, DataSplit.Unassigned])
                    || sides.IsSubsetOf([DataSplit.Validation, DataSplit.Unassigned]), $"patient {p.Key}: {string.Join(", ", sides)}");
            }
            for (var i = 0; i < data.Count; i++)
                if (split.Images.Split(i) is DataSplit.Labelled or DataSplit.Test or DataSplit.Validation) Assert.True(data.IsAnnotated(i));
                else if (split.Images.Split(i) == DataSplit.Unlabelled) Assert.False(data.IsAnnotated(i));
            Assert.Equal(data.PixelCounts(), split.PixelCounts());   // the masks come along
        }
        Assert.Equal(a.IndicesOf(DataSplit.Test), b.IndicesOf(DataSplit.Test));
        Assert.NotEqual(a.IndicesOf(DataSplit.Validation), b.IndicesOf(DataSplit.Validation));
        // What the split leaves is what the one-call API trains on.
        var (labelled, _) = SegmentationTraining.Split(a, Tiny(SegmentationMethod.CrossTeaching) with { LabelledFraction = 0.5 });
        Assert.Equal((int)Math.Ceiling(0.5 * a.IndicesOf(DataSplit.Labelled).Length), labelled.Length);
    }

    [Fact]
    public void A_masked_folder_split_names_what_is_wrong()
    {
        var data = Unsplit();
        Assert.Contains("leave images to train on", Assert.Throws<ArgumentOutOfRangeException>(() => FewLabels.Split(data, 1, validationFraction: 0.5, testFraction: 0.5)).Message);
        var none = new SegmentationDataset(data.Images, new byte[data.Count * data.Height * data.Width], data.ClassNames, new bool[data.Count]);
        Assert.Contains("no image has a mask", Assert.Throws<ArgumentException>(() => FewLabels.Split(none, 1)).Message);
    }

    [Fact]
    public void A_labelled_fraction_keeps_a_seeded_share_of_the_labelled_split_and_leaves_the_rest_unlabelled()
    {
        var training = Lesions.IndicesOf(DataSplit.Labelled);
        var (labelled, unlabelled) = SegmentationTraining.Split(Lesions, Tiny(SegmentationMethod.CrossTeaching) with { LabelledFraction = 0.3 });
        Assert.Equal((int)Math.Ceiling(0.3 * training.Length), labelled.Length);
        Assert.Equal(training.Order(), labelled.Concat(unlabelled).Order());
        Assert.Equal(unlabelled.Order(), unlabelled);
        // A larger fraction holds the smaller one's images.
        var (more, _) = SegmentationTraining.Split(Lesions, Tiny(SegmentationMethod.CrossTeaching) with { LabelledFraction = 0.6 });
        Assert.Subset(more.ToHashSet(), labelled.ToHashSet());
        var (all, none) = SegmentationTraining.Split(Lesions, Tiny(SegmentationMethod.CrossTeaching));
        Assert.Equal(training, all);
        Assert.Empty(none);
    }

    [Fact]
    public void A_folders_unannotated_images_are_cross_teachings_unlabelled_images()
    {
        // Two training images lose their masks and their split: loaded back they are unlabelled, and cross-teaching
        // draws its unlabelled batches from exactly them.
        var training = Lesions.IndicesOf(DataSplit.Labelled);
        var dropped = training[..2];
        var masks = Enumerable.Range(0, Lesions.Count).SelectMany(i => Lesions.Mask(i).ToArray()).ToArray();
        var splits = Enumerable.Range(0, Lesions.Count).Select(i => dropped.Contains(i) ? DataSplit.Unassigned : Lesions.Images.Split(i)).ToArray();
        var images = FewLabels.WithSplits(Lesions.Images, splits);
        var dir = Path.Combine(Path.GetTempPath(), "medssl-segmentation-tests", Guid.NewGuid().ToString("N"));
        ImageFolder.Write(new SegmentationDataset(images, masks, SyntheticSkinLesions.ClassNames, [.. Enumerable.Range(0, Lesions.Count).Select(i => !dropped.Contains(i))]), dir);
        var loaded = ImageFolder.LoadSegmentation(dir);

        using var segmenter = Train(loaded, Tiny(SegmentationMethod.CrossTeaching));
        Assert.Equal(dropped, segmenter.UnlabelledImages);
        Assert.Equal(training[2..], segmenter.LabelledImages);
    }

    [Fact]
    public void Cross_teaching_reports_per_class_dice_and_iou_equal_to_a_hand_computation_from_predict()
    {
        using var segmenter = Train(Lesions, Tiny(SegmentationMethod.CrossTeaching) with { LabelledFraction = 0.5 });
        Assert.Equal([SegmentationNetwork.UNet, SegmentationNetwork.SwinUNet], segmenter.Networks.Order());
        Assert.Equal(3, segmenter.History.Count);
        Assert.Equal(7, segmenter.LabelledImages.Count);
        var test = Lesions.IndicesOf(DataSplit.Test);
        foreach (var network in segmenter.Networks)
        {
            using var images = Lesions.ImageBatch(test);
            using var probabilities = segmenter.Probabilities(images, network);
            Assert.Equal(new long[] { test.Length, 2, 16, 16 }, probabilities.shape);
            using var predicted = segmenter.Predict(images, network);
            var labels = predicted.data<long>().ToArray();
            var report = segmenter.Report(Lesions, DataSplit.Test, network);
            Assert.Equal(("test", test.Length), (report.Split, report.Images));
            Assert.Equal(SyntheticSkinLesions.ClassNames, report.Classes.Select(c => c.Name));
            for (var k = 0; k < 2; k++)
            {
                var (dice, iou) = HandOverlap(test.Select((i, n) => (labels[(n * 256)..((n + 1) * 256)], Lesions.Mask(i).ToArray())).ToArray(), k);
                Assert.Equal(dice, report.Classes[k].Dice, 12);
                Assert.Equal(iou, report.Classes[k].Iou, 12);
            }
            Assert.Equal(report.Classes[1].Dice, report.MeanDice);
        }
    }

    /// <summary>Mean over images of 2|P∩R| / (|P| + |R|) and |P∩R| / |P∪R| for class k, 1 where the class is in neither.</summary>
    private static (double Dice, double Iou) HandOverlap((long[] Predicted, byte[] Reference)[] images, int k)
    {
        double dice = 0, iou = 0;
        foreach (var (p, r) in images)
        {
            int both = 0, inP = 0, inR = 0;
            for (var j = 0; j < p.Length; j++)
            {
                if (p[j] == k) inP++;
                if (r[j] == k) inR++;
                if (p[j] == k && r[j] == k) both++;
            }
            dice += inP + inR == 0 ? 1 : 2.0 * both / (inP + inR);
            iou += inP + inR - both == 0 ? 1 : (double)both / (inP + inR - both);
        }
        return (dice / images.Length, iou / images.Length);
    }

    [Fact]
    public void Supervised_training_starts_from_the_seeds_network_and_trains_only_it()
    {
        using var segmenter = Train(Lesions, Tiny(SegmentationMethod.SupervisedSwinUNet));
        Assert.Equal([SegmentationNetwork.SwinUNet], segmenter.Networks);
        Assert.All(segmenter.History, s => Assert.Equal("Swin-UNet", s.Phase));
        using var images = Lesions.ImageBatch([0]);
        var e = Assert.Throws<ArgumentException>(() => segmenter.Probabilities(images, SegmentationNetwork.UNet));
        Assert.StartsWith("SupervisedSwinUNet trained no UNet (it trained SwinUNet)", e.Message);
    }

    [Fact]
    public void Picie_trains_on_every_training_image_and_predicts_one_hot_matched_classes()
    {
        using var segmenter = Train(Lesions, Tiny(SegmentationMethod.Picie));
        Assert.Empty(segmenter.LabelledImages);
        Assert.Equal(Lesions.IndicesOf(DataSplit.Labelled), segmenter.UnlabelledImages);
        Assert.Equal(2, segmenter.ClusterClasses!.Count);
        Assert.Equal([0, 1], segmenter.ClusterClasses.Order());   // two clusters matched one-to-one to two classes
        using var images = Lesions.ImageBatch(Lesions.IndicesOf(DataSplit.Test));
        using var probabilities = segmenter.Probabilities(images);
        using var sums = probabilities.sum(1);
        Assert.True(sums.eq(1).all().item<bool>());
        Assert.True(probabilities.eq(0).logical_or(probabilities.eq(1)).all().item<bool>());
    }

    [Fact]
    public void Unsuitable_data_are_named_errors()
    {
        var noTraining = Lesions.Subset([.. Lesions.IndicesOf(DataSplit.Test), .. Lesions.IndicesOf(DataSplit.Validation)]);
        var e = Assert.Throws<ArgumentException>(() => Train(noTraining, Tiny(SegmentationMethod.SupervisedUNet)));
        Assert.StartsWith("segmentation needs annotated images in the labelled split (none)", e.Message);

        var noValidation = Lesions.Subset(Lesions.IndicesOf(DataSplit.Labelled));
        e = Assert.Throws<ArgumentException>(() => Train(noValidation, Tiny(SegmentationMethod.Picie)));
        Assert.StartsWith("PiCIE matches its clusters to classes on the validation images' masks: the validation split is empty", e.Message);

        var odd = SyntheticSkinLesions.Make(4, imageSize: 18);
        e = Assert.Throws<ArgumentException>(() => Train(odd, Tiny(SegmentationMethod.SupervisedUNet) with { UNetWidths = [4, 8, 16] }));
        Assert.StartsWith("the images are 18×18: a 3-level U-Net takes sides divisible by 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => Train(odd, Tiny(SegmentationMethod.CrossTeaching)));
        Assert.StartsWith("the images are 18×18: the Swin-UNet takes sides whose 9×9 token grid", e.Message);

        e = Assert.Throws<ArgumentOutOfRangeException>(() => Train(Lesions, Tiny(SegmentationMethod.CrossTeaching) with { LabelledFraction = 0 }));
        Assert.StartsWith("a labelled fraction lies in (0, 1]", e.Message);
    }
}

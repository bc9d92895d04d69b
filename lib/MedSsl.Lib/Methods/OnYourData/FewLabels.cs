using MedSsl.Data;

namespace MedSsl.Methods.OnYourData;

/// <summary>Splits a labelled dataset the way a semi-supervised experiment uses it: a few labelled images per class,
/// a small validation set (settings and thresholds are chosen on it, never on test), a test set, and the rest
/// unlabelled (its labels are kept in the dataset for scoring, never shown to a method).</summary>
public static class FewLabels
{
    /// <summary>Stream of the test draw: fixed, so every seed of one dataset is tested on the same images.</summary>
    private const int TestSeed = 0;

    /// <summary>A copy of <paramref name="data"/> with its splits drawn per class: <paramref name="labelsPerClass"/> labelled
    /// and <paramref name="validationPerClass"/> validation patients of each class, drawn with <paramref name="seed"/>; the
    /// test images are the dataset's own <see cref="DataSplit.Test"/> items when it has any, else
    /// <paramref name="testFraction"/> of each class's patients drawn once (the same for every seed); everything else is
    /// unlabelled. A patient's images always go to one split together, so no patient is on both sides of a comparison
    /// (with one image per patient, as in most folders, a patient is an image and the counts count images). A patient's
    /// class is its first image's label set (for single-label data, its class). A class with too few patients for its
    /// labelled and validation share gets what it has, labelled first — its column stays in the dataset, so a method's
    /// head keeps an output for it. With the dataset's own test split, its test images stay test whatever their
    /// patient's other images are: the manifest's split is the user's decision.</summary>
    public static ImageDataset Split(ImageDataset data, int labelsPerClass, int seed, int validationPerClass = 5, double testFraction = 0.25)
    {
        if (labelsPerClass < 1) throw new ArgumentOutOfRangeException(nameof(labelsPerClass), labelsPerClass, "at least one labelled image per class");
        if (validationPerClass < 0) throw new ArgumentOutOfRangeException(nameof(validationPerClass), validationPerClass, "cannot be negative");
        if (testFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "the test fraction must be in [0, 1)");
        var strata = LabelCombinations.Of(data).Assignments;
        var splits = new DataSplit[data.Count];
        var ownTest = Enumerable.Range(0, data.Count).Any(i => data.Split(i) == DataSplit.Test);
        var testDraw = new SeededRandom(TestSeed, RandomStreams.Data);
        var draw = new SeededRandom(seed, RandomStreams.Data);
        // Each patient's images, patients in the order of their first image.
        var patients = Enumerable.Range(0, data.Count).GroupBy(data.PatientId).Select(g => g.ToArray()).ToArray();
        foreach (var group in patients.GroupBy(p => strata[p[0]]).OrderBy(g => g.Key))
        {
            var members = group.ToArray();
            if (ownTest)
                foreach (var i in members.SelectMany(p => p).Where(i => data.Split(i) == DataSplit.Test)) splits[i] = DataSplit.Test;
            else
            {
                testDraw.Shuffle(members);
                foreach (var i in members.Take((int)Math.Floor(testFraction * members.Length)).SelectMany(p => p)) splits[i] = DataSplit.Test;
            }
            var rest = members.Select(p => p.Where(i => splits[i] != DataSplit.Test).ToArray()).Where(p => p.Length > 0).OrderBy(p => p[0]).ToArray();
            draw.Shuffle(rest);
            for (var k = 0; k < rest.Length; k++)
                foreach (var i in rest[k])
                    splits[i] = k < labelsPerClass ? DataSplit.Labelled : k < labelsPerClass + validationPerClass ? DataSplit.Validation : DataSplit.Unlabelled;
        }
        return WithSplits(data, splits);
    }

    /// <summary>A copy of a masked folder's <paramref name="data"/> with its splits drawn by patient, as Singh et al. 2024
    /// split theirs (§Segmentation: 70 / 10 / 20): of the patients with annotated images, <paramref name="testFraction"/>
    /// go to test (drawn once: the same for every seed) and <paramref name="validationFraction"/> to validation (drawn with
    /// <paramref name="seed"/>); the rest are labelled, and <see cref="SegmentationTrainingOptions.LabelledFraction"/> then
    /// keeps the masks of a few. Images without a mask are unlabelled — except those of validation and test patients,
    /// which are left out (unassigned, so no method sees them), so that no patient is on both sides.</summary>
    public static SegmentationDataset Split(SegmentationDataset data, int seed, double validationFraction = 0.1, double testFraction = 0.2)
    {
        if (validationFraction < 0 || testFraction < 0 || validationFraction + testFraction >= 1)
            throw new ArgumentOutOfRangeException(nameof(validationFraction), $"validation ({validationFraction}) and test ({testFraction}) fractions must be ≥ 0 and leave images to train on");
        var patients = Enumerable.Range(0, data.Count).GroupBy(data.Images.PatientId).Select(g => g.ToArray()).ToArray();
        var annotated = patients.Where(p => p.Any(data.IsAnnotated)).ToArray();
        if (annotated.Length == 0) throw new ArgumentException("no image has a mask: a segmentation split needs annotated images", nameof(data));
        new SeededRandom(TestSeed, RandomStreams.Data).Shuffle(annotated);
        var test = annotated.Take((int)Math.Floor(testFraction * annotated.Length)).ToArray();
        var rest = annotated.Skip(test.Length).ToArray();
        new SeededRandom(seed, RandomStreams.Data).Shuffle(rest);
        var validation = rest.Take((int)Math.Floor(validationFraction * annotated.Length)).ToArray();
        var splits = Enumerable.Range(0, data.Count).Select(i => data.IsAnnotated(i) ? DataSplit.Labelled : DataSplit.Unlabelled).ToArray();
        foreach (var (held, split) in new[] { (test, DataSplit.Test), (validation, DataSplit.Validation) })
            foreach (var i in held.SelectMany(p => p))
                splits[i] = data.IsAnnotated(i) ? split : DataSplit.Unassigned;
        return data.WithImages(WithSplits(data.Images, splits));
    }

    /// <summary>The dataset with its items' splits replaced (pixels and labels shared by copy).</summary>
    public static ImageDataset WithSplits(ImageDataset data, DataSplit[] splits)
    {
        var pixels = new float[data.Count * data.ImageSize];
        for (var i = 0; i < data.Count; i++) data.Image(i).CopyTo(pixels.AsSpan(i * data.ImageSize, data.ImageSize));
        var labels = new bool[data.Count * data.LabelNames.Count];
        for (var i = 0; i < data.Count; i++)
            for (var l = 0; l < data.LabelNames.Count; l++) labels[i * data.LabelNames.Count + l] = data.HasLabel(i, l);
        return new ImageDataset(data.Channels, data.Height, data.Width, data.LabelNames, pixels, labels,
            [.. Enumerable.Range(0, data.Count).Select(data.ExamId)], [.. Enumerable.Range(0, data.Count).Select(data.PatientId)], splits);
    }
}

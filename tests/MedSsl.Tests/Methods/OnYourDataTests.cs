using System.Diagnostics;
using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Data.Loaders;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
using MedSsl.Models;
using MedSsl.Tests.Support;
using MedSsl.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MedSsl.Tests.Methods;

/// <summary>The methods-on-your-data API: the digits loader against scikit-learn, the few-labels split, the shapes and
/// heads of a trained model (a class without a labelled image keeps its output), plain FixMatch's loss, and that
/// FixMatch and PICA learn on the real digits (means over seeds, not one lucky seed).</summary>
public sealed class OnYourDataTests(ITestOutputHelper output)
{
    [Fact]
    public void The_digits_equal_sklearns_load_digits()
    {
        var digits = Digits.Load();
        var reference = PyTorchReference.Run("""
            from sklearn.datasets import load_digits
            d = load_digits()
            emit({"data": d.data.ravel().tolist(), "target": d.target.tolist(), "shape": list(d.images.shape)})
            """);
        var shape = reference.GetProperty("shape").Doubles();
        Assert.Equal([1797, 8, 8], shape);
        Assert.Equal((1797, 1, 8, 8), (digits.Count, digits.Channels, digits.Height, digits.Width));
        Assert.Equal(Enumerable.Range(0, 10).Select(c => c.ToString()), digits.LabelNames);
        var data = reference.GetProperty("data").Doubles();
        var pixels = Enumerable.Range(0, digits.Count).SelectMany(i => digits.Image(i).ToArray()).ToArray();
        Assert.Equal(data.Length, pixels.Length);
        for (var k = 0; k < data.Length; k++) Assert.Equal(data[k], pixels[k] * 16.0, 6);
        Assert.Equal(reference.GetProperty("target").Doubles().Select(t => (int)t), digits.ClassIndices());
    }

    [Fact]
    public void The_digits_written_as_a_folder_load_back_as_the_same_images()
    {
        var folder = Path.Combine(Directory.CreateTempSubdirectory("medssl-digits-").FullName, "digits");
        try
        {
            var loaded = ImageFolder.Load(Digits.WriteImageFolder(folder));
            var digits = Digits.Load();
            Assert.Equal(digits.ClassIndices(), loaded.ClassIndices());
            Assert.Equal(digits.LabelNames, loaded.LabelNames);
            // 8-bit PNG: each count 0–16 comes back within half a grey level.
            for (var i = 0; i < digits.Count; i += 97)
                for (var p = 0; p < 64; p++) Assert.InRange(loaded.Image(i)[p] - digits.Image(i)[p], -0.5 / 255 - 1e-6, 0.5 / 255 + 1e-6);
        }
        finally { Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true); }
    }

    [Fact]
    public void A_malformed_digits_file_is_a_named_error()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, string.Join(',', Enumerable.Repeat("0", 64)) + ",12\n");
            var e = Assert.Throws<DataFormatException>(() => Digits.Load(file));
            Assert.Contains("column 65", e.Message);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void The_few_labels_split_draws_per_class_and_keeps_the_test_images_across_seeds()
    {
        var digits = Digits.Load();
        var a = FewLabels.Split(digits, labelsPerClass: 3, seed: 1, validationPerClass: 2, testFraction: 0.2);
        var b = FewLabels.Split(digits, labelsPerClass: 3, seed: 2, validationPerClass: 2, testFraction: 0.2);
        var classes = digits.ClassIndices();
        foreach (var split in new[] { a, b })
        {
            for (var c = 0; c < 10; c++)
            {
                var members = Enumerable.Range(0, digits.Count).Where(i => classes[i] == c).ToArray();
                Assert.Equal(3, members.Count(i => split.Split(i) == DataSplit.Labelled));
                Assert.Equal(2, members.Count(i => split.Split(i) == DataSplit.Validation));
                Assert.Equal((int)Math.Floor(0.2 * members.Length), members.Count(i => split.Split(i) == DataSplit.Test));
            }
            Assert.DoesNotContain(Enumerable.Range(0, digits.Count), i => split.Split(i) == DataSplit.Unassigned);
        }
        Assert.Equal(a.IndicesOf(DataSplit.Test), b.IndicesOf(DataSplit.Test));
        Assert.NotEqual(a.IndicesOf(DataSplit.Labelled), b.IndicesOf(DataSplit.Labelled));
    }

    [Fact]
    public void The_few_labels_split_keeps_each_patients_images_in_one_split_and_counts_patients_per_class()
    {
        // The digits, three consecutive images per patient: a patient's class is its first image's.
        var digits = Digits.Load();
        var n = digits.Count;
        var pixels = new float[n * digits.ImageSize];
        for (var i = 0; i < n; i++) digits.Image(i).CopyTo(pixels.AsSpan(i * digits.ImageSize, digits.ImageSize));
        var labels = new bool[n * digits.LabelNames.Count];
        for (var i = 0; i < n; i++) for (var l = 0; l < digits.LabelNames.Count; l++) labels[i * digits.LabelNames.Count + l] = digits.HasLabel(i, l);
        var grouped = new ImageDataset(digits.Channels, digits.Height, digits.Width, digits.LabelNames, pixels, labels,
            [.. Enumerable.Range(0, n).Select(i => $"e{i}")], [.. Enumerable.Range(0, n).Select(i => $"p{i / 3}")]);

        var split = FewLabels.Split(grouped, labelsPerClass: 2, seed: 5, validationPerClass: 1, testFraction: 0.25);
        var classes = digits.ClassIndices();
        var patients = Enumerable.Range(0, n).GroupBy(i => i / 3).ToList();
        Assert.All(patients, p => Assert.Single(p.Select(split.Split).Distinct()));
        foreach (var byClass in patients.GroupBy(p => classes[p.First()]))
        {
            int Patients(DataSplit s) => byClass.Count(p => split.Split(p.First()) == s);
            Assert.Equal(2, Patients(DataSplit.Labelled));
            Assert.Equal(1, Patients(DataSplit.Validation));
            Assert.Equal((int)Math.Floor(0.25 * byClass.Count()), Patients(DataSplit.Test));
        }
    }

    /// <summary>Three classes; class "c" has images but none labelled.</summary>
    private static ImageDataset Tiny(bool multiLabel = false)
    {
        const int n = 48;
        var rng = new SeededRandom(3);
        var pixels = new float[n * 8 * 8];
        var labels = new bool[n * 3];
        var splits = new DataSplit[n];
        for (var i = 0; i < n; i++)
        {
            var c = i % 3;
            for (var p = 0; p < 64; p++) pixels[i * 64 + p] = (float)Math.Clamp(0.3 * c + 0.2 * rng.NextDouble() + (p % 8 < 3 * c ? 0.2 : 0), 0, 1);
            labels[i * 3 + c] = true;
            if (multiLabel && c == 1 && i % 2 == 0) labels[i * 3] = true;
            splits[i] = i < 12 ? (c == 2 ? DataSplit.Unlabelled : DataSplit.Labelled) : i < 18 ? DataSplit.Validation : i < 30 ? DataSplit.Test : DataSplit.Unlabelled;
        }
        var ids = Enumerable.Range(0, n).Select(i => $"x{i}").ToArray();
        return new ImageDataset(1, 8, 8, ["a", "b", "c"], pixels, labels, ids, ids, splits);
    }

    private static FixMatchTrainingOptions TinyOptions => new()
    {
        Steps = 6, LabelledPerBatch = 4, Mu = 2, Widths = [4, 8], Weak = new WeakAugment { FlipProbability = 0 }, Strong = new RandAugment { CutoutFraction = 0.25 }, Seed = 5,
    };

    [Fact]
    public void A_single_label_model_keeps_an_output_for_a_class_without_labelled_images()
    {
        var data = Tiny();
        using var trainer = new Trainer { Progress = new SilentProgress() };
        using var model = FixMatchClassifier.Train(data, TinyOptions, trainer);
        Assert.True(model.SingleLabel);
        Assert.Equal(FixMatchHead.SingleLabel, model.Method.Options.Head);
        Assert.False(model.Method.Network.HasCombinationHead);
        var test = data.Where(DataSplit.Test);
        var p = model.Probabilities(test);
        Assert.Equal((test.Count, 3), (p.GetLength(0), p.GetLength(1)));
        for (var i = 0; i < test.Count; i++) Assert.Equal(1.0, Enumerable.Range(0, 3).Sum(j => p[i, j]), 5);
        Assert.Equal(test.Count, model.PredictClasses(test).Length);
        var embeddings = model.Embeddings(test);
        Assert.Equal((test.Count, 8), (embeddings.GetLength(0), embeddings.GetLength(1)));
        var report = model.Report(data, DataSplit.Test);
        Assert.Equal(["a", "b", "c"], report.Classes.Select(c => c.Name));
        Assert.Equal(4, report.Classes[2].Support);
        Assert.Equal(6, model.History.Count);
        Assert.Equal(6, model.MaskRates.Count);
        Assert.Equal(5, report.Table.Rows.Count);
    }

    [Fact]
    public void A_multi_label_two_head_model_sizes_its_softmax_head_with_every_single_class()
    {
        var data = Tiny(multiLabel: true);
        using var trainer = new Trainer { Progress = new SilentProgress() };
        using var model = FixMatchClassifier.Train(data, TinyOptions, trainer);
        Assert.False(model.SingleLabel);
        Assert.Equal(FixMatchHead.Two, model.Method.Options.Head);
        // Labelled combinations: {a}, {b}, {a,b}; {c} has no labelled image but keeps an output.
        Assert.Equal(4, model.Method.Network.Combinations);
        var p = model.Probabilities(data.Where(DataSplit.Test));
        Assert.Equal(3, p.GetLength(1));
        Assert.Equal(3, model.Thresholds.Count);
        using var oneHead = FixMatchClassifier.Train(data, TinyOptions with { Head = FixMatchHead.One }, trainer);
        Assert.False(oneHead.Method.Network.HasCombinationHead);
        Assert.Equal(3, oneHead.Report(data, DataSplit.Test).Classes.Count);
    }

    [Fact]
    public void The_single_label_head_refuses_multi_label_images()
    {
        using var trainer = new Trainer { Progress = new SilentProgress() };
        var e = Assert.Throws<ArgumentException>(() => FixMatchClassifier.Train(Tiny(multiLabel: true), TinyOptions with { Head = FixMatchHead.SingleLabel }, trainer));
        Assert.Contains("exactly one label", e.Message);
    }

    /// <summary>One step of plain FixMatch at learning rate 0 reports the losses of Sohn et al. (2020, eq. 2 and 4) computed
    /// by hand from the network's own logits on the same batch: CE of the labelled images against their class, and
    /// (1/μB) Σ 1[max softmax(weak) ≥ τ]·CE(strong, argmax softmax(weak)).</summary>
    [Fact]
    public void Plain_fixmatch_reports_the_papers_losses_on_its_own_logits()
    {
        torch.manual_seed(11);
        var options = new FixMatchOptions { Head = FixMatchHead.SingleLabel, LearningRate = 0, Threshold = 0.4, Steps = 1, EmaDecay = 0 };
        using var method = new FixMatchMultiLabel(() => { torch.manual_seed(11); return new MultiLabelClassifier(new ResNet(1, [4, 8]), 3); }, null, options);
        using var scope = torch.NewDisposeScope();
        var labelled = torch.rand(4, 1, 8, 8);
        var labels = torch.tensor(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0 }, 4, 3);
        var weak = torch.rand(6, 1, 8, 8);
        var strong = torch.rand(6, 1, 8, 8);
        // Batch norm in training mode: the same concatenated batch gives the same logits as in the step.
        using var logits = method.Network.call(torch.cat([labelled, weak, strong])).detach();
        var terms = method.TrainStep(new SemiSupervisedBatch(labelled, labels, weak, strong));
        var l = logits.to(ScalarType.Float64).data<double>().ToArray();
        double[] Row(int i) => l[(i * 3)..(i * 3 + 3)];
        static double[] Softmax(double[] z) { var e = z.Select(v => Math.Exp(v - z.Max())).ToArray(); return [.. e.Select(v => v / e.Sum())]; }
        static double CrossEntropy(double[] z, int target) => -Math.Log(Softmax(z)[target]);
        int[] classes = [0, 1, 2, 1];
        var expectedLabelled = Enumerable.Range(0, 4).Average(i => CrossEntropy(Row(i), classes[i]));
        double unlabelledSum = 0, passed = 0;
        for (var i = 0; i < 6; i++)
        {
            var p = Softmax(Row(4 + i));
            if (p.Max() < 0.4) continue;
            passed++;
            unlabelledSum += CrossEntropy(Row(10 + i), Array.IndexOf(p, p.Max()));
        }
        Assert.Equal(expectedLabelled, terms["labelled"], 4);
        Assert.Equal(unlabelledSum / 6, terms["unlabelled"], 4);
        Assert.Equal(passed / 6, terms["mask_rate"], 6);
        Assert.Equal(expectedLabelled + unlabelledSum / 6, terms["total"], 4);
    }

    /// <summary>FixMatch with 4 labels per digit and PICA without labels both learn the real digits: the mean test
    /// accuracy (FixMatch, 150 steps) and clustering accuracy (PICA + L_SD, 10 epochs) over 3 seeds are well above
    /// chance (10 %: 5× for FixMatch, 2.5× for PICA), and every seed is above 1.5–2× chance. Sized to run in seconds.</summary>
    [Fact]
    public void FixMatch_and_PICA_learn_the_real_digits()
    {
        var digits = Digits.Load();
        var fixmatch = new List<double>();
        var pica = new List<double>();
        var watch = Stopwatch.StartNew();
        foreach (var seed in new[] { 1000, 1001, 1002 })
        {
            var data = FewLabels.Split(digits, labelsPerClass: 4, seed: seed);
            using var trainer = new Trainer { Progress = new SilentProgress() };
            using (var model = FixMatchClassifier.Train(data, Presets.FixMatch(seed, steps: 150), trainer))
                fixmatch.Add(model.Report(data, DataSplit.Test).Accuracy);
            using var clustering = PicaClustering.Train(data, Presets.Pica(10, seed, epochs: 10), Presets.Widths, trainer);
            pica.Add(clustering.Report(data, DataSplit.Test).Accuracy);
        }
        output.WriteLine($"FixMatch {string.Join(", ", fixmatch.Select(a => a.ToString("F3")))}; PICA {string.Join(", ", pica.Select(a => a.ToString("F3")))}; {watch.Elapsed.TotalSeconds:F1} s");
        Assert.All(fixmatch, a => Assert.True(a > 0.2, $"FixMatch test accuracy {a:F3}"));
        Assert.All(pica, a => Assert.True(a > 0.15, $"PICA clustering accuracy {a:F3}"));
        Assert.True(fixmatch.Average() > 0.5, $"mean FixMatch accuracy {fixmatch.Average():F3}");
        Assert.True(pica.Average() > 0.25, $"mean PICA clustering accuracy {pica.Average():F3}");
    }
}

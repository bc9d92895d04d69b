using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Data.Sampling;
using MedSsl.Methods;
using MedSsl.Models;
using MedSsl.Tests.Support;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Methods;

/// <summary>FixMatch for multi-label images (Dadoun et al. 2022, §2.3): the pseudo-label rules of both heads on hand values,
/// the losses against PyTorch, the EMA model after a step by hand, and a learning test over seeds. The validation-set
/// thresholds are checked against scikit-learn in MetricsTests (F1Thresholds).</summary>
public class FixMatchTests
{
    [Fact]
    public void OneHeadPseudoLabelsThresholdEachClassAtHalfAndNeedOneClassPastTau()
    {
        // Image 0: liver 0.97 passes τ = 0.95 → used; its label is (1, 0, 1) from the 0.5 cut.
        // Image 1: nothing passes τ (0.9 < 0.95) → masked out, although it has a positive at 0.5.
        // Image 2: every class confidently absent (0.01) → masked out: absence does not count as confidence.
        using var p = torch.tensor(new float[] { 0.97f, 0.2f, 0.5f, 0.9f, 0.49f, 0.1f, 0.01f, 0.01f, 0.01f }, 3, 3);
        Assert.Equal([1f, 0, 1, 1, 0, 0, 0, 0, 0], FixMatchMultiLabel.OneHeadPseudoLabels(p).data<float>().ToArray());
        Assert.Equal([1f, 0, 0], FixMatchMultiLabel.OneHeadMask(p, 0.95).data<float>().ToArray());
        Assert.Equal([1f, 1, 0], FixMatchMultiLabel.OneHeadMask(p, 0.9).data<float>().ToArray());
    }

    [Fact]
    public void TwoHeadPseudoLabelsAreTheConfidentCombinationAsOneHot()
    {
        // Labels (liver, gallbladder, other): combinations counted on four images, most frequent first.
        var data = Dataset([[true, false, false], [true, true, false], [true, false, false], [false, false, true]]);
        var combinations = LabelCombinations.Of(data);
        Assert.Equal(["liver", "liver+gallbladder", "other"], Enumerable.Range(0, combinations.K).Select(combinations.Name));
        using var labels = torch.tensor(new float[] { 0, 0, 1, 1, 1, 0, 1, 0, 0 }, 3, 3);
        using var w = FixMatchMultiLabel.CombinationIndices(labels, combinations);
        var names = w.data<long>().ToArray().Select(k => combinations.Name((int)k)).ToArray();
        Assert.Equal(["other", "liver+gallbladder", "liver"], names);
        using var oneHot = nn.functional.one_hot(w, combinations.K);
        Assert.Equal(Enumerable.Range(0, 3).Select(i => (long)combinations.K * i + w[i].ToInt64()), oneHot.view(-1).nonzero().view(-1).data<long>().ToArray());
        using var unknown = torch.tensor(new float[] { 0, 1, 0 }, 1, 3);   // gallbladder alone is not a combination here
        var error = Assert.Throws<ArgumentException>(() => FixMatchMultiLabel.CombinationIndices(unknown, combinations));
        Assert.Contains("label set 010", error.Message);

        // The single-label rule on the softmax head: argmax where max ≥ τ.
        using var logits = torch.tensor(new double[] { 5, 0, 0, 1, 1.2, 0.8 }, 2, 3);
        using var probabilities = nn.functional.softmax(logits, 1);
        Assert.Equal([1f, 0], PseudoLabels.ConfidenceMask(probabilities, 0.95).data<float>().ToArray());
        Assert.Equal([0L, 1], PseudoLabels.Hard(probabilities).data<long>().ToArray());
    }

    [Fact]
    public void LossesMatchPyTorchOnRandomLogits()
    {
        torch.manual_seed(5);
        // Scaled logits so that some images pass τ and some do not.
        using var weak = torch.randn(12, 5, ScalarType.Float64) * 4;
        using var strong = torch.randn(12, 5, ScalarType.Float64, requires_grad: true);
        using var weakMl = torch.randn(12, 4, ScalarType.Float64) * 4;
        using var strongMl = torch.randn(12, 4, ScalarType.Float64, requires_grad: true);
        using var labels = torch.randint(0, 2, [6, 4]).to(ScalarType.Float64);
        using var combination = torch.randint(0, 5, [6]);
        using var labelledMl = torch.randn(6, 4, ScalarType.Float64, requires_grad: true);
        using var labelledComb = torch.randn(6, 5, ScalarType.Float64, requires_grad: true);

        var (single, singleMask) = FixMatchMultiLabel.SingleLabelUnlabelledLoss(weak, strong, 0.9);
        single.backward();
        var (multi, multiMask) = FixMatchMultiLabel.MultiLabelUnlabelledLoss(weakMl, strongMl, 0.9);
        multi.backward();
        var twoHead = FixMatchMultiLabel.TwoHeadLabelledLoss(new HeadLogits(labelledMl, labelledComb), combination, labels);
        twoHead.backward();
        Assert.InRange(singleMask.sum().ToDouble(), 1, 11);
        Assert.InRange(multiMask.sum().ToDouble(), 1, 11);

        var folder = Directory.CreateTempSubdirectory("medssl-fixmatch-").FullName;
        var file = Path.Combine(folder, "inputs.safetensors");
        Safetensors.Save(file, [("weak", weak), ("strong", strong.detach()), ("weak_ml", weakMl), ("strong_ml", strongMl.detach()),
            ("labels", labels), ("combination", combination), ("labelled_ml", labelledMl.detach()), ("labelled_comb", labelledComb.detach())]);
        var reference = PyTorchReference.Run($$"""
            import torch.nn.functional as F
            t = load(r"{{file}}")
            strong = t["strong"].requires_grad_(); strong_ml = t["strong_ml"].requires_grad_()
            lml = t["labelled_ml"].requires_grad_(); lcomb = t["labelled_comb"].requires_grad_()
            # FixMatch (kekmodel train.py): mask = max softmax >= tau; mean over all muB of CE(strong, argmax) * mask
            p = torch.softmax(t["weak"], dim=1)
            conf, hard = p.max(dim=1)
            mask = conf.ge(0.9).double()
            single = (F.cross_entropy(strong, hard, reduction="none") * mask).mean()
            single.backward()
            # One-Head: sigmoid; pseudo-label 1[p >= 0.5]; used when some class passes tau; BCE over classes
            q = torch.sigmoid(t["weak_ml"])
            ml_mask = q.ge(0.9).any(dim=1).double()
            multi = (F.binary_cross_entropy_with_logits(strong_ml, q.ge(0.5).double(), reduction="none").mean(dim=1) * ml_mask).mean()
            multi.backward()
            # Two-Head labelled loss: H(w, p) on the combination head + BCE on the sigmoid head
            two = F.cross_entropy(lcomb, t["combination"]) + F.binary_cross_entropy_with_logits(lml, t["labels"])
            two.backward()
            emit({"single": single.item(), "multi": multi.item(), "two": two.item(),
                  "g_single": strong.grad.flatten().tolist(), "g_multi": strong_ml.grad.flatten().tolist(),
                  "g_lml": lml.grad.flatten().tolist(), "g_lcomb": lcomb.grad.flatten().tolist()})
            """);
        Directory.Delete(folder, true);
        Assert.Equal(reference.GetProperty("single").GetDouble(), single.ToDouble(), 10);
        Assert.Equal(reference.GetProperty("multi").GetDouble(), multi.ToDouble(), 10);
        Assert.Equal(reference.GetProperty("two").GetDouble(), twoHead.ToDouble(), 10);
        Expect.Close(reference.GetProperty("g_single").Doubles(), strong.grad!.flatten().data<double>().ToArray(), 1e-10);
        Expect.Close(reference.GetProperty("g_multi").Doubles(), strongMl.grad!.flatten().data<double>().ToArray(), 1e-10);
        Expect.Close(reference.GetProperty("g_lml").Doubles(), labelledMl.grad!.flatten().data<double>().ToArray(), 1e-10);
        Expect.Close(reference.GetProperty("g_lcomb").Doubles(), labelledComb.grad!.flatten().data<double>().ToArray(), 1e-10);
        Assert.Equal(1.5 + 0.5 * 3, FixMatchMultiLabel.Objective(torch.tensor(1.5), torch.tensor(3.0), 0.5).ToDouble(), 12);
    }

    [Fact]
    public void TheEvaluatedModelIsTheEmaOfTheTrainedWeights()
    {
        // After steps k = 1, 2 the EMA holds d·(d·θ0 + (1 − d)·θ1) + (1 − d)·θ2, where θk are the student's weights.
        var options = new FixMatchOptions { Head = FixMatchHead.One, EmaDecay = 0.9, Steps = 10 };
        using var method = new FixMatchMultiLabel(() => { torch.manual_seed(3); return new MultiLabelClassifier(Tiny(), 8, 3); }, null, options);
        var theta = new List<float[]> { HeadWeights(method.Network) };
        Assert.Equal(theta[0], HeadWeights(method.Ema));
        using var generator = new SeededRandom(1).TorchGenerator();
        for (var k = 0; k < 2; k++)
        {
            using var scope = torch.NewDisposeScope();
            var batch = new SemiSupervisedBatch(torch.rand(4, 1, 8, 8, generator: generator), torch.tensor(new float[] { 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0 }, 4, 3),
                torch.rand(6, 1, 8, 8, generator: generator), torch.rand(6, 1, 8, 8, generator: generator));
            var losses = method.TrainStep(batch);
            Assert.Equal(["total", "labelled", "unlabelled", "mask_rate"], losses.Keys);
            Assert.InRange(losses["mask_rate"], 0, 1);
            theta.Add(HeadWeights(method.Network));
        }
        var expected = theta[0].Select((t0, i) => 0.9 * (0.9 * t0 + 0.1 * theta[1][i]) + 0.1 * theta[2][i]).ToArray();
        Expect.Close(expected, HeadWeights(method.Ema).Select(v => (double)v).ToArray(), 1e-6);
        Assert.NotEqual(theta[0], theta[2]);
        // Batch norm statistics are copied, not averaged.
        var studentBuffers = method.Network.named_buffers().Where(b => b.buffer.dtype == ScalarType.Float32).ToDictionary(b => b.name, b => b.buffer.data<float>().ToArray());
        Assert.All(method.Ema.named_buffers().Where(b => b.buffer.dtype == ScalarType.Float32), b => Assert.Equal(studentBuffers[b.name], b.buffer.data<float>().ToArray()));
    }

    [Fact]
    public void SupervisedOnlyIgnoresUnlabelledImagesAndTwoHeadNeedsItsCombinations()
    {
        Assert.Equal(0.999, new FixMatchOptions().ForSteps(5000 * 1000).EmaDecay, 12);
        Assert.Equal(0.95, new FixMatchOptions().ForSteps(400).EmaDecay, 12);
        Assert.Equal(0.0, new FixMatchOptions().ForSteps(4).EmaDecay, 12);
        Assert.Equal(400, new FixMatchOptions().ForSteps(400).Steps);
        var supervised = new FixMatchOptions().SupervisedOnly();
        Assert.Equal(FixMatchHead.One, supervised.Head);
        Assert.False(supervised.UsesUnlabelled);
        using var method = new FixMatchMultiLabel(() => { torch.manual_seed(3); return new MultiLabelClassifier(Tiny(), 8, 3); }, null, supervised with { Steps = 5 });
        using var scope = torch.NewDisposeScope();
        var labels = torch.tensor(new float[] { 1, 0, 0, 0, 1, 1 }, 2, 3);
        var images = torch.rand(2, 1, 8, 8);
        var losses = method.TrainStep(new SemiSupervisedBatch(images, labels, torch.empty(0, 1, 8, 8), torch.empty(0, 1, 8, 8)));
        Assert.Equal(["total", "labelled"], losses.Keys);
        Assert.Equal(losses["total"], losses["labelled"], 12);

        var error = Assert.Throws<ArgumentException>(() => new FixMatchMultiLabel(() => new MultiLabelClassifier(Tiny(), 8, 3), null, new FixMatchOptions()));
        Assert.Contains("Two-Head model needs the label combinations", error.Message);
    }

    [Fact]
    public void FixMatchBeatsSupervisedOnlyOnAGaussianMixtureWithTwoLabelsPerCombination()
    {
        // An easy problem with few labels, the Gaussian model in which self-training provably helps (Carmon et al. 2019,
        // §3): two independent labels, each shifting its own coordinate of x ~ N(0, I_20) by ±2 (Bayes accuracy
        // Φ(2) = 0.977 per label). 2 labelled points per label combination (8 in all), 792 unlabelled, 800 test points.
        // With 8 points the supervised direction is spread over the 18 noise coordinates; pseudo-labels on the unlabelled
        // points average that out. Features are one shared linear layer (so the Two-Head combination head can shape
        // them), weak and strong views are jitter σ = 0.1 and σ = 1. Same initial weights and labelled batches for all
        // three models; accuracy = share of correct labels at p ≥ 0.5. Mean over 5 seeds must beat supervised by 0.02.
        const int d = 20, n = 1600;
        var accuracy = new Dictionary<string, List<double>> { ["supervised"] = [], ["one"] = [], ["two"] = [] };
        foreach (var seed in Enumerable.Range(100, 5))
        {
            var (data, combination) = GaussianLabels(n, d, shift: 2, seed);
            var labelled = LabelledPicker.PerClass(combination[..(n / 2)], 2, seed);
            var unlabelled = LabelledPicker.Rest(n / 2, labelled);
            var combinations = LabelCombinations.Of(data.Subset(labelled));
            foreach (var (name, options) in new (string, FixMatchOptions)[]
                     {
                         ("supervised", new FixMatchOptions().ForSteps(300).SupervisedOnly()),
                         ("one", new FixMatchOptions { Head = FixMatchHead.One }.ForSteps(300)),
                         ("two", new FixMatchOptions { Head = FixMatchHead.Two }.ForSteps(300)),
                     })
            {
                var k = options.Head == FixMatchHead.Two ? combinations.K : 0;
                using var method = new FixMatchMultiLabel(() =>
                {
                    torch.manual_seed(seed);
                    return new MultiLabelClassifier(nn.Sequential(nn.Flatten(), nn.Linear(d, 8)), 8, 2, k);
                }, k > 0 ? combinations : null, options);
                using var generator = new SeededRandom(seed).TorchGenerator();
                using var trainer = new Trainer { Progress = new SilentProgress() };
                trainer.Run(method, Batches.SemiSupervised(data.Subset(labelled), data.Subset(unlabelled),
                    new LabelledUnlabelledSampler(labelled.Length, unlabelled.Length, labelled.Length, options.UsesUnlabelled ? 7 : 0, seed),
                    new GaussianJitter(0.1), new GaussianJitter(1.0), generator), name, options.Steps);
                using var scope = torch.NewDisposeScope();
                var (x, y) = data.Batch([.. Enumerable.Range(n / 2, n / 2)]);
                accuracy[name].Add(method.Predict(x).ge(0.5).eq(y.ge(0.5)).to(ScalarType.Float64).mean().ToDouble());
            }
        }
        var summary = string.Join("; ", accuracy.Select(kv => $"{kv.Key}: {string.Join(", ", kv.Value.Select(v => v.ToString("F3")))}"));
        Assert.True(accuracy["one"].Average() >= accuracy["supervised"].Average() + 0.02, summary);
        Assert.True(accuracy["two"].Average() >= accuracy["supervised"].Average() + 0.02, summary);
    }

    /// <summary>n points x ~ N(0, I_d) with two labels; label l adds ±<paramref name="shift"/> to coordinate l. Combinations
    /// cycle through the four label sets; the "images" are 1 × 1 × d.</summary>
    private static (ImageDataset Data, int[] Combination) GaussianLabels(int n, int d, double shift, int seed)
    {
        var rng = new SeededRandom(seed);
        var x = new float[n * d];
        var labels = new bool[n * 2];
        var combination = new int[n];
        for (var i = 0; i < n; i++)
        {
            combination[i] = i % 4;
            for (var l = 0; l < 2; l++) labels[2 * i + l] = (combination[i] >> l & 1) != 0;
            for (var j = 0; j < d; j++) x[i * d + j] = (float)rng.Normal();
            for (var l = 0; l < 2; l++) x[i * d + l] += (float)(labels[2 * i + l] ? shift : -shift);
        }
        return (new ImageDataset(1, 1, d, ["a", "b"], x, labels, [.. combination.Select((_, i) => $"E{i}")], [.. combination.Select((_, i) => $"P{i}")]), combination);
    }

    private static nn.Module<Tensor, Tensor> Tiny() => nn.Sequential(nn.Conv2d(1, 8, 3, padding: 1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten());

    private static float[] HeadWeights(MultiLabelClassifier network) =>
        network.named_parameters().Where(p => p.name.StartsWith("multiLabel", StringComparison.Ordinal) || p.name.StartsWith("backbone.0", StringComparison.Ordinal))
            .SelectMany(p => p.parameter.data<float>().ToArray()).ToArray();

    [Theory]
    [InlineData(FixMatchHead.One, 0.75, 0.5)]   // image 1 (1, 1) passes with {a, b}, wrong; image 2 (0.1, −1) stays under τ
    [InlineData(FixMatchHead.Two, 0.75, 0.75)]  // image 1 is a tie between {a} and {b}, under τ; image 2 passes as {a}
    public void PseudoLabelOutcomesCountImagesPassingTauWithTheTrueAndAWrongLabelSet(FixMatchHead head, double rate, double correct)
    {
        // Two pixels, two classes; the identity backbone and heads of weight 10·I give logits 10·pixels. Truth: {a}, {a}, {a}, {b},
        // so the combinations are {a} (index 0) and {b} (index 1).
        float[] pixels = [1, -1, 1, 1, 0.1f, -1, -1, 1];
        bool[] labels = [true, false, true, false, true, false, false, true];
        var images = new ImageDataset(1, 1, 2, ["a", "b"], pixels, labels, ["E0", "E1", "E2", "E3"], ["P0", "P1", "P2", "P3"]);
        var combinations = LabelCombinations.Of(images);
        MultiLabelClassifier Network()
        {
            var network = new MultiLabelClassifier(nn.Flatten(), 2, 2, head == FixMatchHead.Two ? 2 : 0);
            using var noGrad = torch.no_grad();
            foreach (var (name, parameter) in network.named_parameters())
                parameter.copy_(name.EndsWith("weight") ? torch.eye(2) * 10 : torch.zeros(2));
            return network;
        }
        using var method = new FixMatchMultiLabel(Network, head == FixMatchHead.Two ? combinations : null, new FixMatchOptions { Head = head });
        var outcome = method.PseudoLabelOutcomes(images);
        Assert.Equal(rate, outcome.Rate, 12);
        Assert.Equal(correct, outcome.Correct, 12);
        Assert.Equal(rate - correct, outcome.Wrong, 12);
    }

    private static ImageDataset Dataset(bool[][] labels)
    {
        var n = labels.Length;
        return new ImageDataset(1, 2, 2, ["liver", "gallbladder", "other"], new float[n * 4], [.. labels.SelectMany(l => l)],
            [.. Enumerable.Range(0, n).Select(i => $"E{i}")], [.. Enumerable.Range(0, n).Select(i => $"P{i}")]);
    }
}

using System.Globalization;
using MedSsl.Data;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Models;
using MedSsl.Tests.Support;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;
using ClassMetrics = MedSsl.Metrics.Classification;
using MaskMetrics = MedSsl.Metrics.Segmentation;

namespace MedSsl.Tests.Methods;

/// <summary>MultiMix's equations (Haque et al. 2021, eq. 1–4) against PyTorch 1.13 on random inputs, the saliency map
/// against finite differences, and the method's step on the synthetic chest X-rays.</summary>
public class MultiMixTests
{
    private static string Py(Tensor t) => "torch.tensor([" + string.Join(", ", t.to(ScalarType.Float64).reshape(-1).data<double>().ToArray()
        .Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]).reshape(" + string.Join(", ", t.shape) + ")";

    private static Tensor Random(long[] shape, int seed, double scale = 2)
    {
        using var g = new Generator((ulong)seed);
        return torch.randn(shape, ScalarType.Float64, generator: g) * scale;
    }

    [Fact]
    public void Eq1UnlabelledTermAndObjectiveMatchPyTorch()
    {
        var labelled = Random([5, 2], 1);
        var labels = torch.tensor(new long[] { 0, 1, 1, 0, 1 });
        var weak = Random([8, 2], 2);
        var strong = Random([8, 2], 3);
        var terms = MultiMix.ClassificationObjective(labelled, labels, weak, strong, threshold: 0.7, unlabelledWeight: 0.25);
        var reference = PyTorchReference.Run($$"""
            import torch.nn.functional as F
            l, y, w, s = {{Py(labelled)}}, torch.tensor([0, 1, 1, 0, 1]), {{Py(weak)}}, {{Py(strong)}}
            p = torch.softmax(w, 1)
            conf, pseudo = p.max(1)
            mask = (conf >= 0.7).double()
            lu = (F.cross_entropy(s, pseudo, reduction="none") * mask).mean()
            ll = F.cross_entropy(l, y)
            emit({"sup": ll.item(), "unsup": lu.item(), "mask": mask.mean().item(), "total": (ll + 0.25 * lu).item()})
            """);
        Assert.Equal(reference.GetProperty("sup").GetDouble(), terms.Supervised.ToDouble(), 10);
        Assert.Equal(reference.GetProperty("unsup").GetDouble(), terms.Unlabelled.ToDouble(), 10);
        Assert.Equal(reference.GetProperty("mask").GetDouble(), terms.MaskRate.ToDouble(), 10);
        Assert.Equal(reference.GetProperty("total").GetDouble(), terms.Total.ToDouble(), 10);
        var rate = terms.MaskRate.ToDouble();
        Assert.True(rate is > 0 and < 1, $"the random logits should mask some but not all images (rate {rate})");
    }

    [Fact]
    public void Eq1PseudoLabelsCarryNoGradient()
    {
        var weak = Random([6, 2], 4).requires_grad_();
        var strong = Random([6, 2], 5).requires_grad_();
        var loss = MultiMix.UnlabelledClassificationLoss(strong, weak, 0.0);
        var grads = torch.autograd.grad([loss], [weak, strong], allow_unused: true);
        Assert.True(grads[0] is null || grads[0].IsInvalid, "the weak view only supplies pseudo-labels: it is not in the graph");
        Assert.True(grads[1]!.abs().max().ToDouble() > 0);
    }

    [Fact]
    public void Eq2DiceLossAndKlMatchPyTorch()
    {
        var labelled = Random([3, 1, 6, 5], 6);
        var masks = (torch.rand([3, 1, 6, 5], ScalarType.Float64, generator: new Generator(7)) > 0.5).to(ScalarType.Float64);
        var unlabelled = Random([4, 1, 6, 5], 8);
        var terms = MultiMix.SegmentationObjective(labelled, masks, unlabelled, diceWeight: 5, klWeight: 0.01);
        var reference = PyTorchReference.Run($$"""
            l, m, u = {{Py(labelled)}}, {{Py(masks)}}, {{Py(unlabelled)}}
            p = torch.sigmoid(l)
            dice = 1 - (2 * (p * m).sum() + 1) / (p.sum() + m.sum() + 1)
            pl = torch.sigmoid(l).mean(0).clamp(1e-6, 1 - 1e-6)
            pu = torch.sigmoid(u).mean(0).clamp(1e-6, 1 - 1e-6)
            # KL of Bernoulli(pl) from Bernoulli(pu) per pixel, as torch.distributions computes it
            kl = torch.distributions.kl_divergence(torch.distributions.Bernoulli(probs=pl), torch.distributions.Bernoulli(probs=pu)).mean()
            emit({"dice": dice.item(), "kl": kl.item(), "total": (5 * dice + 0.01 * kl).item()})
            """);
        Assert.Equal(reference.GetProperty("dice").GetDouble(), terms.Dice.ToDouble(), 10);
        Assert.Equal(reference.GetProperty("kl").GetDouble(), terms.Kl.ToDouble(), 10);
        Assert.Equal(reference.GetProperty("total").GetDouble(), terms.Total.ToDouble(), 10);
        Assert.Equal(reference.GetProperty("kl").GetDouble(), MultiMix.SegmentationKl(labelled, unlabelled).ToDouble(), 10);
    }

    [Fact]
    public void Eq2KlIsNonZeroWithAGradientUnlikeTheSingleChannelSoftmax()
    {
        var labelled = Random([4, 1, 8, 8], 9).requires_grad_();
        var unlabelled = Random([4, 1, 8, 8], 10).requires_grad_();
        var kl = MultiMix.SegmentationKl(labelled, unlabelled);
        Assert.True(kl.ToDouble() > 1e-3, $"KL {kl.ToDouble()}");
        var grads = torch.autograd.grad([kl], [labelled, unlabelled]);
        Assert.True(grads[0]!.abs().max().ToDouble() > 0 && grads[1]!.abs().max().ToDouble() > 0);
        // The reference code's softmax over the single mask channel is 1 everywhere: its KL is 0 whatever the masks.
        var oneChannel = nn.functional.softmax(labelled, 1);
        Assert.Equal(1.0, oneChannel.min().ToDouble(), 12);
        // Identical mean masks give 0, and the KL gradient checks against finite differences.
        Assert.Equal(0, MultiMix.SegmentationKl(labelled, labelled).ToDouble(), 12);
        GradCheck.Check(t => MultiMix.SegmentationKl(t[0], t[1]), Random([2, 1, 3, 3], 11), Random([3, 1, 3, 3], 12));
    }

    [Fact]
    public void Eq2KlPullsOnlyTheUnlabelledPredictions()
    {
        var labelled = Random([2, 1, 4, 4], 13).requires_grad_();
        var masks = (torch.rand([2, 1, 4, 4], ScalarType.Float64, generator: new Generator(14)) > 0.5).to(ScalarType.Float64);
        var unlabelled = Random([2, 1, 4, 4], 15);
        var withKl = MultiMix.SegmentationObjective(labelled, masks, unlabelled, 5, 0.01).Total;
        var diceOnly = MultiMix.DiceLoss(labelled, masks) * 5;
        var g1 = torch.autograd.grad([withKl], [labelled])[0]!;
        var g2 = torch.autograd.grad([diceOnly], [labelled])[0]!;
        Expect.Close(g2.reshape(-1).data<double>().ToArray(), g1.reshape(-1).data<double>().ToArray(), 1e-12);
    }

    [Fact]
    public void Eq3SaliencyMatchesFiniteDifferencesAndLeavesParametersAlone()
    {
        torch.manual_seed(3);
        var net = new MultiMixNet(new MultiMixNetOptions { Widths = [2, 3], Dropout = 0.25 });
        net.to(ScalarType.Float64);
        var x = torch.rand([2, 1, 4, 4], ScalarType.Float64, generator: new Generator(16));
        var saliency = net.Saliency(x);
        Assert.True(net.training, "Saliency restores train mode");
        Assert.All(net.parameters(), p => Assert.True(p.grad is null || p.grad.abs().max().ToDouble() == 0));
        net.eval();
        using var noGrad = torch.no_grad();
        var predicted = net.Classify(x).argmax(1).data<long>().ToArray();
        const double eps = 1e-6;
        for (var i = 0; i < 2; i++)
            for (var p = 0; p < 16; p++)
            {
                var plus = x.clone();
                var minus = x.clone();
                plus[i, 0, p / 4, p % 4] += eps;
                minus[i, 0, p / 4, p % 4] -= eps;
                var numeric = (net.Classify(plus)[i, predicted[i]].ToDouble() - net.Classify(minus)[i, predicted[i]].ToDouble()) / (2 * eps);
                Assert.Equal(Math.Abs(numeric), saliency[i, 0, p / 4, p % 4].ToDouble(), 6);
            }
    }

    [Fact]
    public void Eq4BridgeEntersTheFirstDecoderStageAtItsResolution()
    {
        var net = new MultiMixNet(new MultiMixNetOptions { Widths = [4, 8, 16] });
        var x = torch.rand([3, 1, 16, 16]);
        var saliency = net.Saliency(x);
        Assert.Equal([3L, 1, 16, 16], saliency.shape);
        Assert.Equal([3L, 2, 4, 4], MultiMixNet.Bridge(x, saliency, 4, 4).shape);
        Assert.Equal([3L, 1, 16, 16], net.Segment(x, saliency).shape);
        Assert.Equal([3L, 2], net.Classify(x).shape);
        // Table 5: the first decoder convolution takes upsampled bottleneck + skip + (image, saliency) channels.
        var firstDecoder = net.named_parameters().First(p => p.name.StartsWith("decoder.0.") && p.parameter.dim() == 4).parameter;
        Assert.Equal([8L, 16 + 8 + 2, 3, 3], firstDecoder.shape);
        var plain = new MultiMixNet(new MultiMixNetOptions { Widths = [4, 8, 16], SaliencyBridge = false });
        Assert.Equal([8L, 16 + 8, 3, 3], plain.named_parameters().First(p => p.name.StartsWith("decoder.0.") && p.parameter.dim() == 4).parameter.shape);
        var e = Assert.Throws<ArgumentException>(() => net.Segment(x));
        Assert.Contains("pass the saliency map", e.Message);
        e = Assert.Throws<ArgumentException>(() => net.Segment(torch.rand([1, 1, 10, 10]), torch.rand([1, 1, 10, 10])));
        Assert.Contains("divisible by 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => new MultiMixNet(new MultiMixNetOptions { ClassificationHead = false }));
        Assert.Contains("saliency bridge", e.Message);
    }

    [Fact]
    public void EveryModelStepsOnTheSyntheticXraysAndReportsItsTerms()
    {
        var data = SyntheticChestXray.Make(new ChestXraySizes(16, 12, 6, 4), seed: 1);
        var classification = data.Classification.ToDataset(_ => DataSplit.Unlabelled).Images;
        var segmentation = data.Segmentation.ToDataset(_ => DataSplit.Unlabelled);
        foreach (var model in Enum.GetValues<MultiMixModel>())
        {
            var options = new MultiMixOptions { BatchSize = 3, LearningRate = 1e-3 }.For(model);
            torch.manual_seed(0);
            using var method = new MultiMix(new MultiMixNet(options.Network([4, 8])), options);
            using var trainer = new Trainer { Progress = new SilentProgress() };
            var result = trainer.Run(method, method.Batches(classification, [0, 1, 2, 3], [.. Enumerable.Range(4, 8)], segmentation, [0, 1], [2, 3, 4, 5]), "test", 2);
            Assert.Equal(["cls_sup", "cls_unsup", "seg_dice", "seg_kl", "total", "mask_rate"], result.MeanLosses.Keys);
            Assert.All(result.MeanLosses.Values, v => Assert.True(double.IsFinite(v)));
            Assert.Equal(options.Classification, result.MeanLosses["cls_sup"] > 0);
            Assert.Equal(options.Segmentation, result.MeanLosses["seg_dice"] > 0);
            Assert.Equal(options.Segmentation && options.SemiSupervised, result.MeanLosses["seg_kl"] > 0);
            if (options.Segmentation) Assert.Equal([4L, 1, 16, 16], method.PredictMasks(data.TestInDomain.Images()).shape);
            if (options.Classification) Assert.Equal([4L, 2], method.Predict(data.TestInDomain.Images()).shape);
        }
        var mismatch = new MultiMixOptions().For(MultiMixModel.Umtl);
        var error = Assert.Throws<ArgumentException>(() => new MultiMix(new MultiMixNet(new MultiMixNetOptions { Widths = [4, 8] }), mismatch));
        Assert.Contains("must match the options' switches", error.Message);
    }

    [Fact]
    public void MaskMetricsMatchHandValuesAndScipy()
    {
        // Prediction: a 2×3 block; reference: a 3×3 block sharing 2×2 of it.
        var predicted = new bool[6, 6];
        var reference = new bool[6, 6];
        for (var y = 1; y < 3; y++) for (var x = 1; x < 4; x++) predicted[y, x] = true;
        for (var y = 1; y < 4; y++) for (var x = 2; x < 5; x++) reference[y, x] = true;
        Assert.Equal(2.0 * 4 / (6 + 9), MaskMetrics.Dice(predicted, reference), 12);
        Assert.Equal(4.0 / 11, MaskMetrics.Iou(predicted, reference), 12);
        Assert.Equal(4.0 / 6, MaskMetrics.Precision(predicted, reference), 12);
        Assert.Equal(4.0 / 9, MaskMetrics.Recall(predicted, reference), 12);
        // Average Hausdorff = ½ (mean over A of the distance to B + mean over B of the distance to A), via scipy's cdist;
        // its maximum is scipy's directed Hausdorff distance.
        string Points(bool[,] m) => "np.array([" + string.Join(", ", Enumerable.Range(0, 36).Where(p => m[p / 6, p % 6]).Select(p => $"[{p / 6}, {p % 6}]")) + "], float)";
        var reference_ = PyTorchReference.Run($$"""
            from scipy.spatial.distance import cdist, directed_hausdorff
            a, b = {{Points(predicted)}}, {{Points(reference)}}
            d = cdist(a, b)
            emit({"ahd": 0.5 * (d.min(1).mean() + d.min(0).mean()), "hd": max(directed_hausdorff(a, b)[0], directed_hausdorff(b, a)[0]), "max_min": max(d.min(1).max(), d.min(0).max())})
            """);
        Assert.Equal(reference_.GetProperty("ahd").GetDouble(), MaskMetrics.AverageHausdorff(predicted, reference), 10);
        Assert.Equal(reference_.GetProperty("hd").GetDouble(), reference_.GetProperty("max_min").GetDouble(), 10);
        var f1 = PyTorchReference.Run("""
            from sklearn.metrics import f1_score
            emit(list(f1_score([0, 1, 1, 0, 1, 1], [0, 1, 0, 0, 0, 1], average=None)))
            """).Doubles();
        Expect.Close(f1, ClassMetrics.F1PerClass([0, 1, 1, 0, 1, 1], [0, 1, 0, 0, 0, 1], 2), 1e-12);
    }

    [Fact]
    public void StepScheduleDecaysLikeStepLr()
    {
        Assert.Equal(1e-3, Schedules.Step(0, 8, 1e-3, 0.1), 15);
        Assert.Equal(1e-3, Schedules.Step(7, 8, 1e-3, 0.1), 15);
        Assert.Equal(1e-4, Schedules.Step(8, 8, 1e-3, 0.1), 15);
        Assert.Equal(1e-5, Schedules.Step(17, 8, 1e-3, 0.1), 15);
        Assert.Throws<ArgumentOutOfRangeException>(() => Schedules.Step(1, 0, 1e-3, 0.1));
    }
}

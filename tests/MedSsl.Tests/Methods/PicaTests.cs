using System.Globalization;
using MedSsl.Data;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Methods;

public class PicaTests
{
    private const double Epsilon = 0.1;

    private static string Py(Tensor t) =>
        "torch.tensor([" + string.Join(",", t.to(ScalarType.Float64).reshape(-1).data<double>().ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))
        + $"]).reshape({string.Join(",", t.shape)})";

    [Fact]
    public void Eq1To6AndTheirGradientsMatchPyTorchOnRandomAssignments()
    {
        torch.manual_seed(12);
        var logits1 = torch.randn([24, 6], ScalarType.Float64) * 2;
        var logits2 = torch.randn([24, 6], ScalarType.Float64) * 2;
        // PICA's losses.py (PUILoss) written out, with L_SD beside L_NE, differentiated by PyTorch's autograd.
        var reference = PyTorchReference.Run($$"""
            import torch.nn.functional as F
            l1 = {{Py(logits1)}}.requires_grad_()
            l2 = {{Py(logits2)}}.requires_grad_()
            out = {}
            x, y = F.softmax(l1, dim=1), F.softmax(l2, dim=1)
            K = x.size(1)
            pui = torch.mm(F.normalize(x.t(), p=2, dim=1), F.normalize(y, p=2, dim=0))
            out["pui"] = pui.reshape(-1).tolist()
            out["m"] = F.softmax(pui, dim=1).reshape(-1).tolist()
            p = x.sum(0).view(-1)
            p = p / p.sum()
            losses = {
                "ce": F.cross_entropy(pui, torch.arange(K)),
                "ne": torch.log(torch.tensor(float(K))) + (p * p.log()).sum(),
                "sd": -{{Epsilon.ToString("R", CultureInfo.InvariantCulture)}} / torch.log(torch.tensor(float(K))) * p.log().sum(),
            }
            for name, loss in losses.items():
                g1, g2 = torch.autograd.grad(loss, [l1, l2], allow_unused=True, retain_graph=True)
                out[name] = loss.item()
                out[name + "_g1"] = g1.reshape(-1).tolist()
                out[name + "_g2"] = (g2 if g2 is not None else torch.zeros_like(l2)).reshape(-1).tolist()
            emit(out)
            """);

        var l1 = logits1.requires_grad_();
        var l2 = logits2.requires_grad_();
        var (x, y) = (l1.softmax(1), l2.softmax(1));
        var pui = Pica.PartitionUncertaintyIndex(x, y);
        Expect.Close(reference.GetProperty("pui").Doubles(), pui.reshape(-1).data<double>().ToArray(), 1e-12);
        Expect.Close(reference.GetProperty("m").Doubles(), Pica.PartitionSoftmax(pui).reshape(-1).data<double>().ToArray(), 1e-12);
        var losses = new Dictionary<string, Tensor>
        {
            ["ce"] = Pica.PartitionCrossEntropy(pui),
            ["ne"] = Pica.ClusterSizeNegativeEntropy(x),
            ["sd"] = Pica.SymmetricDirichletLoss(x, 1 + Epsilon),
        };
        foreach (var (name, loss) in losses)
        {
            Assert.Equal(reference.GetProperty(name).GetDouble(), loss.ToDouble(), 12);
            var grads = torch.autograd.grad([loss], [l1, l2], retain_graph: true, allow_unused: true);
            Expect.Close(reference.GetProperty(name + "_g1").Doubles(), grads[0]!.reshape(-1).data<double>().ToArray(), 1e-10);
            var g2 = grads[1] is null || grads[1]!.IsInvalid ? new double[l2.numel()] : grads[1]!.reshape(-1).data<double>().ToArray();
            Expect.Close(reference.GetProperty(name + "_g2").Doubles(), g2, 1e-10);
        }
    }

    [Fact]
    public void GradientsOfTheLossesMatchFiniteDifferences()
    {
        torch.manual_seed(5);
        var l1 = torch.randn([10, 4], ScalarType.Float64);
        var l2 = torch.randn([10, 4], ScalarType.Float64);
        GradCheck.Check(a => Pica.PartitionCrossEntropy(Pica.PartitionUncertaintyIndex(a[0].softmax(1), a[1].softmax(1))), l1, l2);
        GradCheck.Check(a => Pica.ClusterSizeNegativeEntropy(a[0].softmax(1)), l1);
        GradCheck.Check(a => Pica.SymmetricDirichletLoss(a[0].softmax(1), 1 + Epsilon), l1);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(12)]
    public void PerfectPartitionsGiveTheIdentityValueAndUniformSizesZeroNegativeEntropy(int k)
    {
        // Two images per cluster, hard and identical in both views: M = I (eq. 1) and every cluster holds 1/K.
        var hard = torch.eye(k, dtype: ScalarType.Float64).repeat(2, 1);
        using var pui = Pica.PartitionUncertaintyIndex(hard, hard);
        Expect.Close(torch.eye(k, dtype: ScalarType.Float64).reshape(-1).data<double>().ToArray(), pui.reshape(-1).data<double>().ToArray(), 1e-12);
        Assert.Equal(Math.Log(Math.E + k - 1) - 1, Pica.PartitionCrossEntropy(pui).ToDouble(), 12);
        Assert.Equal(0, Pica.ClusterSizeNegativeEntropy(hard).ToDouble(), 12);
        // L_SD at uniform sizes: −ε/log K · K·log(1/K) = ε·K, its minimum; one dominant cluster costs more.
        Assert.Equal(Epsilon * k, Pica.SymmetricDirichletLoss(hard, 1 + Epsilon).ToDouble(), 12);
        var skewed = torch.cat([hard, torch.eye(k, dtype: ScalarType.Float64)[..1].repeat(5, 1)]);
        Assert.True(Pica.SymmetricDirichletLoss(skewed, 1 + Epsilon).ToDouble() > Epsilon * k);
        // Soft but uniform usage also has L_NE = 0; everything in one cluster gives log K.
        Assert.Equal(0, Pica.ClusterSizeNegativeEntropy(torch.full([5, k], 1.0 / k, ScalarType.Float64)).ToDouble(), 12);
        var collapsed = torch.zeros([5, k], ScalarType.Float64);
        collapsed[.., 0] = torch.tensor(1.0, ScalarType.Float64);
        Assert.Equal(Math.Log(k), Pica.ClusterSizeNegativeEntropy(collapsed).ToDouble(), 9);
    }

    [Fact]
    public void L_SdPenalisesImbalanceLessThanL_NeAndOnlyVanishingClustersHeavily()
    {
        // The mechanism of §2.2.2: relative to their values at uniform sizes, a realistic imbalance (the synthetic
        // set's label-combination frequencies) costs L_SD a small fraction of what a vanishing cluster costs.
        var sizes = new[] { 315.0, 311, 147, 109, 85, 75, 60, 58, 30, 22, 20, 10 };
        var z = torch.tensor(sizes.Select(s => s / sizes.Sum()).ToArray()).unsqueeze(0);
        var uniformSd = Epsilon * sizes.Length;
        var imbalance = Pica.SymmetricDirichletLoss(z, 1 + Epsilon).ToDouble() - uniformSd;
        var nearlyEmpty = sizes.ToArray();
        nearlyEmpty[^1] = 1e-6;
        var vanish = Pica.SymmetricDirichletLoss(torch.tensor(nearlyEmpty).unsqueeze(0), 1 + Epsilon).ToDouble() - uniformSd;
        Assert.True(imbalance > 0 && imbalance < vanish / 3, $"imbalance costs {imbalance:G4}, a vanishing cluster {vanish:G4}");
        Assert.True(Pica.ClusterSizeNegativeEntropy(z).ToDouble() > 0.2, "L_NE pushes this imbalance towards uniform");
    }

    [Fact]
    public void BadInputsAreNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => Pica.PartitionUncertaintyIndex(torch.ones(4, 3), torch.ones(4, 2)));
        Assert.Contains("[4, 3] and [4, 2]", e.Message);
        var alpha = Assert.Throws<ArgumentOutOfRangeException>(() => Pica.SymmetricDirichletLoss(torch.ones(4, 3), 1.0));
        Assert.Contains("α = 1 + ε > 1", alpha.Message);
        var k = Assert.Throws<ArgumentOutOfRangeException>(() => new Pica(new ResNet(widths: [4]), new PicaOptions { Clusters = 1 }));
        Assert.Contains("K ≥ 2", k.Message);
    }

    [Fact]
    public void TrainStepReturnsTheNamedTermsOfEquation7()
    {
        torch.manual_seed(0);
        using var pica = new Pica(new ResNet(widths: [4, 8]), new PicaOptions { Clusters = 3, Lambda = 5, LearningRate = 1e-3 });
        var images = torch.rand([6, 1, 16, 16]);
        var losses = pica.TrainStep(new TwoViewBatch(images, images.flip(3)));
        Assert.Equal(["ce", "size", "total"], losses.Keys);
        Assert.Equal(losses["ce"] + 5 * losses["size"], losses["total"], 5);
        Assert.Equal([6L, 3L], pica.Predict(images).shape);
        Assert.Equal([6L, 8L], pica.Features(images).shape);
    }

    [Fact]
    public void Algorithm1GivesEachClusterItsMeanLabelVector()
    {
        // Labels: liver, kidney, other. Cluster 0 holds two liver images and a liver+kidney one; cluster 1 one "other";
        // cluster 2 none (it keeps Algorithm 1's zero vector).
        bool[,] labels = { { true, false, false }, { true, true, false }, { false, false, true }, { true, false, false } };
        var matching = new ClusterLabelMatching().Fit([0, 0, 1, 0], labels, 3);
        Expect.Close([1, 1.0 / 3, 0, 0, 0, 1, 0, 0, 0], matching.ClusterLabels.Cast<double>().ToArray(), 1e-15);
        Assert.Equal([3, 1, 0], matching.ClusterSizes);
        var scores = matching.Predict([2, 1, 0]);
        Expect.Close([0, 0, 0, 0, 0, 1, 1, 1.0 / 3, 0], scores.Cast<double>().ToArray(), 1e-15);
        // At 0.5 cluster 0 says "liver"; the F1-optimal kidney threshold (1/3 on these scores) also says "kidney" there.
        Assert.Equal([true, false, false], Row(matching.PredictLabels([0], 0.5), 0));
        Assert.Equal(1.0 / 3, matching.Thresholds.Thresholds[1], 15);
        Assert.Equal([true, true, false], Row(matching.PredictLabels([0]), 0));
        Assert.Throws<InvalidOperationException>(() => new ClusterLabelMatching().Predict([0]));
        var outside = Assert.Throws<ArgumentOutOfRangeException>(() => matching.Predict([3]));
        Assert.Contains("cluster 3, outside 0..2", outside.Message);
        var count = Assert.Throws<ArgumentException>(() => new ClusterLabelMatching().Fit([0, 1], labels, 3));
        Assert.Contains("2 cluster assignments for 4", count.Message);
    }

    [Fact]
    public void ClusterScoresGetScikitLearnsF1OptimalThresholds()
    {
        // The general threshold search is checked against scikit-learn in MetricsTests
        // (ThresholdsChosenOnValidationMatchBruteForceAndScoreTheTestSet); here the case Algorithm 1 makes: few distinct
        // scores, each shared by a whole cluster, so every candidate threshold is a tie group.
        var rng = new Random(7);
        const int n = 120, c = 4, k = 6;
        var assignments = Enumerable.Range(0, n).Select(_ => rng.Next(k)).ToArray();
        var labels = new bool[n, c];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < c; j++) labels[i, j] = rng.NextDouble() < 0.15 + 0.12 * ((assignments[i] + j) % k);
        var matching = new ClusterLabelMatching().Fit(assignments, labels, k);
        var scores = matching.Predict(assignments);
        string Matrix<T>(T[,] m, Func<T, string> f) => "[" + string.Join(",", Enumerable.Range(0, m.GetLength(0)).Select(i =>
            "[" + string.Join(",", Enumerable.Range(0, m.GetLength(1)).Select(j => f(m[i, j]))) + "]")) + "]";
        var reference = PyTorchReference.Run($$"""
            from sklearn.metrics import f1_score
            y = np.array({{Matrix(labels, b => b ? "1" : "0")}})
            s = np.array({{Matrix(scores, v => v.ToString("R", CultureInfo.InvariantCulture))}})
            best = []
            for j in range(y.shape[1]):
                cands = np.unique(s[:, j])
                f1 = [f1_score(y[:, j], (s[:, j] >= t).astype(int), zero_division=0) for t in cands]
                best.append(float(cands[int(np.argmax(f1))]))   # argmax: the smallest threshold among equal F1
            emit(best)
            """);
        Expect.Close(reference.Doubles(), matching.Thresholds.Thresholds, 1e-12);
    }

    [Fact]
    public void SortedSizeDistanceIsTheTotalVariationBetweenSortedShapes()
    {
        // Sizes (0.5, 0.3, 0.2) in any cluster order against frequencies (0.6, 0.2, 0.1, 0.1): ½(0.1 + 0.1 + 0.1 + 0.1).
        Assert.Equal(0.2, ClusterSizes.SortedDistance([0.2, 0.5, 0.3], [0.1, 0.6, 0.1, 0.2]), 12);
        Assert.Equal(0, ClusterSizes.SortedDistance([3, 1, 2], [0.5, 1.0 / 3, 1.0 / 6]), 12);
        Assert.Equal([0.5, 0.25, 0.25, 0], ClusterSizes.SortedFractions([2, 0, 2, 1], 4));
        Assert.Throws<ArgumentException>(() => ClusterSizes.SortedDistance([0, 0], [1]));
    }

    private static bool[] Row(bool[,] m, int i) => [.. Enumerable.Range(0, m.GetLength(1)).Select(j => m[i, j])];
}

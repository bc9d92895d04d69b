using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Training;
using MedSsl.Models;
using MedSsl.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Methods;

public class SsldecTests
{
    [Fact]
    public void Eq1StudentTAssignmentsMatchHandValues()
    {
        // d² = 1 and 4 → kernels 1/2 and 1/5 → q = (5/7, 2/7).
        using var q = ClusteringLayer.StudentT(torch.tensor(new double[] { 0, 0 }, 1, 2), torch.tensor(new double[] { 1, 0, 0, 2 }, 2, 2));
        Expect.Close([5.0 / 7, 2.0 / 7], q.data<double>().ToArray(), 1e-12);
        // α = 2: (1 + d²/2)^(-3/2).
        using var q2 = ClusteringLayer.StudentT(torch.tensor(new double[] { 0, 0 }, 1, 2), torch.tensor(new double[] { 1, 0, 0, 2 }, 2, 2), alpha: 2);
        double a = Math.Pow(1.5, -1.5), b = Math.Pow(3, -1.5);
        Expect.Close([a / (a + b), b / (a + b)], q2.data<double>().ToArray(), 1e-12);
    }

    [Fact]
    public void Eq2TargetDistributionMatchesHandValues()
    {
        // f = (1.2, 0.8); rows q²/f = (0.5333, 0.05) and (0.1333, 0.45), then normalised.
        using var p = Ssldec.TargetDistribution(torch.tensor(new double[] { 0.8, 0.2, 0.4, 0.6 }, 2, 2));
        Expect.Close([0.64 / 1.2 / (0.64 / 1.2 + 0.05), 0.05 / (0.64 / 1.2 + 0.05), 0.16 / 1.2 / (0.16 / 1.2 + 0.45), 0.45 / (0.16 / 1.2 + 0.45)], p.data<double>().ToArray(), 1e-12);
    }

    [Fact]
    public void Eq3KlDivergenceMatchesHandValueAndIgnoresZeroTargets()
    {
        using var kl = Ssldec.KlDivergence(torch.tensor(new double[] { 0.5, 0.5, 1, 0 }, 2, 2), torch.tensor(new double[] { 0.25, 0.75, 0.5, 0.5 }, 2, 2));
        Assert.Equal((0.5 * Math.Log(2) + 0.5 * Math.Log(2.0 / 3) + Math.Log(2)) / 2, kl.ToDouble(), 12);
    }

    [Fact]
    public void Eq4GradientsOfTheClusteringLayerMatchAutograd()
    {
        torch.manual_seed(3);
        var z = torch.randn([5, 3], ScalarType.Float64).requires_grad_();
        var mu = torch.randn([2, 3], ScalarType.Float64).requires_grad_();
        var p = torch.rand([5, 2], ScalarType.Float64);
        p = p / p.sum(1, keepdim: true);
        var q = ClusteringLayer.StudentT(z, mu);
        var loss = Ssldec.KlDivergence(p, q) * 5; // eq. 4 differentiates the sum over points
        var grads = torch.autograd.grad([loss], [z, mu]);
        using var noGrad = torch.no_grad();
        var diff = z.unsqueeze(1) - mu.unsqueeze(0);                      // [i, j, d]
        var kernel = (diff.pow(2).sum(2) + 1).reciprocal();               // (1 + ‖z_i − μ_j‖²)^-1
        var weight = (kernel * (p - q)).unsqueeze(2) * diff;              // [i, j, d]
        Expect.Close((2 * weight.sum(1)).reshape(-1).data<double>().ToArray(), grads[0]!.reshape(-1).data<double>().ToArray(), 1e-10);
        Expect.Close((-2 * weight.sum(dim: 0)).reshape(-1).data<double>().ToArray(), grads[1]!.reshape(-1).data<double>().ToArray(), 1e-10);
    }

    [Fact]
    public void BalancedSubsetTakesAsManyPerPredictedLabelAsTheRarestHas()
    {
        // Predicted labels: 0 0 1 1 1 1 0 1 → label 0 has 3 points, label 1 has 5.
        using var q = torch.tensor(new double[] { .9, .1, .8, .2, .3, .7, .1, .9, .4, .6, .2, .8, .6, .4, .45, .55 }, 8, 2);
        using var g1 = new Generator(1);
        var subset = Ssldec.BalancedSubset(q, g1);
        Assert.Equal(6, subset.Length);
        Assert.Equal([0L, 1, 6], subset.Where(i => i is 0 or 1 or 6));
        Assert.All(subset.Where(i => i is not (0 or 1 or 6)), i => Assert.Contains(i, new long[] { 2, 3, 4, 5, 7 }));
        using var g2 = new Generator(1);
        Assert.Equal(subset, Ssldec.BalancedSubset(q, g2));
        var draws = Enumerable.Range(0, 20).Select(s => { using var g = new Generator((ulong)s); return string.Join(",", Ssldec.BalancedSubset(q, g)); }).Distinct().Count();
        Assert.True(draws > 1, "different seeds should pick different members of the larger label");
    }

    [Fact]
    public void PseudoLabelsKeepThePointsWhoseLargestQReachesTheThreshold()
    {
        // Row maxima 0.9 (class 0), 0.6 (class 1), 0.95 (class 1), 0.5 (tie → class 0): τ = 0.9 keeps rows 0 and 2.
        using var q = torch.tensor(new double[] { .9, .1, .4, .6, .05, .95, .5, .5 }, 4, 2);
        var (index, labels) = Ssldec.PseudoLabels(q, 0.9);
        Assert.Equal([0L, 2], index);
        Assert.Equal([0L, 1], labels);
        Assert.Empty(Ssldec.PseudoLabels(q, 0.96).Index);
        Assert.Equal(4, Ssldec.PseudoLabels(q, 0).Index.Length);
    }

    [Fact]
    public void PseudoLabellingRoundsTrainOnTheLabelledPlusTheConfidentUnlabelledPoints()
    {
        torch.manual_seed(0);
        var x = torch.cat([torch.randn(100, 2) * 0.3 - 2, torch.randn(100, 2) * 0.3 + 2]);
        var y = torch.cat([torch.zeros([100], ScalarType.Int64), torch.ones([100], ScalarType.Int64)]);
        var labelled = torch.tensor(new long[] { 0, 1, 100, 101 });
        var options = new SsldecOptions { PretrainEpochs = 50, LearningRate = 1e-2, Rounds = 3, StableFraction = 0, Targets = RoundTargets.PseudoLabels, Seed = 1 };
        using var trainer = new Trainer { Progress = new SilentProgress() };
        // A threshold above 1 gives no pseudo-label: each round's epoch is the 4 labelled points of the 204.
        using (var none = new Ssldec(new ClusteringNetwork(Mlp.Create(2, [8], 2), 2, 2), options with { PseudoLabelThreshold = 1.01 }))
        {
            none.Fit(x.index_select(0, labelled), y.index_select(0, labelled), x, trainer);
            Assert.All(none.Rounds, r => Assert.Equal(4.0 / 204, r.TrainedFraction, 12));
        }
        // A threshold of 0 labels every unlabelled point: the epoch is all 204.
        using var all = new Ssldec(new ClusteringNetwork(Mlp.Create(2, [8], 2), 2, 2), options with { PseudoLabelThreshold = 0 });
        all.Fit(x.index_select(0, labelled), y.index_select(0, labelled), x, trainer);
        Assert.All(all.Rounds, r => Assert.Equal(1.0, r.TrainedFraction, 12));
    }

    [Fact]
    public void SsldecWithoutRoundsIsTheSupervisedModelOfTheSameSeed()
    {
        // What pairs the protocol's models: SSLDEC's start is the supervised-only model with the same seed, whatever the seed.
        foreach (var seed in new[] { 7, 1234 })
        {
            var data = MedSsl.Data.Moons.Make(200, 0.1, seed);
            var (x, yAll) = data.ToTensors();
            var labelled = torch.tensor(MedSsl.Data.LabelledPicker.PerClass(data.Y, 4, seed).Select(i => (long)i).ToArray());
            using var trainer = new Trainer { Progress = new SilentProgress() };
            var options = MedSsl.Experiments.SsldecHalfMoons.Options(seed, MedSsl.Experiments.HalfMoonsModel.Ssldec) with { PretrainEpochs = 20 };
            using var supervised = MedSsl.Experiments.SsldecHalfMoons.NewModel(seed, options).FitSupervised(x.index_select(0, labelled), yAll.index_select(0, labelled), trainer);
            using var start = MedSsl.Experiments.SsldecHalfMoons.NewModel(seed, options with { Rounds = 0 });
            start.Fit(x.index_select(0, labelled), yAll.index_select(0, labelled), x, trainer);
            Assert.Equal(supervised.Predict(x).data<float>().ToArray(), start.Predict(x).data<float>().ToArray());
        }
    }

    [Fact]
    public void FitLearnsAnEasyTwoClusterProblemThroughTheTrainer()
    {
        torch.manual_seed(0);
        var x = torch.cat([torch.randn(100, 2) * 0.3 - 2, torch.randn(100, 2) * 0.3 + 2]);
        var y = torch.cat([torch.zeros([100], ScalarType.Int64), torch.ones([100], ScalarType.Int64)]);
        var labelled = torch.tensor(new long[] { 0, 1, 100, 101 });
        using var model = new Ssldec(new ClusteringNetwork(Mlp.Create(2, [8], 2), 2, 2), new SsldecOptions { PretrainEpochs = 50, LearningRate = 1e-2, Rounds = 5, Seed = 1 });
        using var trainer = new Trainer { Progress = new SilentProgress() };
        model.Fit(x.index_select(0, labelled), y.index_select(0, labelled), x, trainer);
        Assert.Equal(1.0, Classification.Accuracy(y, model.PredictLabels(x)));
        Assert.Equal(50, trainer.History.Count(s => s.Phase == "pretrain"));
        Assert.InRange(model.Rounds.Count, 1, 5);
        Assert.All(model.Rounds, r => Assert.True(r.KlLoss >= 0 && r.LabelledAccuracy == 1.0));
        Assert.All(trainer.History, s => Assert.True(s.Losses["kl"] >= 0));
    }
}

public class HalfMoonsPlacementTests
{
    [Fact]
    public void WellSpreadLabelsSitEvenlyAlongEachMoon()
    {
        var data = MedSsl.Data.Moons.Make(1000, 0.1, seed: 3);
        var chosen = MedSsl.Data.Moons.WellSpread(data, 4);
        Assert.Equal(8, chosen.Distinct().Count());
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1], chosen.Select(i => data.Y[i]));
        // Angles around each moon's centre land near (k + ½)·π/4, in order.
        var angles = chosen.Select(i => data.Y[i] == 0 ? Math.Atan2(data[i, 1], data[i, 0]) : Math.Atan2(0.5 - data[i, 1], 1 - data[i, 0])).ToArray();
        for (var k = 0; k < 8; k++) Assert.InRange(angles[k], (k % 4 + 0.5) * Math.PI / 4 - 0.1, (k % 4 + 0.5) * Math.PI / 4 + 0.1);
    }
}

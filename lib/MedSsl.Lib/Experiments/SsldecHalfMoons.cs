using MedSsl.Data;
using MedSsl.Methods;
using MedSsl.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Experiments;

/// <summary>One seed of the half-moons experiment: the data, which points were labelled, and both models.</summary>
public sealed record HalfMoonsRun(int Seed, PointDataset Data, int[] Labelled, Ssldec Supervised, Ssldec Semisupervised) : IDisposable
{
    /// <summary>Accuracy over all points of the supervised-only model (Figure 4b).</summary>
    public double SupervisedAccuracy => Accuracy(Supervised);

    /// <summary>Accuracy over all points after SSLDEC (Figure 4c; the paper reports 99.8 %).</summary>
    public double SsldecAccuracy => Accuracy(Semisupervised);

    /// <summary>KL(P‖Q) of the supervised-only model over all points (eq. 3, P from eq. 2): computed without labels.</summary>
    public double SupervisedClusteringLoss => ClusteringLoss(Supervised);

    /// <summary>KL(P‖Q) after SSLDEC over all points: a split that cuts through a moon leaves the points near the
    /// cut unsure, so a failed run shows up here without any label (docs/methods/ssldec.md).</summary>
    public double SsldecClusteringLoss => ClusteringLoss(Semisupervised);

    private double Accuracy(Ssldec model)
    {
        using var scope = torch.NewDisposeScope();
        var (x, y) = Data.ToTensors();
        return model.PredictLabels(x).eq(y).to(ScalarType.Float64).mean().ToDouble();
    }

    private double ClusteringLoss(Ssldec model)
    {
        using var scope = torch.NewDisposeScope();
        var q = model.Predict(Data.ToTensors().X);
        return Ssldec.KlDivergence(Ssldec.TargetDistribution(q), q).ToDouble();
    }

    public void Dispose()
    {
        Supervised.Dispose();
        Semisupervised.Dispose();
    }
}

/// <summary>How the labelled points are chosen: at random within each moon (the paper's protocol), or spread
/// evenly along each moon (the "fairly distributed" points behind the paper's 99.8 %).</summary>
public enum LabelPlacement { Random, WellSpread }

/// <summary>SSLDEC's half-moons demonstration (Enguehard et al. §IV-C, Figure 4): 1000 points, noise 0.1,
/// 4 labelled points per moon, a 4 × Dense(10, ReLU) → Dense(2) network under the clustering layer.</summary>
public static class SsldecHalfMoons
{
    public const int Points = 1000;
    public const double Noise = 0.1;
    public const int LabelledPerMoon = 4;

    /// <summary>The paper's network: 2 → 4 × Dense(10, ReLU) → Dense(2) embedding.</summary>
    public static Ssldec NewModel(int seed, SsldecOptions? options = null)
    {
        torch.manual_seed(seed);
        return new Ssldec(Mlp.Create(2, [10, 10, 10, 10], 2), embeddingDim: 2, classes: 2, options ?? SsldecOptions.HalfMoons((ulong)seed));
    }

    /// <summary>Draws the moons and the labelled points for a seed, then trains the supervised-only
    /// baseline and SSLDEC from the same initial weights.</summary>
    public static HalfMoonsRun Run(int seed, SsldecOptions? options = null, IProgress<SsldecProgress>? progress = null,
        LabelPlacement placement = LabelPlacement.Random)
    {
        var data = Moons.Make(Points, Noise, seed);
        var labelled = placement == LabelPlacement.Random ? LabelledPicker.PerClass(data.Y, LabelledPerMoon, seed) : WellSpread(data);
        // Modules are made outside the dispose scope: TorchSharp would dispose their parameters with it.
        var supervised = NewModel(seed, options);
        var ssldec = NewModel(seed, options);
        using var scope = torch.NewDisposeScope();
        var (x, y) = data.ToTensors();
        using var labelledIndex = torch.tensor(labelled.Select(i => (long)i).ToArray());
        using var unlabelledIndex = torch.tensor(LabelledPicker.Rest(data.Count, labelled).Select(i => (long)i).ToArray());
        var xLabelled = x.index_select(0, labelledIndex);
        var yLabelled = y.index_select(0, labelledIndex);
        supervised.FitSupervised(xLabelled, yLabelled);
        ssldec.Fit(xLabelled, yLabelled, x.index_select(0, unlabelledIndex), progress);
        return new HalfMoonsRun(seed, data, labelled, supervised, ssldec);
    }

    /// <summary>For each moon, the points nearest to evenly spaced positions along its arc: angles (k + ½)·π/4 around
    /// the moon's centre — (0, 0) for the upper moon, (1, 0.5) for the lower one, as make_moons draws them.</summary>
    public static int[] WellSpread(PointDataset data)
    {
        double Angle(int i) => data.Y[i] == 0 ? Math.Atan2(data[i, 1], data[i, 0]) : Math.Atan2(0.5 - data[i, 1], 1 - data[i, 0]);
        return [.. Enumerable.Range(0, 2).SelectMany(moon => Enumerable.Range(0, LabelledPerMoon).Select(k =>
        {
            var target = (k + 0.5) * Math.PI / LabelledPerMoon;
            return Enumerable.Range(0, data.Count).Where(i => data.Y[i] == moon).MinBy(i => Math.Abs(Angle(i) - target));
        }))];
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Reports;

/// <summary>Decision boundaries of 2-D classifiers (half-moons, rings): a model's class probability on a
/// grid, drawn as a contour map to overlay data points on.</summary>
public static class DecisionBoundary
{
    /// <summary>Evaluates <paramref name="probability"/> (points [N, 2] → P(class 1) [N]) without gradients on a
    /// resolution × resolution grid over the box and draws it as a contour (Figure 4 of the SSLDEC paper).</summary>
    public static Figure Contour(Func<Tensor, Tensor> probability, (double Min, double Max) x, (double Min, double Max) y,
        string? title = null, int resolution = 80)
    {
        if (resolution < 2) throw new ArgumentOutOfRangeException(nameof(resolution), resolution, "a grid needs at least 2 points per axis");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var xs = torch.linspace(x.Min, x.Max, resolution);
        var ys = torch.linspace(y.Min, y.Max, resolution);
        var grid = torch.meshgrid([ys, xs]);                          // row i: y = ys[i]; column j: x = xs[j]
        var points = torch.stack([grid[1].flatten(), grid[0].flatten()], 1);
        var values = probability(points).to(ScalarType.Float64).reshape(resolution, resolution).data<double>().ToArray();
        var z = new double[resolution, resolution];
        Buffer.BlockCopy(values, 0, z, 0, values.Length * sizeof(double));
        return Plot.Contour(z, xs.to(ScalarType.Float64).data<double>().ToArray(), ys.to(ScalarType.Float64).data<double>().ToArray(), title);
    }

    /// <summary>The points' bounding box widened by <paramref name="margin"/> on every side.</summary>
    public static ((double Min, double Max) X, (double Min, double Max) Y) Box(double[] xs, double[] ys, double margin = 0.5) =>
        ((xs.Min() - margin, xs.Max() + margin), (ys.Min() - margin, ys.Max() + margin));
}

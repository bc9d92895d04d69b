using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Data;

/// <summary>Labelled points in d dimensions (the half-moons toy problem): <c>X</c> row-major [n, d] and one class
/// index per point. Raw storage is .NET arrays; <see cref="ToTensors"/> makes tensors on demand.</summary>
public sealed class PointDataset
{
    /// <summary>Row-major coordinates, length <c>Count * Dimensions</c>.</summary>
    public double[] X { get; }

    /// <summary>Class index of each point, 0 .. <c>ClassCount - 1</c>.</summary>
    public int[] Y { get; }

    public int Dimensions { get; }
    public int Count => Y.Length;
    public int ClassCount { get; }

    public PointDataset(double[] x, int[] y, int dimensions)
    {
        if (dimensions <= 0) throw new ArgumentOutOfRangeException(nameof(dimensions));
        if (x.Length != y.Length * dimensions)
            throw new ArgumentException($"X holds {x.Length} values, expected {y.Length} points × {dimensions}");
        if (y.Any(c => c < 0)) throw new ArgumentException("class indices must be ≥ 0");
        X = x;
        Y = y;
        Dimensions = dimensions;
        ClassCount = y.Length == 0 ? 0 : y.Max() + 1;
    }

    public double this[int point, int dim] => X[point * Dimensions + dim];

    /// <summary>One coordinate of every point, e.g. for a scatter plot's x values.</summary>
    public double[] Column(int dim)
    {
        if (dim < 0 || dim >= Dimensions) throw new ArgumentOutOfRangeException(nameof(dim), dim, $"points have {Dimensions} coordinates");
        return [.. Enumerable.Range(0, Count).Select(i => this[i, dim])];
    }

    /// <summary>(X [n, d] float32, y [n] int64), fresh tensors the caller owns.</summary>
    public (Tensor X, Tensor y) ToTensors()
    {
        var xs = Array.ConvertAll(X, v => (float)v);
        var ys = Array.ConvertAll(Y, v => (long)v);
        return (torch.tensor(xs, Count, Dimensions), torch.tensor(ys, [Count]));
    }

    /// <summary>The points at the given indices, in that order.</summary>
    public PointDataset Subset(IReadOnlyList<int> indices)
    {
        var x = new double[indices.Count * Dimensions];
        var y = new int[indices.Count];
        for (var k = 0; k < indices.Count; k++)
        {
            Array.Copy(X, indices[k] * Dimensions, x, k * Dimensions, Dimensions);
            y[k] = Y[indices[k]];
        }
        return new PointDataset(x, y, Dimensions);
    }
}

using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Embedding;

/// <summary>A square sparse matrix in compressed rows: row i's entries are Values[RowStart[i]..RowStart[i + 1]),
/// in the columns Columns[…], sorted.</summary>
public sealed record SparseMatrix(int Size, int[] RowStart, int[] Columns, double[] Values)
{
    public int Count => RowStart[Size];

    /// <summary>The entry (i, j), 0 where none is stored.</summary>
    public double this[int i, int j]
    {
        get
        {
            var k = Array.BinarySearch(Columns, RowStart[i], RowStart[i + 1] - RowStart[i], j);
            return k >= 0 ? Values[k] : 0;
        }
    }
}

/// <summary>t-SNE's input similarities: Gaussian conditionals p_{j|i} whose precision is fitted to the perplexity,
/// symmetrised into joint probabilities p_ij = (p_{j|i} + p_{i|j}) / 2N (van der Maaten &amp; Hinton 2008, §2 and §3.1;
/// van der Maaten 2014, §4 "Approximating input similarities" for the sparse form on the 3·perplexity nearest neighbours).</summary>
public static class TsneAffinities
{
    private const double MachineEpsilon = 2.220446049250313e-16;

    /// <summary>sklearn's neighbour count for Barnes–Hut: min(N − 1, ⌊3·perplexity + 1⌋) (van der Maaten 2014, §4).</summary>
    public static int NeighbourCount(int n, double perplexity) => Math.Min(n - 1, (int)(3.0 * perplexity + 1));

    /// <summary>The k nearest neighbours of every row of x [N, D] (Euclidean, the row itself excluded), nearest
    /// first: indices and squared distances, both [N·k] row-major. Exact: squared distances
    /// ‖a‖² + ‖b‖² − 2a·b from float64 matrix products, 512 rows at a time (O(512·N) memory), then top-k.</summary>
    public static (int[] Indices, double[] SquaredDistances) NearestNeighbours(Tensor x, int k)
    {
        if (x.dim() != 2) throw new ArgumentException($"NearestNeighbours: expected data [N, D], got [{string.Join(", ", x.shape)}]", nameof(x));
        var n = (int)x.size(0);
        if (k < 1 || k >= n) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in [1, N = {n})");
        var indices = new int[n * k];
        var distances = new double[n * k];
        using var scope = torch.NewDisposeScope();
        var data = x.detach().to(ScalarType.Float64, disposeAfter: false).contiguous();
        var norms = (data * data).sum(1);
        const int block = 512;
        for (var start = 0; start < n; start += block)
        {
            using var blockScope = torch.NewDisposeScope();
            var rows = Math.Min(block, n - start);
            var part = data.narrow(0, start, rows);
            var squared = part.CheckedMatMul(data.t()).mul_(-2.0).add_(norms.narrow(0, start, rows).unsqueeze(1)).add_(norms.unsqueeze(0)).clamp_(min: 0);
            using (var self = squared.diagonal(offset: start)) self.fill_(double.PositiveInfinity);
            var (values, columns) = squared.topk(k, dim: 1, largest: false, sorted: true);
            values.cpu().data<double>().CopyTo(distances.AsSpan(start * k, rows * k));
            var longs = columns.cpu().data<long>().ToArray();
            for (var i = 0; i < longs.Length; i++) indices[start * k + i] = (int)longs[i];
        }
        return (indices, distances);
    }

    /// <summary>The conditional Gaussian p_{j|i} ∝ exp(−β d²ᵢⱼ) over one row of squared distances, with β found by
    /// bisection so that the entropy H = log Σ + β·Σⱼ d²ᵢⱼ p_{j|i} equals log(perplexity) within 10⁻⁵
    /// (van der Maaten &amp; Hinton 2008, §2; sklearn's _binary_search_perplexity: β starts at 1, doubles or halves
    /// until the target is bracketed, then bisects, 100 steps at most). Writes p_{j|i} into p; returns β.</summary>
    public static double ConditionalProbabilities(ReadOnlySpan<double> squaredDistances, double perplexity, Span<double> p)
    {
        if (p.Length != squaredDistances.Length) throw new ArgumentException("ConditionalProbabilities: p and the distances differ in length", nameof(p));
        var target = Math.Log(perplexity);
        double beta = 1, low = double.NegativeInfinity, high = double.PositiveInfinity;
        for (var step = 0; step < 100; step++)
        {
            double sum = 0;
            for (var j = 0; j < p.Length; j++) sum += p[j] = Math.Exp(-squaredDistances[j] * beta);
            if (sum == 0) sum = 1e-8;
            double weighted = 0;
            for (var j = 0; j < p.Length; j++) weighted += squaredDistances[j] * (p[j] /= sum);
            var difference = Math.Log(sum) + beta * weighted - target;
            if (Math.Abs(difference) <= 1e-5) break;
            if (difference > 0)   // too flat: sharpen
            {
                low = beta;
                beta = double.IsPositiveInfinity(high) ? beta * 2 : (beta + high) / 2;
            }
            else
            {
                high = beta;
                beta = double.IsNegativeInfinity(low) ? beta / 2 : (beta + low) / 2;
            }
        }
        return beta;
    }

    /// <summary>Sparse joint probabilities for Barnes–Hut t-SNE (van der Maaten 2014, §4; sklearn's
    /// _joint_probabilities_nn): conditionals on the ⌊3·perplexity + 1⌋ nearest neighbours, P = (C + Cᵀ) / Σ(C + Cᵀ).</summary>
    public static SparseMatrix NearestNeighbourJointProbabilities(Tensor x, double perplexity)
    {
        var n = (int)x.size(0);
        var k = NeighbourCount(n, perplexity);
        var (neighbours, distances) = NearestNeighbours(x, k);
        var conditional = new double[n * k];
        Parallel.For(0, n, i => ConditionalProbabilities(distances.AsSpan(i * k, k), perplexity, conditional.AsSpan(i * k, k)));
        return Symmetrise(n, k, neighbours, conditional);
    }

    /// <summary>(C + Cᵀ) / Σ for C with k stored entries per row: the union of both patterns, sorted by column.</summary>
    private static SparseMatrix Symmetrise(int n, int k, int[] columns, double[] values)
    {
        var rowStart = new int[n + 1];
        for (var i = 0; i < n; i++)
        {
            rowStart[i + 1] += k;
            for (var e = i * k; e < (i + 1) * k; e++) rowStart[columns[e] + 1]++;
        }
        for (var i = 0; i < n; i++) rowStart[i + 1] += rowStart[i];
        var fill = rowStart[..n];
        var outColumns = new int[rowStart[n]];
        var outValues = new double[rowStart[n]];
        for (var i = 0; i < n; i++)
            for (var e = i * k; e < (i + 1) * k; e++)
            {
                var j = columns[e];
                outColumns[fill[i]] = j; outValues[fill[i]++] = values[e];
                outColumns[fill[j]] = i; outValues[fill[j]++] = values[e];
            }
        // Sort each row by column and merge the pairs stored twice (j in i's list and i in j's).
        var write = 0;
        double total = 0;
        for (var i = 0; i < n; i++)
        {
            int start = rowStart[i], end = rowStart[i + 1];
            Array.Sort(outColumns, outValues, start, end - start);
            rowStart[i] = write;
            for (var e = start; e < end; e++)
            {
                if (write > rowStart[i] && outColumns[write - 1] == outColumns[e]) outValues[write - 1] += outValues[e];
                else { outColumns[write] = outColumns[e]; outValues[write++] = outValues[e]; }
                total += outValues[e];
            }
        }
        rowStart[n] = write;
        total = Math.Max(total, MachineEpsilon);
        Array.Resize(ref outColumns, write);
        Array.Resize(ref outValues, write);
        for (var e = 0; e < write; e++) outValues[e] /= total;
        return new SparseMatrix(n, rowStart, outColumns, outValues);
    }

    /// <summary>Dense joint probabilities for exact t-SNE (van der Maaten &amp; Hinton 2008, §2; sklearn's
    /// _joint_probabilities): conditionals over all other points, P = max((C + Cᵀ) / Σ, ε) off the diagonal, as a
    /// tensor [N, N] of the given dtype.</summary>
    public static Tensor DenseJointProbabilities(Tensor x, double perplexity, ScalarType dtype)
    {
        var n = (int)x.size(0);
        using var scope = torch.NewDisposeScope();
        var data = x.detach().to(ScalarType.Float64, disposeAfter: false);
        var norms = (data * data).sum(1, keepdim: true);
        var squared = data.CheckedMatMul(data.t()).mul_(-2.0).add_(norms).add_(norms.t()).clamp_(min: 0);
        var distances = squared.cpu().data<double>().ToArray();
        var conditional = new double[n * n];
        Parallel.For(0, n, () => new double[2 * (n - 1)], (i, _, buffer) =>
        {
            // Row i without its diagonal entry.
            var row = buffer.AsSpan(0, n - 1);
            var p = buffer.AsSpan(n - 1);
            distances.AsSpan(i * n, i).CopyTo(row);
            distances.AsSpan(i * n + i + 1, n - 1 - i).CopyTo(row[i..]);
            ConditionalProbabilities(row, perplexity, p);
            p[..i].CopyTo(conditional.AsSpan(i * n, i));
            p[i..].CopyTo(conditional.AsSpan(i * n + i + 1, n - 1 - i));
            return buffer;
        }, _ => { });
        var c = torch.tensor(conditional, [n, n], ScalarType.Float64);
        var joint = c + c.t();
        var total = Math.Max(joint.sum().ToDouble(), MachineEpsilon);
        joint.div_(total).clamp_(min: MachineEpsilon);
        using (var diagonal = joint.diagonal()) diagonal.fill_(0);
        return joint.to(dtype).MoveToOuterDisposeScope();
    }
}

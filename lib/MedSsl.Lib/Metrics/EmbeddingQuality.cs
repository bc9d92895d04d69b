using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Metrics;

/// <summary>Trustworthiness of an embedding (Venna &amp; Kaski 2001), as sklearn.manifold.trustworthiness:
/// T(k) = 1 − 2 / (n k (2n − 3k − 1)) · Σᵢ Σ_{j ∈ N_k^emb(i)} max(0, r(i, j) − k),
/// where r(i, j) is the rank of j among i's neighbours in the input space (nearest = 1). It penalises
/// points that the embedding brings close although they were far apart. Euclidean distances; ties in the
/// input space are ranked by index.</summary>
public static class EmbeddingQuality
{
    public static double Trustworthiness(double[,] x, double[,] embedding, int k = 5)
    {
        int n = x.GetLength(0);
        if (embedding.GetLength(0) != n)
            throw new ArgumentException($"x has {n} rows but the embedding has {embedding.GetLength(0)}", nameof(embedding));
        if (k < 1 || k >= n / 2.0)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in [1, n/2) with n = {n}");
        var rank = new int[n];
        var order = new int[n];
        var distances = new double[n];
        double penalty = 0;
        for (var i = 0; i < n; i++)
        {
            // Ranks of all points around i in the input space (i itself gets rank 0).
            SquaredDistances(x, i, distances);
            distances[i] = double.NegativeInfinity;
            SortedIndices(distances, order);
            for (var r = 0; r < n; r++) rank[order[r]] = r;
            // The k nearest neighbours of i in the embedding.
            SquaredDistances(embedding, i, distances);
            distances[i] = double.NegativeInfinity;
            SortedIndices(distances, order);
            for (var r = 1; r <= k; r++) penalty += Math.Max(0, rank[order[r]] - k);
        }
        return 1 - penalty * 2.0 / (n * (double)k * (2.0 * n - 3.0 * k - 1.0));
    }

    /// <summary>Tensors [n, d] and [n, e] (any float dtype, any device).</summary>
    public static double Trustworthiness(Tensor x, Tensor embedding, int k = 5) =>
        Trustworthiness(ToMatrix(x), ToMatrix(embedding), k);

    internal static double[,] ToMatrix(Tensor t)
    {
        if (t.dim() != 2) throw new ArgumentException($"expected a 2-d tensor [n, d], got [{string.Join(", ", t.shape)}]");
        using var d = t.detach().cpu().to(ScalarType.Float64).contiguous();
        var flat = d.data<double>().ToArray();
        var m = new double[t.size(0), t.size(1)];
        Buffer.BlockCopy(flat, 0, m, 0, flat.Length * sizeof(double));
        return m;
    }

    private static void SquaredDistances(double[,] points, int i, double[] into)
    {
        int n = points.GetLength(0), d = points.GetLength(1);
        for (var j = 0; j < n; j++)
        {
            double s = 0;
            for (var c = 0; c < d; c++) { var diff = points[i, c] - points[j, c]; s += diff * diff; }
            into[j] = s;
        }
    }

    /// <summary>Indices sorted by distance, ties by index (a stable order).</summary>
    private static void SortedIndices(double[] distances, int[] order)
    {
        for (var j = 0; j < order.Length; j++) order[j] = j;
        Array.Sort(order, (p, q) => distances[p] != distances[q] ? distances[p].CompareTo(distances[q]) : p.CompareTo(q));
    }
}

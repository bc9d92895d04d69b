using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Metrics;

/// <summary>How good an embedding is: whether it keeps neighbourhoods (<see cref="Trustworthiness(double[,], double[,], int)"/>)
/// and whether it is spread out or collapsed (<see cref="Spread"/>).</summary>
public static class EmbeddingQuality
{
    /// <summary>Trustworthiness of an embedding (Venna &amp; Kaski 2001), as sklearn.manifold.trustworthiness:
    /// T(k) = 1 − 2 / (n k (2n − 3k − 1)) · Σᵢ Σ_{j ∈ N_k^emb(i)} max(0, r(i, j) − k),
    /// where r(i, j) is the rank of j among i's neighbours in the input space (nearest = 1). It penalises
    /// points that the embedding brings close although they were far apart. Euclidean distances; ties in the
    /// input space are ranked by index.</summary>
    public static double Trustworthiness(double[,] x, double[,] embedding, int k = 5)
    {
        int n = x.GetLength(0);
        if (embedding.GetLength(0) != n)
            throw new ArgumentException($"x has {n} rows but the embedding has {embedding.GetLength(0)}", nameof(embedding));
        if (k < 1 || k >= n / 2.0)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in [1, n/2) with n = {n}");
        // Per point: its k nearest in the embedding, then each one's input rank counted directly (O(n) per
        // neighbour) instead of sorting all n input distances. The penalty is an integer sum: the same in any order.
        long penalty = 0;
        Parallel.For(0, n, () => (Input: new double[n], Embedded: new double[n], Nearest: new int[k], Sum: 0L), (i, _, work) =>
        {
            SquaredDistances(x, i, work.Input);
            SquaredDistances(embedding, i, work.Embedded);
            Nearest(work.Embedded, i, work.Nearest);
            foreach (var j in work.Nearest)
            {
                // r(i, j): 1 + the points other than i closer to i than j in the input space (ties by index).
                var rank = 1;
                var dj = work.Input[j];
                for (var m = 0; m < n; m++)
                    if (m != i && (work.Input[m] < dj || (work.Input[m] == dj && m < j))) rank++;
                work.Sum += Math.Max(0, rank - k);
            }
            return work;
        }, work => Interlocked.Add(ref penalty, work.Sum));
        return 1 - penalty * 2.0 / (n * (double)k * (2.0 * n - 3.0 * k - 1.0));
    }

    /// <summary>Tensors [n, d] and [n, e] (any float dtype, any device).</summary>
    public static double Trustworthiness(Tensor x, Tensor embedding, int k = 5) =>
        Trustworthiness(ToMatrix(x), ToMatrix(embedding), k);

    /// <summary>Spread of features [N, D] (N ≥ 2): the features ℓ2-normalised per image, their standard deviation over
    /// images (n − 1), averaged over dimensions, × √D. About 1 for features spread evenly in all directions, 0 when every
    /// image has the same feature direction (a collapsed embedding).</summary>
    public static double Spread(Tensor features)
    {
        if (features.dim() != 2 || features.size(0) < 2)
            throw new ArgumentException($"the spread takes features [N, D] of at least 2 images, got [{string.Join(", ", features.shape)}]", nameof(features));
        using var scope = torch.NewDisposeScope();
        return nn.functional.normalize(features, p: 2, dim: 1).std([0]).mean().ToDouble() * Math.Sqrt(features.size(1));
    }

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

    /// <summary>The nearest.Length points other than i with the smallest distances, ties by index, nearest first.</summary>
    private static void Nearest(double[] distances, int i, int[] nearest)
    {
        var count = 0;
        for (var m = 0; m < distances.Length; m++)
        {
            if (m == i) continue;
            var d = distances[m];
            if (count == nearest.Length && d >= distances[nearest[count - 1]]) continue;   // m > every index kept: it loses ties
            var at = count == nearest.Length ? count - 1 : count++;
            while (at > 0 && distances[nearest[at - 1]] > d) { nearest[at] = nearest[at - 1]; at--; }
            nearest[at] = m;
        }
    }
}

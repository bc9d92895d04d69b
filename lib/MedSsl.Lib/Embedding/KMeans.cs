using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Embedding;

/// <summary>A k-means clustering: centroids [K, D], the label of each point [N] and the inertia Σ‖x − μ_label‖².</summary>
public sealed record KMeansResult(Tensor Centroids, Tensor Labels, double Inertia, int Iterations) : IDisposable
{
    public void Dispose()
    {
        Centroids.Dispose();
        Labels.Dispose();
    }
}

/// <summary>Lloyd's k-means with k-means++ seeding (Arthur &amp; Vassilvitskii 2007), in libtorch: PiCIE's clustering
/// step (Cho et al. 2021, §3.1; their code runs faiss k-means on sampled pixel features). All randomness comes from the
/// generator. A cluster that loses all its points is re-seeded at the point farthest from its centroid, as
/// scikit-learn does.</summary>
public static class KMeans
{
    /// <summary>Clusters points [N, D] into <paramref name="k"/> groups: k-means++ seeding, then at most
    /// <paramref name="iterations"/> Lloyd steps (assign to the nearest centroid, move centroids to their means), stopping
    /// when no label changes.</summary>
    public static KMeansResult Fit(Tensor points, int k, Generator generator, int iterations = 10)
    {
        if (points.dim() != 2) throw new ArgumentException($"k-means takes points [N, D], got [{string.Join(", ", points.shape)}]", nameof(points));
        if (k < 1 || k > points.size(0)) throw new ArgumentOutOfRangeException(nameof(k), k, $"need 1 ≤ k ≤ {points.size(0)} points");
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = points.detach();
        var centroids = PlusPlus(x, k, generator);
        var labels = Assign(x, centroids).Labels;
        var done = 0;
        for (var it = 0; it < iterations; it++)
        {
            centroids = Means(x, labels, centroids);
            var next = Assign(x, centroids).Labels;
            done = it + 1;
            var changed = !next.equal(labels).all().ToBoolean();
            labels = next;
            if (!changed) break;
        }
        var (finalLabels, distances) = Assign(x, centroids);
        var inertia = distances.sum().ToDouble();
        return new KMeansResult(centroids.MoveToOuterDisposeScope(), finalLabels.MoveToOuterDisposeScope(), inertia, done);
    }

    /// <summary>k-means++: the first centroid uniformly, each next one with probability ∝ squared distance to the nearest
    /// centroid chosen so far.</summary>
    public static Tensor PlusPlus(Tensor points, int k, Generator generator)
    {
        using var scope = NewDisposeScope();
        var n = points.size(0);
        var chosen = new List<long> { torch.randint(0, n, [1], generator: generator).ToInt64() };
        var nearest = SquaredDistances(points, points[chosen[0]].unsqueeze(0)).squeeze(1);
        while (chosen.Count < k)
        {
            var total = nearest.sum().ToDouble();
            // All remaining points coincide with centroids: any unused point will do.
            var next = total > 0
                ? torch.multinomial(nearest.to(ScalarType.Float64), 1, generator: generator).ToInt64()
                : Enumerable.Range(0, (int)n).First(i => !chosen.Contains(i));
            chosen.Add(next);
            nearest = torch.minimum(nearest, SquaredDistances(points, points[next].unsqueeze(0)).squeeze(1));
        }
        return points.index_select(0, torch.tensor(chosen.ToArray())).clone().MoveToOuterDisposeScope();
    }

    /// <summary>Nearest centroid of each point and its squared distance.</summary>
    public static (Tensor Labels, Tensor Distances) Assign(Tensor points, Tensor centroids)
    {
        using var scope = NewDisposeScope();
        var (distances, labels) = SquaredDistances(points, centroids).min(1);
        return (labels.MoveToOuterDisposeScope(), distances.MoveToOuterDisposeScope());
    }

    /// <summary>‖x_i − μ_j‖² [N, K], clamped at 0 against rounding.</summary>
    public static Tensor SquaredDistances(Tensor points, Tensor centroids)
    {
        using var scope = NewDisposeScope();
        var d = points.pow(2).sum(1, keepdim: true) - 2 * points.mm(centroids.t()) + centroids.pow(2).sum(1).unsqueeze(0);
        return d.clamp_min(0).MoveToOuterDisposeScope();
    }

    private static Tensor Means(Tensor points, Tensor labels, Tensor previous)
    {
        var k = previous.size(0);
        var sums = torch.zeros_like(previous).index_add_(0, labels, points, 1);
        var counts = torch.zeros([k], points.dtype).index_add_(0, labels, torch.ones([points.size(0)], points.dtype), 1);
        var means = sums / counts.clamp_min(1).unsqueeze(1);
        var empty = counts.eq(0);
        if (empty.any().ToBoolean())
        {
            // Farthest points from their own centroids take the empty clusters' places.
            var own = SquaredDistances(points, previous).gather(1, labels.unsqueeze(1)).squeeze(1);
            var order = own.argsort(descending: true);
            var take = 0;
            for (var j = 0; j < k; j++)
                if (empty[j].ToBoolean()) means[j] = points[order[take++]];
        }
        return means;
    }
}

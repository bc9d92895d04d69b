namespace MedSsl.Metrics;

/// <summary>How a partition's cluster sizes compare with other sizes as a shape. Clusters carry no identity, so sizes
/// are sorted from largest to smallest before they are compared: how unbalanced a clustering is against how unbalanced
/// the true classes (or uniform sizes) are — what the cluster-size terms of PICA (L_NE) and L_SD act on (Dadoun et al.
/// 2022, §2.2.1–2.2.2).</summary>
public static class ClusterSizes
{
    /// <summary>Total variation ½ Σ_k |s_(k) − f_(k)| between two distributions each normalised and sorted from largest
    /// to smallest (the shorter padded with zeros): 0 when the shapes agree; below 1.</summary>
    public static double SortedDistance(IReadOnlyList<double> sizes, IReadOnlyList<double> frequencies)
    {
        var a = SortedShares(sizes);
        var b = SortedShares(frequencies);
        var n = Math.Max(a.Length, b.Length);
        return 0.5 * Enumerable.Range(0, n).Sum(k => Math.Abs((k < a.Length ? a[k] : 0) - (k < b.Length ? b[k] : 0)));
    }

    /// <summary>Items per cluster as a fraction of all, largest first (all K clusters, empty ones as 0).</summary>
    public static double[] SortedFractions(IReadOnlyList<int> clusters, int k) =>
        [.. Enumerable.Range(0, k).Select(c => clusters.Count(x => x == c) / (double)clusters.Count).OrderDescending()];

    private static double[] SortedShares(IReadOnlyList<double> sizes)
    {
        var total = sizes.Sum();
        if (sizes.Count == 0 || total <= 0 || sizes.Any(x => x < 0)) throw new ArgumentException("a size distribution needs non-negative values with a positive sum");
        return [.. sizes.Select(x => x / total).OrderDescending()];
    }
}

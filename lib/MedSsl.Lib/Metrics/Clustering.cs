namespace MedSsl.Metrics;

/// <summary>Agreement between cluster assignments and true classes (labels are arbitrary integers;
/// the number of clusters may differ from the number of classes). Same definitions as sklearn.</summary>
public static class Clustering
{
    /// <summary>Clustering accuracy: the best one-to-one matching of clusters to classes (Hungarian
    /// algorithm on the contingency table), then the fraction of samples whose matched class is right.</summary>
    public static double Accuracy(IReadOnlyList<int> truth, IReadOnlyList<int> clusters)
    {
        var table = Contingency(truth, clusters);
        var match = LinearAssignment.Solve(table, maximize: true);
        var hits = match.Select((c, r) => c < 0 ? 0 : table[r, c]).Sum();
        return hits / truth.Count;
    }

    /// <summary>Normalised mutual information, MI / mean(H(truth), H(clusters)) (sklearn's default
    /// arithmetic normalisation); 1 when both sides put everything in one group.</summary>
    public static double Nmi(IReadOnlyList<int> truth, IReadOnlyList<int> clusters)
    {
        var table = Contingency(truth, clusters);
        int k = table.GetLength(0), c = table.GetLength(1);
        if (k == 1 && c == 1) return 1;
        double n = truth.Count;
        var a = RowSums(table);
        var b = ColumnSums(table);
        double mi = 0;
        for (var i = 0; i < k; i++)
            for (var j = 0; j < c; j++)
                if (table[i, j] > 0) mi += table[i, j] / n * Math.Log(n * table[i, j] / (a[i] * b[j]));
        double Entropy(double[] counts) => -counts.Where(x => x > 0).Sum(x => x / n * Math.Log(x / n));
        var normaliser = Math.Max((Entropy(a) + Entropy(b)) / 2, double.Epsilon);
        return Math.Max(mi, 0) / normaliser;
    }

    /// <summary>Adjusted Rand index (Hubert &amp; Arabie 1985) from the pair-confusion counts, as sklearn.</summary>
    public static double Ari(IReadOnlyList<int> truth, IReadOnlyList<int> clusters)
    {
        var table = Contingency(truth, clusters);
        double n = truth.Count;
        var sumSquares = table.Cast<double>().Sum(x => x * x);
        var bothSame = sumSquares - n;                                          // pairs together in both
        var onlyClusters = ColumnSums(table).Sum(x => x * x) - sumSquares;      // together only in the clusters
        var onlyTruth = RowSums(table).Sum(x => x * x) - sumSquares;            // together only in the truth
        var neither = n * n - onlyClusters - onlyTruth - sumSquares;
        if (onlyClusters == 0 && onlyTruth == 0) return 1;
        return 2 * (bothSame * neither - onlyTruth * onlyClusters) /
               ((bothSame + onlyTruth) * (onlyTruth + neither) + (bothSame + onlyClusters) * (onlyClusters + neither));
    }

    /// <summary>Purity: each cluster counts its most frequent true class; the sum over n.</summary>
    public static double Purity(IReadOnlyList<int> truth, IReadOnlyList<int> clusters)
    {
        var table = Contingency(truth, clusters);
        int k = table.GetLength(0), c = table.GetLength(1);
        double hits = 0;
        for (var j = 0; j < c; j++) hits += Enumerable.Range(0, k).Max(i => table[i, j]);
        return hits / truth.Count;
    }

    /// <summary>Counts [class, cluster] over the distinct values in sorted order.</summary>
    private static double[,] Contingency(IReadOnlyList<int> truth, IReadOnlyList<int> clusters)
    {
        MetricChecks.SameLength(truth, clusters, nameof(truth), nameof(clusters));
        var classIndex = truth.Distinct().Order().Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i);
        var clusterIndex = clusters.Distinct().Order().Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i);
        var table = new double[classIndex.Count, clusterIndex.Count];
        for (var s = 0; s < truth.Count; s++) table[classIndex[truth[s]], clusterIndex[clusters[s]]]++;
        return table;
    }

    private static double[] RowSums(double[,] t) =>
        Enumerable.Range(0, t.GetLength(0)).Select(i => Enumerable.Range(0, t.GetLength(1)).Sum(j => t[i, j])).ToArray();

    private static double[] ColumnSums(double[,] t) =>
        Enumerable.Range(0, t.GetLength(1)).Select(j => Enumerable.Range(0, t.GetLength(0)).Sum(i => t[i, j])).ToArray();
}

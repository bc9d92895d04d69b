using MedSsl.Metrics;

namespace MedSsl.Methods;

/// <summary>Algorithm 1 of Dadoun et al. 2022 (§2.2.3), matching clusters with multi-label targets: each cluster k
/// gets v̂_k = (1/|k|) Σ_{i ∈ k} v_i, the mean multi-label vector of the development images assigned to it; an image is
/// then scored with its cluster's vector, and each class is thresholded where F1 is highest on the development set
/// (§3.2), or at 0.5. Scikit-learn style: <see cref="Fit"/> on development data, then <see cref="Predict"/>.</summary>
public sealed class ClusterLabelMatching
{
    /// <summary>v̂ [K, C]: row k is cluster k's mean label vector. A cluster no development image falls in keeps the
    /// zero vector of Algorithm 1's initialisation (it predicts no label).</summary>
    public double[,] ClusterLabels { get; private set; } = new double[0, 0];

    /// <summary>|k|: development images per cluster.</summary>
    public int[] ClusterSizes { get; private set; } = [];

    /// <summary>Per-class thresholds maximising F1 on the development scores.</summary>
    public F1Thresholds Thresholds { get; } = new();

    public int Clusters => ClusterSizes.Length;

    /// <param name="assignments">argmax_k p_ik of every development image (Algorithm 1's input P)</param>
    /// <param name="labels">their multi-label vectors v_i [d, C]</param>
    /// <param name="clusters">K</param>
    public ClusterLabelMatching Fit(IReadOnlyList<int> assignments, bool[,] labels, int clusters)
    {
        int d = labels.GetLength(0), c = labels.GetLength(1);
        if (assignments.Count != d) throw new ArgumentException($"{assignments.Count} cluster assignments for {d} labelled development images", nameof(assignments));
        if (d == 0) throw new ArgumentException("Algorithm 1 needs at least one labelled development image", nameof(labels));
        CheckClusters(assignments, clusters);
        var sums = new double[clusters, c];
        var sizes = new int[clusters];
        for (var i = 0; i < d; i++)
        {
            sizes[assignments[i]]++;
            for (var j = 0; j < c; j++) if (labels[i, j]) sums[assignments[i], j]++;
        }
        for (var k = 0; k < clusters; k++)
            for (var j = 0; j < c; j++) sums[k, j] = sizes[k] == 0 ? 0 : sums[k, j] / sizes[k];
        ClusterLabels = sums;
        ClusterSizes = sizes;
        Thresholds.Fit(labels, Predict(assignments));
        return this;
    }

    /// <summary>Per-class scores [N, C]: each image's cluster's v̂.</summary>
    public double[,] Predict(IReadOnlyList<int> assignments)
    {
        if (Clusters == 0) throw new InvalidOperationException("ClusterLabelMatching: call Fit before Predict");
        CheckClusters(assignments, Clusters);
        var c = ClusterLabels.GetLength(1);
        var scores = new double[assignments.Count, c];
        for (var i = 0; i < assignments.Count; i++)
            for (var j = 0; j < c; j++) scores[i, j] = ClusterLabels[assignments[i], j];
        return scores;
    }

    /// <summary>Labels with the development set's F1-optimal thresholds (§3.2).</summary>
    public bool[,] PredictLabels(IReadOnlyList<int> assignments) => Thresholds.Predict(Predict(assignments));

    /// <summary>Labels with one threshold for every class (0.5: the cluster's majority).</summary>
    public bool[,] PredictLabels(IReadOnlyList<int> assignments, double threshold) =>
        MultiLabelReport.Binarize(Predict(assignments), Enumerable.Repeat(threshold, ClusterLabels.GetLength(1)).ToArray());

    private static void CheckClusters(IReadOnlyList<int> assignments, int clusters)
    {
        if (clusters < 1) throw new ArgumentOutOfRangeException(nameof(clusters), clusters, "at least one cluster");
        for (var i = 0; i < assignments.Count; i++)
            if (assignments[i] < 0 || assignments[i] >= clusters)
                throw new ArgumentOutOfRangeException(nameof(assignments), assignments[i], $"image {i} is assigned to cluster {assignments[i]}, outside 0..{clusters - 1}");
    }
}

namespace MedSsl.Metrics;

/// <summary>Per-class precision, recall and F1 of a multi-label prediction, with the support-weighted
/// average that Dadoun et al. (2022) report in Tables 1–2 ("weighted avg"). Same definitions as sklearn's
/// <c>precision_recall_fscore_support(..., zero_division=0)</c>: a class with no predicted (or no true)
/// positives scores 0, and the weighted average weights each class by its number of true positives.</summary>
public sealed record MultiLabelReport(double[] Precision, double[] Recall, double[] F1, int[] Support,
    double WeightedPrecision, double WeightedRecall, double WeightedF1)
{
    /// <summary>Scores predictions against truth; both are [samples, classes].</summary>
    public static MultiLabelReport Compute(bool[,] truth, bool[,] predicted)
    {
        MetricChecks.SameShape(truth, predicted, nameof(truth), nameof(predicted));
        int n = truth.GetLength(0), k = truth.GetLength(1);
        var precision = new double[k];
        var recall = new double[k];
        var f1 = new double[k];
        var support = new int[k];
        for (var c = 0; c < k; c++)
        {
            int tp = 0, fp = 0, fn = 0;
            for (var i = 0; i < n; i++)
            {
                if (predicted[i, c] && truth[i, c]) tp++;
                else if (predicted[i, c]) fp++;
                else if (truth[i, c]) fn++;
            }
            support[c] = tp + fn;
            precision[c] = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
            recall[c] = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
            // F1 from the counts (2TP / (2TP + FP + FN)), as sklearn: 0 when there is nothing to score.
            f1[c] = 2 * tp + fp + fn == 0 ? 0 : 2.0 * tp / (2 * tp + fp + fn);
        }
        double total = support.Sum();
        double Weighted(double[] v) => total == 0 ? 0 : v.Select((x, c) => x * support[c]).Sum() / total;
        return new MultiLabelReport(precision, recall, f1, support, Weighted(precision), Weighted(recall), Weighted(f1));
    }

    /// <summary>Positive where score ≥ threshold of its class.</summary>
    public static bool[,] Binarize(double[,] scores, IReadOnlyList<double> thresholds)
    {
        int n = scores.GetLength(0), k = scores.GetLength(1);
        if (thresholds.Count != k)
            throw new ArgumentException($"{thresholds.Count} thresholds for {k} classes", nameof(thresholds));
        var result = new bool[n, k];
        for (var i = 0; i < n; i++)
            for (var c = 0; c < k; c++)
                result[i, c] = scores[i, c] >= thresholds[c];
        return result;
    }
}

namespace MedSsl.Metrics;

/// <summary>Threshold-free binary metrics over scores: ROC AUC and average precision, as sklearn's
/// <c>roc_auc_score</c> and <c>average_precision_score</c> (tied scores form one threshold).</summary>
public static class Ranking
{
    /// <summary>Area under the ROC curve (trapezoids through the distinct thresholds).</summary>
    public static double RocAuc(IReadOnlyList<bool> positive, IReadOnlyList<double> score)
    {
        var (fpr, tpr) = RocCurve(positive, score);
        double area = 0;
        for (var i = 1; i < fpr.Length; i++) area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
        return area;
    }

    /// <summary>The ROC curve through (0, 0) and every distinct threshold, from the highest score down: false and true
    /// positive rates, as sklearn's <c>roc_curve(drop_intermediate=False)</c>.</summary>
    public static (double[] FalsePositiveRate, double[] TruePositiveRate) RocCurve(IReadOnlyList<bool> positive, IReadOnlyList<double> score)
    {
        var (tps, fps) = CumulativeCounts(positive, score);
        double p = tps[^1], q = fps[^1];
        if (p == 0 || q == 0) throw new ArgumentException("a ROC curve needs both positive and negative samples", nameof(positive));
        return ([0, .. fps.Select(f => f / q)], [0, .. tps.Select(t => t / p)]);
    }

    /// <summary>AP = Σₙ (Rₙ − Rₙ₋₁) Pₙ over the distinct thresholds (no interpolation), as sklearn.</summary>
    public static double AveragePrecision(IReadOnlyList<bool> positive, IReadOnlyList<double> score)
    {
        var (tps, fps) = CumulativeCounts(positive, score);
        double p = tps[^1];
        if (p == 0) throw new ArgumentException("average precision needs at least one positive sample", nameof(positive));
        double ap = 0, prevRecall = 0;
        for (var i = 0; i < tps.Count; i++)
        {
            var recall = tps[i] / p;
            ap += (recall - prevRecall) * tps[i] / (tps[i] + fps[i]);
            prevRecall = recall;
        }
        return ap;
    }

    /// <summary>True and false positives counted at each distinct score, from the highest down.</summary>
    private static (List<double> tps, List<double> fps) CumulativeCounts(IReadOnlyList<bool> positive, IReadOnlyList<double> score)
    {
        MetricChecks.SameLength(positive, score, nameof(positive), nameof(score));
        if (score.Any(double.IsNaN)) throw new ArgumentException("scores contain NaN", nameof(score));
        var order = Enumerable.Range(0, score.Count).OrderByDescending(i => score[i]).ToArray();
        var tps = new List<double>();
        var fps = new List<double>();
        double tp = 0, fp = 0;
        for (var r = 0; r < order.Length;)
        {
            var t = score[order[r]];
            for (; r < order.Length && score[order[r]] == t; r++)
                if (positive[order[r]]) tp++; else fp++;
            tps.Add(tp);
            fps.Add(fp);
        }
        return (tps, fps);
    }
}

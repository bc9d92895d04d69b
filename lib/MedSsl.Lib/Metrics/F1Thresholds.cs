namespace MedSsl.Metrics;

/// <summary>Per-class decision thresholds that maximise F1 on a validation set, then applied to the test
/// set — the protocol of Dadoun et al. 2022 (§4: "the threshold was defined as the value that maximizes the F1 score
/// of each class"). Candidates are the distinct validation scores (positive when score ≥ t); among equal
/// F1 the smallest threshold wins. A class with no positive among the fitting samples has no F1 to maximise (every
/// threshold scores 0, and the tie rule would pick the lowest score, predicting the class for almost every image): it
/// keeps <see cref="Default"/> and is flagged in <see cref="Unfitted"/>.</summary>
public sealed class F1Thresholds
{
    /// <summary>The threshold of a class that could not be fitted: the sigmoid's natural cut.</summary>
    public const double Default = 0.5;

    /// <summary>The fitted threshold of each class.</summary>
    public double[] Thresholds { get; private set; } = [];

    /// <summary>Per class: true when the fitting samples had no positive, so the threshold is <see cref="Default"/>.</summary>
    public bool[] Unfitted { get; private set; } = [];

    /// <summary>Chooses each class's threshold on validation scores [samples, classes].</summary>
    public F1Thresholds Fit(bool[,] truth, double[,] scores)
    {
        MetricChecks.SameShape(truth, scores, nameof(truth), nameof(scores));
        int n = truth.GetLength(0), k = truth.GetLength(1);
        if (n == 0) throw new ArgumentException("no validation samples to choose thresholds on", nameof(scores));
        Thresholds = new double[k];
        Unfitted = new bool[k];
        for (var c = 0; c < k; c++)
        {
            var positives = Enumerable.Range(0, n).Count(i => truth[i, c]);
            if (positives == 0)
            {
                (Thresholds[c], Unfitted[c]) = (Default, true);
                continue;
            }
            var order = Enumerable.Range(0, n).OrderByDescending(i => scores[i, c]).ToArray();
            // Sweep thresholds from the highest score down; at a group of tied scores all enter together.
            int tp = 0, predicted = 0;
            double bestF1 = -1, best = scores[order[0], c];
            for (var r = 0; r < n;)
            {
                var t = scores[order[r], c];
                for (; r < n && scores[order[r], c] == t; r++, predicted++)
                    if (truth[order[r], c]) tp++;
                var f1 = positives + predicted == 0 ? 0 : 2.0 * tp / (positives + predicted);
                if (f1 >= bestF1) { bestF1 = f1; best = t; }   // >=: ties go to the smaller threshold
            }
            Thresholds[c] = best;
        }
        return this;
    }

    /// <summary>Binary predictions [samples, classes] from scores with the fitted thresholds.</summary>
    public bool[,] Predict(double[,] scores)
    {
        if (Thresholds.Length == 0) throw new InvalidOperationException("F1Thresholds: call Fit before Predict");
        return MultiLabelReport.Binarize(scores, Thresholds);
    }
}

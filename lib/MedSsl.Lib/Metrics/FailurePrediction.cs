namespace MedSsl.Metrics;

/// <summary>How well a confidence score separates correct from wrong predictions — Petit et al., Table 6
/// (after ConfidNet): AUC ranks the correct predictions by confidence; AP_success takes the correct ones as
/// the positive class; AP_error takes the errors as the positive class with the confidence negated, so it
/// rewards low confidence on mistakes.</summary>
public sealed record FailurePrediction(double Auc, double ApSuccess, double ApError)
{
    public static FailurePrediction Compute(IReadOnlyList<bool> correct, IReadOnlyList<double> confidence)
    {
        var errors = correct.Select(c => !c).ToArray();
        var negated = confidence.Select(c => -c).ToArray();
        return new FailurePrediction(
            Ranking.RocAuc(correct, confidence),
            Ranking.AveragePrecision(correct, confidence),
            Ranking.AveragePrecision(errors, negated));
    }

    /// <summary>With the maximum class probability (MCP) as the confidence of the arg-max prediction.</summary>
    public static FailurePrediction FromProbabilities(double[,] probabilities, IReadOnlyList<int> labels)
    {
        int n = probabilities.GetLength(0), k = probabilities.GetLength(1);
        if (labels.Count != n) throw new ArgumentException($"{n} probability rows but {labels.Count} labels", nameof(labels));
        var correct = new bool[n];
        var confidence = new double[n];
        for (var i = 0; i < n; i++)
        {
            var best = 0;
            for (var c = 1; c < k; c++) if (probabilities[i, c] > probabilities[i, best]) best = c;
            correct[i] = best == labels[i];
            confidence[i] = probabilities[i, best];
        }
        return Compute(correct, confidence);
    }
}

namespace MedSsl.Metrics;

/// <summary>Single-label classification scores.</summary>
public static class Classification
{
    /// <summary>Fraction of predictions equal to the truth.</summary>
    public static double Accuracy(IReadOnlyList<int> truth, IReadOnlyList<int> predicted)
    {
        MetricChecks.SameLength(truth, predicted, nameof(truth), nameof(predicted));
        return (double)truth.Where((t, i) => t == predicted[i]).Count() / truth.Count;
    }

    /// <summary>Arg-max class of each row of [samples, classes] scores (first maximum on ties).</summary>
    public static int[] ArgMax(double[,] scores)
    {
        int n = scores.GetLength(0), k = scores.GetLength(1);
        var result = new int[n];
        for (var i = 0; i < n; i++)
            for (var c = 1; c < k; c++)
                if (scores[i, c] > scores[i, result[i]]) result[i] = c;
        return result;
    }
}

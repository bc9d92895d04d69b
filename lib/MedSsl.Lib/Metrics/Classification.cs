using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Metrics;

/// <summary>Single-label classification scores.</summary>
public static class Classification
{
    /// <summary>Fraction of predictions equal to the truth.</summary>
    public static double Accuracy(int[] truth, int[] predicted)
    {
        MetricChecks.SameLength(truth, predicted, nameof(truth), nameof(predicted));
        return (double)truth.Where((t, i) => t == predicted[i]).Count() / truth.Length;
    }

    /// <summary>Fraction of predicted labels [N] equal to the true labels [N] (any integer dtype, any device).</summary>
    public static double Accuracy(Tensor truth, Tensor predicted)
    {
        if (!truth.shape.SequenceEqual(predicted.shape))
            throw new ArgumentException($"truth has shape [{string.Join(", ", truth.shape)}] but the predictions [{string.Join(", ", predicted.shape)}]");
        using var equal = truth.eq(predicted);
        using var mean = equal.to(ScalarType.Float64).mean();
        return mean.ToDouble();
    }

    /// <summary>F1 of each class c ∈ [0, <paramref name="classes"/>) taken as the positive one: 2·TP / (2·TP + FP + FN),
    /// 0 when the class is neither present nor predicted (scikit-learn's f1_score(average=None, zero_division=0)).</summary>
    public static double[] F1PerClass(int[] truth, int[] predicted, int classes)
    {
        MetricChecks.SameLength(truth, predicted, nameof(truth), nameof(predicted));
        return [.. Enumerable.Range(0, classes).Select(c =>
        {
            int tp = 0, fp = 0, fn = 0;
            for (var i = 0; i < truth.Length; i++)
            {
                if (predicted[i] == c && truth[i] == c) tp++;
                else if (predicted[i] == c) fp++;
                else if (truth[i] == c) fn++;
            }
            return tp == 0 ? 0.0 : 2.0 * tp / (2.0 * tp + fp + fn);
        })];
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

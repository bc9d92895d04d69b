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

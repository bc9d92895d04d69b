namespace MedSsl.Metrics;

/// <summary>Summaries of a few values (a claim's per-seed groups, a headline over seeds).</summary>
public static class Descriptive
{
    /// <summary>The median (the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("the median of no values");
        return (sorted[(sorted.Length - 1) / 2] + sorted[sorted.Length / 2]) / 2;
    }
}

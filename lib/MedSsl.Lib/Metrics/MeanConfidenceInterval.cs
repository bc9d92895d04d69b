using System.Globalization;
using MathNet.Numerics.Distributions;

namespace MedSsl.Metrics;

/// <summary>Mean of n values (e.g. one metric over seeds, Dadoun et al. 2022, Fig. 6) with its two-sided t-interval — the one
/// implementation results tables, plots and notebooks use:
/// mean ± t(1 − α/2, n − 1) · s / √n, s the sample standard deviation (n − 1 in the denominator).</summary>
public readonly record struct MeanConfidenceInterval(double Mean, double HalfWidth, int Count, double Level)
{
    public double Lower => Mean - HalfWidth;
    public double Upper => Mean + HalfWidth;

    /// <summary>The interval at <paramref name="level"/> (default 95 %). A single value says nothing about spread, so
    /// its half-width is NaN; NaN inputs are rejected rather than silently propagated.</summary>
    public static MeanConfidenceInterval Of(IReadOnlyCollection<double> values, double level = 0.95)
    {
        if (values.Count == 0) throw new ArgumentException("a confidence interval needs at least one value", nameof(values));
        if (level is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(level), level, "level must be in (0, 1)");
        if (values.Any(double.IsNaN)) throw new ArgumentException("values contain NaN", nameof(values));
        var n = values.Count;
        var mean = values.Average();
        if (n == 1) return new(mean, double.NaN, 1, level);
        var variance = values.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        return new(mean, TQuantile(1 - (1 - level) / 2, n - 1) * Math.Sqrt(variance / n), n, level);
    }

    /// <summary>Student's t quantile (inverse CDF) with <paramref name="degreesOfFreedom"/> degrees of freedom.</summary>
    public static double TQuantile(double probability, double degreesOfFreedom) =>
        StudentT.InvCDF(0, 1, degreesOfFreedom, probability);

    /// <summary>"0.912 ± 0.013" with <paramref name="digits"/> decimals ("0.912" alone for a single value).</summary>
    public string ToString(int digits)
    {
        var format = "F" + digits.ToString(CultureInfo.InvariantCulture);
        return double.IsNaN(HalfWidth)
            ? Mean.ToString(format, CultureInfo.InvariantCulture)
            : $"{Mean.ToString(format, CultureInfo.InvariantCulture)} ± {HalfWidth.ToString(format, CultureInfo.InvariantCulture)}";
    }

    public override string ToString() => ToString(3);
}

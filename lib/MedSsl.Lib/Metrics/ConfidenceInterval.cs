using MathNet.Numerics.Distributions;

namespace MedSsl.Metrics;

/// <summary>A mean with the half-width of its confidence interval: Mean ± HalfWidth.</summary>
public sealed record MeanCi(double Mean, double HalfWidth, int Count)
{
    public double Lower => Mean - HalfWidth;
    public double Upper => Mean + HalfWidth;
    public override string ToString() => $"{Mean:0.0000} ± {HalfWidth:0.0000}";
}

/// <summary>Mean ± 95 % confidence interval over runs (seeds), as file 000's Fig. 6 reports: the
/// Student-t interval x̄ ± t₀.₉₇₅,ₙ₋₁ · s / √n with s the sample (n − 1) standard deviation.
/// The single implementation the results tables use.</summary>
public static class ConfidenceInterval
{
    public static MeanCi MeanCi95(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var n = values.Count;
        if (n < 2) throw new ArgumentException($"a confidence interval needs at least 2 runs, got {n}", nameof(values));
        if (values.Any(v => !double.IsFinite(v))) throw new ArgumentException("values contain NaN or infinity", nameof(values));
        var mean = values.Average();
        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        var t = StudentT.InvCDF(0, 1, n - 1, 0.975);
        return new MeanCi(mean, t * sd / Math.Sqrt(n), n);
    }
}

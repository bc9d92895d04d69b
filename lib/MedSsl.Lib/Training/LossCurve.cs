namespace MedSsl.Training;

/// <summary>A training curve for <see cref="Reports.Charts.Line"/>: one loss term of the recorded steps.</summary>
public static class LossCurve
{
    /// <summary><paramref name="term"/> over the steps that recorded it, averaged over consecutive windows of
    /// <paramref name="window"/> steps (the last one may be shorter), each at the count of steps it ends on.</summary>
    public static (double[] Steps, double[] Values) Windowed(IEnumerable<StepRecord> history, string term, int window = 10)
    {
        if (window < 1) throw new ArgumentOutOfRangeException(nameof(window), window, "a window holds at least one step");
        var values = history.Where(s => s.Losses.ContainsKey(term)).Select(s => s.Losses[term]).ToArray();
        var bins = Enumerable.Range(0, (values.Length + window - 1) / window).ToArray();
        return ([.. bins.Select(b => (double)Math.Min(values.Length, (b + 1) * window))],
            [.. bins.Select(b => values.Skip(b * window).Take(window).Average())]);
    }
}

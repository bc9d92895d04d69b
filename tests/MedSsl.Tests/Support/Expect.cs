namespace MedSsl.Tests.Support;

internal static class Expect
{
    /// <summary>Element-wise |expected − actual| ≤ tolerance, naming the first element that differs.</summary>
    public static void Close(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double tolerance)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]:G10}, got {actual[i]:G10}");
    }

    public static void Close(IReadOnlyList<float> expected, IReadOnlyList<float> actual, double tolerance) =>
        Close(expected.Select(v => (double)v).ToList(), actual.Select(v => (double)v).ToList(), tolerance);
}

namespace MedSsl.Metrics;

/// <summary>Argument checks shared by the metrics, so every mismatch reads the same way.</summary>
internal static class MetricChecks
{
    public static void SameShape(Array a, Array b, string nameA, string nameB)
    {
        if (a.Rank != b.Rank || Enumerable.Range(0, a.Rank).Any(d => a.GetLength(d) != b.GetLength(d)))
            throw new ArgumentException($"{nameA} is {Shape(a)} but {nameB} is {Shape(b)}; they must match");
    }

    public static void SameLength<TA, TB>(IReadOnlyCollection<TA> a, IReadOnlyCollection<TB> b, string nameA, string nameB)
    {
        if (a.Count != b.Count) throw new ArgumentException($"{nameA} has {a.Count} values but {nameB} has {b.Count}");
        if (a.Count == 0) throw new ArgumentException($"{nameA} and {nameB} are empty");
    }

    private static string Shape(Array a) => "[" + string.Join(", ", Enumerable.Range(0, a.Rank).Select(a.GetLength)) + "]";
}

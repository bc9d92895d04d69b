using System.Text.Json;

namespace MedSsl.Tests.Metrics;

/// <summary>Reads the sklearn/scipy reference values that Fixtures/make_reference.py wrote.</summary>
internal static class Reference
{
    private static readonly Lazy<JsonElement> root = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Metrics", "Fixtures", "reference.json"))).RootElement);

    public static JsonElement Root => root.Value;

    public static double[] Doubles(this JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
    public static int[] Ints(this JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();
    public static bool[] Bools(this JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32() != 0).ToArray();

    public static double[,] Matrix(this JsonElement e)
    {
        var rows = e.EnumerateArray().Select(r => r.Doubles()).ToArray();
        var m = new double[rows.Length, rows.Length == 0 ? 0 : rows[0].Length];
        for (var i = 0; i < rows.Length; i++)
            for (var j = 0; j < rows[i].Length; j++) m[i, j] = rows[i][j];
        return m;
    }

    public static bool[,] BoolMatrix(this JsonElement e)
    {
        var m = e.Matrix();
        var b = new bool[m.GetLength(0), m.GetLength(1)];
        for (var i = 0; i < m.GetLength(0); i++)
            for (var j = 0; j < m.GetLength(1); j++) b[i, j] = m[i, j] != 0;
        return b;
    }

    public const double Tolerance = 1e-6;

    public static void Close(double expected, double actual, string what = "")
    {
        Assert.True(Math.Abs(expected - actual) <= Tolerance, $"{what}: expected {expected:R}, got {actual:R}");
    }

    public static void Close(double[] expected, double[] actual, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Close(expected[i], actual[i], $"{what}[{i}]");
    }
}

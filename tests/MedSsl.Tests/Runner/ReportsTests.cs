using MedSsl.Experiments;
using MedSsl.Metrics;
using System.Globalization;
using System.Text.Json.Nodes;
using MedSsl.Reports;

namespace MedSsl.Tests.Runner;

public sealed class ReportsTests
{
    /// <summary>scipy.stats.t is the reference; computed here so the values are never copied from our own output.</summary>
    private static double[] Scipy(string expression)
    {
        var (code, output) = Medssl.Exec("/usr/bin/python3", "-c", "import scipy.stats as st, numpy as np\n" + expression);
        Assert.True(code == 0, output);
        return output.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    }

    [Fact]
    public void T_quantiles_match_scipy()
    {
        double[] df = [1, 2, 3, 4, 9, 29, 100];
        double[] p = [0.975, 0.95, 0.995];
        var expected = Scipy($"print(' '.join(repr(st.t.ppf(p, d)) for d in {Python(df)} for p in {Python(p)}))");
        var actual = df.SelectMany(d => p.Select(q => MeanConfidenceInterval.TQuantile(q, d))).ToArray();
        // MathNet inverts the t CDF numerically: agreement to ~2e-9 relative, far below what a 95 % CI shows.
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-8 * Math.Abs(expected[i]));
    }

    [Fact]
    public void Mean_interval_matches_scipy_t_interval()
    {
        double[] values = [0.81, 0.84, 0.79, 0.88, 0.83];
        var expected = Scipy($"x = np.array({Python(values)}); lo, hi = st.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=st.sem(x)); print(repr(x.mean()), repr(lo), repr(hi))");
        var interval = MeanConfidenceInterval.Of(values);
        Assert.Equal(expected[0], interval.Mean, 12);
        Assert.Equal(expected[1], interval.Lower, 12);
        Assert.Equal(expected[2], interval.Upper, 12);
        Assert.Equal(5, interval.Count);
    }

    [Fact]
    public void A_single_value_has_no_interval_and_nan_is_rejected()
    {
        Assert.True(double.IsNaN(MeanConfidenceInterval.Of([0.5]).HalfWidth));
        Assert.Equal("0.500", MeanConfidenceInterval.Of([0.5]).ToString());
        Assert.Throws<ArgumentException>(() => MeanConfidenceInterval.Of([0.5, double.NaN]));
        Assert.Throws<ArgumentException>(() => MeanConfidenceInterval.Of([]));
    }

    [Fact]
    public void Results_merge_into_one_file_which_must_be_a_results_object()
    {
        var path = Path.Combine(Medssl.TemporaryFolder(), "nb.results.json");
        Assert.Equal(path, ResultsFile.SaveValues(new { first = 1 }, path));
        ResultsFile.SaveValues(new { second = "b" }, path);
        var document = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal(1, document["first"]!.GetValue<int>());
        Assert.Equal("b", document["second"]!.GetValue<string>());
        Assert.Equal(["nb.results.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        Assert.Throws<ArgumentException>(() => ResultsFile.SaveValues(new { format = "x" }, path));

        File.WriteAllText(path, "[1, 2]");
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => ResultsFile.SaveValues(new { third = 3 }, path)).Message);

        // An interactive session (no output folder in the run's context) writes nothing unless given a path.
        Assert.Null(RunContext.Interactive.ResultsPath);
        Assert.Null(ResultsFile.SaveValues(new { fourth = 4 }));
    }

    private static string Python(IEnumerable<double> values) => "[" + string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";
}

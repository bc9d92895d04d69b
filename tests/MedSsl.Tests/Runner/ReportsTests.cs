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
    public void Summarize_groups_rows_and_takes_the_interval_over_seeds()
    {
        var runs = new ResultsTable("acc");
        runs.Add(new { Method = "A", Seed = 0, Accuracy = 0.5 });
        runs.Add(new { Method = "B", Seed = 0, Accuracy = 0.9 });
        runs.Add(new { Method = "A", Seed = 1, Accuracy = 0.7 });
        runs.Add(new { Method = "B", Seed = 1, Accuracy = 0.9 });

        var summary = runs.Summarize(by: ["Method"]);

        Assert.Equal(["Method", "Accuracy", "n"], summary.Columns);
        Assert.Equal(2, summary.Count);
        var a = (MeanConfidenceInterval)summary[0, "Accuracy"]!;
        // Hand value: sd(0.5, 0.7) = 0.1414, se = 0.1, t(0.975, 1) = 12.7062.
        Assert.Equal(0.6, a.Mean, 12);
        Assert.Equal(1.27062, a.HalfWidth, 5);
        Assert.Equal(0.0, ((MeanConfidenceInterval)summary[1, "Accuracy"]!).HalfWidth, 12);
        Assert.Equal(2, summary[1, "n"]);
        Assert.Equal("| Method | Accuracy | n |\n| --- | ---: | ---: |\n| A | 0.600 ± 1.271 | 2 |\n| B | 0.900 ± 0.000 | 2 |\n",
            summary.ToMarkdown().ReplaceLineEndings("\n"));
        Assert.Equal("Method,Accuracy,Accuracy_ci95,n\r\nA,0.6,1.2706204736174703,2\r\nB,0.9,0,2\r\n".Split("\r\n")[0],
            summary.ToCsv().Split("\r\n")[0]);
        Assert.StartsWith("A,0.6,1.27062", summary.ToCsv().Split("\r\n")[1]);
        Assert.Throws<ArgumentException>(() => runs.Summarize(by: ["Nope"]));
    }

    [Fact]
    public void Csv_quotes_fields_per_rfc_4180()
    {
        var table = new ResultsTable("t").Add(("Name", "a, \"b\""), ("Value", 1.5));
        Assert.Equal("Name,Value\r\n\"a, \"\"b\"\"\",1.5\r\n", table.ToCsv());
    }

    [Fact]
    public void Save_merges_tables_into_one_results_file_and_needs_a_destination()
    {
        var path = Path.Combine(Medssl.TemporaryFolder(), "nb.results.json");
        Assert.Equal(path, new ResultsTable("first").Add(("x", 1)).Save(path));
        new ResultsTable("second").Add(("y", "b")).Save(path);
        var document = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal(1.0, document["tables"]!["first"]!["rows"]![0]!["x"]!.GetValue<double>());
        Assert.Equal("b", document["tables"]!["second"]!["rows"]![0]!["y"]!.GetValue<string>());
        Assert.Equal(["nb.results.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));

        File.WriteAllText(path, "[1, 2]");
        Assert.Throws<InvalidDataException>(() => new ResultsTable("third").Save(path));

        var previous = Environment.GetEnvironmentVariable(ResultsFile.PathVariable);
        Environment.SetEnvironmentVariable(ResultsFile.PathVariable, null);
        try { Assert.Null(new ResultsTable("fourth").Save()); }
        finally { Environment.SetEnvironmentVariable(ResultsFile.PathVariable, previous); }
    }

    private static string Python(IEnumerable<double> values) => "[" + string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";
}

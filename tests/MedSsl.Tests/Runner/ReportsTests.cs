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

    [Fact]
    public void Scatter_makes_one_trace_per_label()
    {
        var figure = Plot.Scatter([0.0, 1, 2, 3, 4], [1.0, 2, 3, 4, 5], [2, 1, 2, 1, 2]);
        var json = JsonNode.Parse(figure.ToJson())!;
        var traces = json["data"]!.AsArray();
        Assert.Equal(["1", "2"], traces.Select(t => t!["name"]!.GetValue<string>()));
        Assert.Equal([1.0, 3.0], traces[0]!["x"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal([0.0, 2.0, 4.0], traces[1]!["x"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Throws<ArgumentException>(() => Plot.Scatter([0.0], [1.0, 2.0], ["a"]));
    }

    [Fact]
    public void Band_is_a_closed_polygon_upper_then_lower_reversed()
    {
        var figure = Plot.LineWithBand([1.0, 2, 3], [0.5, 0.6, 0.7], [0.4, 0.5, 0.6], [0.6, 0.7, 0.8], "m");
        var band = JsonNode.Parse(figure.ToJson())!["data"]![0]!;
        Assert.Equal([1.0, 2, 3, 3, 2, 1], band["x"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal([0.6, 0.7, 0.8, 0.6, 0.5, 0.4], band["y"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal("toself", band["fill"]!.GetValue<string>());
    }

    [Fact]
    public void Confidence_band_uses_the_t_interval_over_seeds()
    {
        double[][] perSeed = [[0.5, 0.8], [0.7, 0.8]];
        var figure = Plot.LineWithConfidenceBand([0.1, 0.2], perSeed, "fixmatch");
        var data = JsonNode.Parse(figure.ToJson())!["data"]!;
        Assert.Equal([0.6, 0.8], data[1]!["y"]!.AsArray().Select(v => v!.GetValue<double>()), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(0.6 + 1.2706204736, data[0]!["y"]![0]!.GetValue<double>(), 8);
    }

    [Fact]
    public void Grids_check_shapes_and_nan_becomes_a_gap()
    {
        var z = new double[,] { { 0, double.NaN, 2 }, { 3, 4, 5 } };
        var trace = JsonNode.Parse(Plot.Contour(z, [0.0, 1, 2], [0.0, 1]).ToJson())!["data"]![0]!;
        Assert.Null(trace["z"]![0]![1]);
        Assert.Equal("contour", trace["type"]!.GetValue<string>());
        Assert.Throws<ArgumentException>(() => Plot.Heatmap(z, [0.0, 1], [0.0, 1]));

        var images = new[] { new float[2, 2], new float[2, 2], new float[2, 2] };
        var masks = new float[,]?[] { new float[2, 2], null, new float[2, 2] };
        var grid = JsonNode.Parse(Plot.ImageGrid(images, masks, columns: 2, titles: ["a", "b", "c"]).ToJson())!;
        Assert.Equal(5, grid["data"]!.AsArray().Count); // three images, two overlays
        Assert.Equal("x3", grid["data"]![4]!["xaxis"]!.GetValue<string>());
        Assert.Equal(2, grid["layout"]!["grid"]!["rows"]!.GetValue<int>());
        Assert.Throws<ArgumentException>(() => Plot.ImageGrid(images, new float[,]?[] { new float[3, 2], null, null }));
    }

    [Fact]
    public void Figure_html_cannot_break_out_of_its_script_element()
    {
        var html = new Figure("</script><script>alert(1)</script>").ToHtml();
        Assert.Equal(1, html.Split("</script>").Length - 1);
        Assert.Contains(Figure.HtmlMarker, html);
    }

    [Fact]
    public void The_cdn_version_for_vs_code_matches_the_pinned_npm_package()
    {
        var lockFile = JsonNode.Parse(File.ReadAllText(Path.Combine(Medssl.RepoRoot, "lib", "MedSsl.Lib", "Reports", "plotly", "package-lock.json")))!;
        var pinned = lockFile["packages"]!["node_modules/plotly.js-dist-min"]!["version"]!.GetValue<string>();
        Assert.Equal(Figure.PlotlyVersion, pinned);   // the CDN line VS Code loads must name the version the lock pins
    }

    private static string Python(IEnumerable<double> values) => "[" + string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";
}

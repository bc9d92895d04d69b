using MedSsl.Experiments;
using MedSsl.Metrics;
using MedSsl.Reports;
using Microsoft.Data.Analysis;

namespace MedSsl.Tests.Reports;

public class StudyTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("medssl-study-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private enum Method { A, B }

    private sealed record Row(int Seed, Method Method, double Lambda, double F1);

    private static readonly Study<Row> Runs = new("runs",
    [
        new(0, Method.A, 1, 0.70), new(1, Method.A, 1, 0.74), new(2, Method.A, 1, 0.78),
        new(0, Method.B, 1, 0.80), new(1, Method.B, 1, 0.86), new(0, Method.B, 2, 0.5),
    ]);

    [Fact]
    public void TableHasOneTypedColumnPerProperty()
    {
        var table = Runs.Table;
        Assert.Equal(["Seed", "Method", "Lambda", "F1"], table.Columns.Select(c => c.Name));
        Assert.IsType<Int32DataFrameColumn>(table.Columns["Seed"]);
        Assert.IsType<StringDataFrameColumn>(table.Columns["Method"]);
        Assert.IsType<DoubleDataFrameColumn>(table.Columns["F1"]);
        Assert.Equal(6, table.Rows.Count);
        Assert.Equal("B", table.Columns["Method"][3]);
    }

    [Fact]
    public void SummaryGivesNMeanAndTheTInterval()
    {
        var summary = Runs.Summarize(r => new { r.Method, r.Lambda }, [("f1", r => r.F1)]);
        Assert.Equal(["Method", "Lambda", "n", "f1_mean", "f1_ci_low", "f1_ci_high"], summary.Columns.Select(c => c.Name));
        Assert.Equal(3, summary.Rows.Count);
        var a = MeanConfidenceInterval.Of([0.70, 0.74, 0.78]);
        Assert.Equal(3, summary.Columns["n"][0]);
        Assert.Equal(0.74, (double)summary.Columns["f1_mean"][0]!, 12);
        Assert.Equal(a.Lower, (double)summary.Columns["f1_ci_low"][0]!, 12);
        // Hand value: s = 0.04, t(0.975, 2) = 4.302653, half-width = 4.302653 · 0.04 / √3.
        Assert.Equal(0.74 + 4.302653 * 0.04 / Math.Sqrt(3), (double)summary.Columns["f1_ci_high"][0]!, 5);
        var byMethod = Runs.Summarize(r => r.Method, [("f1", r => r.F1)]);
        Assert.Equal(["group", "n", "f1_mean", "f1_ci_low", "f1_ci_high"], byMethod.Columns.Select(c => c.Name));
    }

    [Fact]
    public void SaveWritesTheHeadlineAndACsvOfAllRowsBesideIt()
    {
        var path = Path.Combine(dir, "nb.results.json");
        Assert.Equal(path, ResultsFile.Save(new { f1_a = 0.74 }, Runs, path));
        Assert.Contains("\"f1_a\": 0.74", File.ReadAllText(path));
        var csv = File.ReadAllLines(Path.Combine(dir, "nb.runs.csv")).Where(l => l.Length > 0).ToArray();
        Assert.Equal("Seed,Method,Lambda,F1", csv[0]);
        Assert.Equal("1,B,1,0.86", csv[5]);
        Assert.Equal(["nb.results.json", "nb.runs.csv"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());
        Assert.Null(ResultsFile.Save(new { x = 1 }, Runs, path: null));   // outside medssl run: nothing written
    }
}

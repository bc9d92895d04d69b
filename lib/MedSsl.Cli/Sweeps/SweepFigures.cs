using System.Text.Json.Nodes;
using MedSsl.Metrics;
using Microsoft.FSharp.Core;
using Plotly.NET;
using Plotly.NET.TraceObjects;
using CSharpChart = Plotly.NET.CSharp.Chart;
using CSharpExtensions = Plotly.NET.CSharp.GenericChartExtensions;

namespace MedSsl.Cli.Sweeps;

/// <summary>A figure of the sweep report: its title and plotly.js figure JSON ({"data", "layout"}).</summary>
internal sealed record SweepFigure(string Title, JsonObject Figure);

/// <summary>
/// Plots of each numeric result against each swept parameter that takes more than one value: a box of the
/// successful points at every value (over the other parameters, e.g. seeds) and their mean ± 95 % t-interval
/// (<see cref="MeanConfidenceInterval"/>). Built with Plotly.NET, exported as figure JSON only: the report inlines
/// the pinned plotly.js itself, so nothing is fetched from a CDN.
/// </summary>
internal static class SweepFigures
{
    public static List<SweepFigure> Build(SweepGrid grid, IReadOnlyList<GatheredPoint> points)
    {
        var succeeded = points.Where(p => p.Status == PointStatus.Ok).ToList();
        var figures = new List<SweepFigure>();
        foreach (var result in SweepTable.ResultNames(succeeded))
        {
            var numeric = succeeded.Where(p => p.Results.TryGetValue(result, out var v) && v.GetValueKind() == System.Text.Json.JsonValueKind.Number)
                .Select(p => (Point: p.Point, Value: p.Results[result].GetValue<double>())).ToList();
            if (numeric.Count == 0) continue;
            foreach (var (parameter, values) in grid.Parameters.Where(p => p.Values.Count > 1))
                figures.Add(Figure(result, parameter, values, numeric.Select(n => (n.Point.Parameters.Single(q => q.Name == parameter).Value, n.Value)).ToList()));
        }
        return figures;
    }

    private static SweepFigure Figure(string result, string parameter, IReadOnlyList<string> order, List<(string X, double Y)> runs)
    {
        var title = $"{result} against {parameter}";
        var box = CSharpChart.BoxPlot<string, double, string>(X: runs.Select(r => r.X).ToArray(), Y: runs.Select(r => r.Y).ToArray(),
            Name: "runs", BoxPoints: StyleParam.BoxPoints.All, Jitter: 0.3, PointPos: 0);
        var groups = order.Select(x => (X: x, Values: runs.Where(r => r.X == x).Select(r => r.Y).ToList())).Where(g => g.Values.Count > 0).ToList();
        var intervals = groups.Select(g => MeanConfidenceInterval.Of(g.Values)).ToList();
        var means = CSharpChart.Point<string, double, string>(groups.Select(g => g.X).ToArray(), intervals.Select(i => i.Mean).ToArray(),
            Name: "mean ± 95 % CI", MultiText: intervals.Select(i => $"n = {i.Count}").ToArray());
        // A single run has no interval (NaN half-width): draw its mean without a bar.
        var bars = new Error();
        bars.SetProperty("type", "data");
        bars.SetProperty("array", intervals.Select(i => double.IsNaN(i.HalfWidth) ? 0 : i.HalfWidth).ToArray());
        bars.SetProperty("visible", true);
        means = Chart.withYError(bars).Invoke(means);
        var chart = CSharpChart.Combine([box, means]);
        chart = Chart.withTitle(title, FSharpOption<Font>.None).Invoke(chart);
        // Categories in the grid's order: a swept value is a label (0.1, 1, 10 are not evenly spaced runs).
        chart = CSharpExtensions.WithXAxisStyle<double, double, string>(chart, TitleText: parameter, AxisType: StyleParam.AxisType.Category,
            CategoryOrder: StyleParam.CategoryOrder.Array, CategoryArray: order.ToArray());
        chart = CSharpExtensions.WithYAxisStyle<double, double, string>(chart, TitleText: result);
        var figure = (JsonObject)JsonNode.Parse(GenericChart.toFigureJson(chart))!;
        // Plotly.NET fixes 600 × 600 px; the report lets the figure follow the page width.
        if (figure["layout"] is JsonObject layout)
        {
            layout.Remove("width");
            layout["height"] = 450;
        }
        return new SweepFigure(title, figure);
    }
}

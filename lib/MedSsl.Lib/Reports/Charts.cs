using DynamicObj;
using MedSsl.Metrics;
using Microsoft.FSharp.Core;
using Plotly.NET;
using Plotly.NET.LayoutObjects;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Reports;

/// <summary>
/// The figures the notebooks draw, as Plotly.NET charts: style them further with Plotly.NET's own API
/// (<c>Chart.withSize</c>, <c>GenericChartExtensions.WithXAxisStyle</c>, …) and overlay them with
/// <c>Chart.Combine(new[] { boundary, Charts.Scatter(...) })</c>. A chart as a cell's last expression (or passed to
/// <c>display</c>) is drawn through <see cref="DisplayFormatters"/>.
/// </summary>
public static partial class Charts
{
    /// <summary>plotly's default colour sequence, set explicitly so the traces of one group (its points, its highlighted
    /// points, its band) share a colour.</summary>
    private static readonly string[] Palette =
        ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff", "#fecb52"];

    private const string Outline = "#1b1b1b";

    /// <summary>Points coloured by group, one legend entry per group (groups in ordinal order). Points whose
    /// <paramref name="highlight"/> is true (e.g. the few labelled ones) are drawn on top as large outlined markers in
    /// their group's colour, as a separate legend entry.</summary>
    public static GenericChart Scatter(IReadOnlyList<double> x, IReadOnlyList<double> y, IReadOnlyList<string> groups,
        string? title = null, IReadOnlyList<bool>? highlight = null)
    {
        SameLength(("x", x.Count), ("y", y.Count), ("groups", groups.Count));
        if (highlight is not null) SameLength(("x", x.Count), ("highlight", highlight.Count));
        var ordered = Enumerable.Range(0, x.Count).GroupBy(i => groups[i]).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var plain = new List<Trace>();
        var marked = new List<Trace>();
        for (var g = 0; g < ordered.Count; g++)
        {
            var name = ordered[g].Key;
            var colour = Palette[g % Palette.Length];
            var ordinary = ordered[g].Where(i => highlight?[i] != true).ToList();
            var highlighted = ordered[g].Where(i => highlight?[i] == true).ToList();
            if (ordinary.Count > 0)
                // A thin white rim keeps points visible over a contour of their own colour.
                plain.Add(Markers(name, ordinary.Select(i => x[i]), ordinary.Select(i => y[i]),
                    Attributes(("color", colour), ("size", 6), ("opacity", 0.9), ("line", Attributes(("color", "white"), ("width", 0.5)))), name));
            if (highlighted.Count > 0)
                marked.Add(Markers($"{name}, highlighted", highlighted.Select(i => x[i]), highlighted.Select(i => y[i]),
                    Attributes(("color", colour), ("size", 14), ("line", Attributes(("color", Outline), ("width", 2)))), name));
        }
        // Highlighted traces come last so plotly draws them on top of the crowd.
        return WithTitle(ChartOf(plain.Concat(marked)), title);
    }

    /// <summary>A 2-D embedding (t-SNE, PCA) as points coloured by label or cluster.</summary>
    public static GenericChart Embedding(double[,] points, IReadOnlyList<string> colourBy, string? title = null)
    {
        if (points.GetLength(1) != 2) throw new ArgumentException($"an embedding to draw has 2 columns, not {points.GetLength(1)}", nameof(points));
        var rows = Enumerable.Range(0, points.GetLength(0)).ToArray();
        return Scatter(rows.Select(i => points[i, 0]).ToArray(), rows.Select(i => points[i, 1]).ToArray(), colourBy, title);
    }

    /// <summary>A line, e.g. a training loss per epoch.</summary>
    public static GenericChart Line(IReadOnlyList<double> x, IReadOnlyList<double> y, string name, string? title = null,
        string? xTitle = null, string? yTitle = null) => Lines([(name, x, y)], title, xTitle, yTitle);

    /// <summary>Several lines on one plot, one legend entry each (e.g. a loss curve per seed).</summary>
    public static GenericChart Lines(IEnumerable<(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y)> lines, string? title = null,
        string? xTitle = null, string? yTitle = null)
    {
        var traces = lines.Select(l =>
        {
            SameLength(("x", l.X.Count), ("y", l.Y.Count));
            return NewTrace("scatter", ("mode", "lines"), ("name", l.Name), ("x", Numbers(l.X)), ("y", Numbers(l.Y)));
        }).ToList();
        return WithAxisTitles(WithTitle(ChartOf(traces), title), xTitle, yTitle);
    }

    /// <summary>Evaluates <paramref name="probability"/> (points [N, 2] float32 → P(class 1) [N]) without gradients on a
    /// <paramref name="resolution"/> × <paramref name="resolution"/> grid over the box and draws it as filled contours
    /// with a colour bar (Figure 4 of the SSLDEC paper). The legend of data combined onto it lies horizontally below
    /// the plot, clear of the colour bar on the right.</summary>
    public static GenericChart DecisionBoundary(Func<Tensor, Tensor> probability, (double Min, double Max) x, (double Min, double Max) y,
        string? title = null, int resolution = 80)
    {
        if (resolution < 2) throw new ArgumentOutOfRangeException(nameof(resolution), resolution, "a grid needs at least 2 points per axis");
        var xs = Linspace(x.Min, x.Max, resolution);
        var ys = Linspace(y.Min, y.Max, resolution);
        // Point i * resolution + j is (xs[j], ys[i]): row i of z is y = ys[i], as plotly's contour reads it.
        var points = new float[resolution * resolution * 2];
        for (var i = 0; i < resolution; i++)
            for (var j = 0; j < resolution; j++)
            {
                points[2 * (i * resolution + j)] = (float)xs[j];
                points[2 * (i * resolution + j) + 1] = (float)ys[i];
            }
        double[] values;
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            var result = probability(torch.tensor(points, new long[] { resolution * resolution, 2 }));
            if (result.numel() != resolution * resolution)
                throw new ArgumentException($"probability returned {result.numel()} values for {resolution * resolution} points; it must return P(class 1) per point, shape [N]", nameof(probability));
            values = result.to(ScalarType.Float64).cpu().reshape(-1).data<double>().ToArray();
        }
        var z = Enumerable.Range(0, resolution).Select(i => Numbers(values.AsSpan(i * resolution, resolution).ToArray())).ToArray();
        var contour = NewTrace("contour", ("name", "P(class 1)"), ("z", z), ("x", xs), ("y", ys), ("colorscale", "RdBu"),
            ("zmin", 0.0), ("zmax", 1.0), ("opacity", 0.75), ("showlegend", false),
            ("colorbar", Attributes(("title", Attributes(("text", "P(class 1)"))))));
        var legend = new Legend();
        legend.SetProperty("orientation", "h");
        legend.SetProperty("x", 0.5);
        legend.SetProperty("xanchor", "center");
        legend.SetProperty("y", -0.12);
        legend.SetProperty("yanchor", "top");
        var chart = Plotly.NET.Chart.withLegend(legend, FSharpOption<int>.None).Invoke(ChartOf([contour]));
        return WithTitle(chart, title);
    }

    /// <summary>The points' bounding box widened by <paramref name="margin"/> on every side (the box to draw a
    /// <see cref="DecisionBoundary"/> over).</summary>
    public static ((double Min, double Max) X, (double Min, double Max) Y) Bounds(IReadOnlyList<double> xs, IReadOnlyList<double> ys, double margin = 0.5)
    {
        if (xs.Count == 0 || ys.Count == 0) throw new ArgumentException("bounds of no points");
        return ((xs.Min() - margin, xs.Max() + margin), (ys.Min() - margin, ys.Max() + margin));
    }

    /// <summary>One box per group with every value drawn beside it, and the group's mean with its 95 % t-interval
    /// (<see cref="MeanConfidenceInterval"/>) as an error bar. Groups keep their order of first appearance, as
    /// categories (a swept value such as 0.1, 1, 10 is a label, not a position).</summary>
    public static GenericChart BoxWithCi(IEnumerable<(string Group, double Value)> values, string? title = null, string? yTitle = null)
    {
        var groups = values.GroupBy(v => v.Group).Select(g => (Name: g.Key, Values: g.Select(v => v.Value).ToArray())).ToList();
        if (groups.Count == 0) throw new ArgumentException("BoxWithCi needs at least one value", nameof(values));
        var traces = new List<Trace>();
        for (var k = 0; k < groups.Count; k++)
        {
            var (name, numbers) = groups[k];
            traces.Add(NewTrace("box", ("name", name), ("x", numbers.Select(_ => name).ToArray()), ("y", Numbers(numbers)),
                ("boxpoints", "all"), ("jitter", 0.3), ("pointpos", 0.0), ("marker", Attributes(("color", Palette[k % Palette.Length])))));
        }
        var intervals = groups.Select(g => MeanConfidenceInterval.Of(g.Values)).ToList();
        traces.Add(NewTrace("scatter", ("mode", "markers"), ("name", "mean ± 95 % CI"),
            ("x", groups.Select(g => g.Name).ToArray()), ("y", Numbers(intervals.Select(i => i.Mean))),
            ("text", intervals.Select(i => $"n = {i.Count}").ToArray()),
            ("marker", Attributes(("color", Outline), ("symbol", "diamond"), ("size", 9))),
            // A single value has no interval (NaN half-width): its mean is drawn without a bar.
            ("error_y", Attributes(("type", "data"), ("visible", true), ("array", intervals.Select(i => double.IsNaN(i.HalfWidth) ? 0 : i.HalfWidth).ToArray())))));
        var chart = WithTitle(ChartOf(traces), title);
        var xAxis = new LinearAxis();
        xAxis.SetProperty("type", "category");
        xAxis.SetProperty("categoryorder", "array");
        xAxis.SetProperty("categoryarray", groups.Select(g => g.Name).ToArray());
        chart = Plotly.NET.Chart.withXAxis(xAxis, FSharpOption<StyleParam.SubPlotId>.None).Invoke(chart);
        return WithAxisTitles(chart, null, yTitle);
    }

    /// <summary>Per series, the mean over the values at each x with its 95 % t-interval as a shaded band (e.g. F1
    /// against the labelled fraction, over seeds). Series keep their order of first appearance; x ascends.</summary>
    public static GenericChart MeanWithCi(IEnumerable<(string Series, double X, double Value)> values, string? title = null,
        string? xTitle = null, string? yTitle = null)
    {
        var series = values.GroupBy(v => v.Series).ToList();
        if (series.Count == 0) throw new ArgumentException("MeanWithCi needs at least one value", nameof(values));
        var traces = new List<Trace>();
        for (var s = 0; s < series.Count; s++)
        {
            var name = series[s].Key;
            var colour = Palette[s % Palette.Length];
            var points = series[s].GroupBy(v => v.X).OrderBy(g => g.Key)
                .Select(g => (X: g.Key, Interval: MeanConfidenceInterval.Of(g.Select(v => v.Value).ToArray()))).ToList();
            var xs = points.Select(p => p.X).ToArray();
            // A single value has no interval: the band closes onto the mean there.
            var upper = points.Select(p => double.IsNaN(p.Interval.HalfWidth) ? p.Interval.Mean : p.Interval.Upper).ToArray();
            var lower = points.Select(p => double.IsNaN(p.Interval.HalfWidth) ? p.Interval.Mean : p.Interval.Lower).ToArray();
            // The band is one closed polygon: along the upper edge, then back along the lower edge.
            traces.Add(NewTrace("scatter", ("mode", "lines"), ("name", $"{name}, 95 % CI"), ("x", Numbers(xs.Concat(xs.Reverse()))),
                ("y", Numbers(upper.Concat(lower.Reverse()))), ("fill", "toself"), ("fillcolor", colour + "33"),
                ("line", Attributes(("width", 0))), ("hoverinfo", "skip"), ("showlegend", false), ("legendgroup", name)));
            traces.Add(NewTrace("scatter", ("mode", "lines+markers"), ("name", name), ("x", Numbers(xs)),
                ("y", Numbers(points.Select(p => p.Interval.Mean))), ("text", points.Select(p => $"n = {p.Interval.Count}").ToArray()),
                ("line", Attributes(("color", colour))), ("marker", Attributes(("color", colour))), ("legendgroup", name)));
        }
        return WithAxisTitles(WithTitle(ChartOf(traces), title), xTitle, yTitle);
    }

    /// <summary>z[row, column] as a heatmap with its colour bar, row 0 at the top as in a matrix (a confusion matrix,
    /// attention weights); <paramref name="x"/> names the columns and <paramref name="y"/> the rows.</summary>
    public static GenericChart Heatmap(double[,] z, IReadOnlyList<string>? x = null, IReadOnlyList<string>? y = null, string? title = null)
    {
        if (x is not null && x.Count != z.GetLength(1)) throw new ArgumentException($"z has {z.GetLength(1)} columns but x names {x.Count}", nameof(x));
        if (y is not null && y.Count != z.GetLength(0)) throw new ArgumentException($"z has {z.GetLength(0)} rows but y names {y.Count}", nameof(y));
        var properties = new List<(string, object)> { ("z", Rows(z.GetLength(0), z.GetLength(1), (i, j) => z[i, j])), ("colorscale", "Viridis") };
        if (x is not null) properties.Add(("x", x.ToArray()));
        if (y is not null) properties.Add(("y", y.ToArray()));
        var chart = WithTitle(ChartOf([NewTrace("heatmap", [.. properties])]), title);
        var yAxis = new LinearAxis();
        yAxis.SetProperty("autorange", "reversed");
        if (y is not null) yAxis.SetProperty("type", "category");
        return Plotly.NET.Chart.withYAxis(yAxis, FSharpOption<StyleParam.SubPlotId>.None).Invoke(chart);
    }

    private static Trace Markers(string name, IEnumerable<double> x, IEnumerable<double> y, Dictionary<string, object> marker, string legendGroup) =>
        NewTrace("scatter", ("mode", "markers"), ("name", name), ("x", Numbers(x)), ("y", Numbers(y)), ("marker", marker), ("legendgroup", legendGroup));

    /// <summary>A plotly.js trace with its attributes as plotly.js names them.</summary>
    private static Trace NewTrace(string type, params (string Name, object Value)[] properties)
    {
        var trace = new Trace2D(type);
        foreach (var (name, value) in properties) trace.SetProperty(name, value);
        return trace;
    }

    private static GenericChart ChartOf(IEnumerable<Trace> traces) => GenericChart.ofTraceObjects(true, traces.ToList());

    private static Dictionary<string, object> Attributes(params (string Name, object Value)[] properties) =>
        properties.ToDictionary(p => p.Name, p => p.Value);

    private static GenericChart WithTitle(GenericChart chart, string? title) =>
        title is null ? chart : Plotly.NET.Chart.withTitle(title, FSharpOption<Font>.None).Invoke(chart);

    private static GenericChart WithAxisTitles(GenericChart chart, string? xTitle, string? yTitle)
    {
        if (xTitle is not null) chart = Plotly.NET.CSharp.GenericChartExtensions.WithXAxisStyle<double, double, string>(chart, TitleText: xTitle);
        if (yTitle is not null) chart = Plotly.NET.CSharp.GenericChartExtensions.WithYAxisStyle<double, double, string>(chart, TitleText: yTitle);
        return chart;
    }

    private static double[] Linspace(double min, double max, int count) =>
        Enumerable.Range(0, count).Select(k => k == count - 1 ? max : min + (max - min) * k / (count - 1)).ToArray();

    /// <summary>JSON has no NaN or infinity; plotly treats null as a gap, which is what a missing value is.</summary>
    private static double?[] Numbers(IEnumerable<double> values) => values.Select(v => double.IsFinite(v) ? v : (double?)null).ToArray();

    private static double?[][] Rows(int rows, int columns, Func<int, int, double> value) =>
        Enumerable.Range(0, rows).Select(i => Numbers(Enumerable.Range(0, columns).Select(j => value(i, j)))).ToArray();

    private static void SameLength(params (string Name, int Count)[] arrays)
    {
        if (arrays.Any(a => a.Count != arrays[0].Count))
            throw new ArgumentException("chart inputs differ in length: " + string.Join(", ", arrays.Select(a => $"{a.Name} has {a.Count}")));
    }
}

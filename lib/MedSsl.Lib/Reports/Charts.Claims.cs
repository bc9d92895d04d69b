using MedSsl.Experiments;
using Plotly.NET;
using Plotly.NET.LayoutObjects;
using Microsoft.FSharp.Core;

namespace MedSsl.Reports;

public static partial class Charts
{
    /// <summary>The paired differences of each claim (treatment − control, one point per seed), its mean with the 95 %
    /// interval coloured by its verdict, a line at 0, and the paper's difference (a star) where it gives one. One row per
    /// claim; each row's label names its measure.</summary>
    public static GenericChart PairedDifferences(ClaimTable claims, string? title = null)
    {
        var shown = claims.Results.Where(r => r.Count > 0).ToList();
        if (shown.Count == 0) throw new ArgumentException("PairedDifferences needs a claim with at least one paired run", nameof(claims));
        // Numbered as in the claims table, so two claims that start alike keep their own rows.
        string Label(ClaimResult c) => $"{claims.Results.ToList().IndexOf(c) + 1}. {Shorten(c.Text, 48)}<br>({c.Measure}): {c.Verdict.ToString().ToLowerInvariant()}";
        var traces = new List<Trace>
        {
            NewTrace("scatter", ("mode", "markers"), ("name", "one seed"),
                ("x", Numbers(shown.SelectMany(c => c.Pairs.Select(p => p.Difference)))),
                ("y", shown.SelectMany(c => c.Pairs.Select(_ => Label(c))).ToArray()),
                ("text", shown.SelectMany(c => c.Pairs.Select(p => $"seed {p.Seed}: {p.Treatment:0.000} − {p.Control:0.000}")).ToArray()),
                ("marker", Attributes(("color", Palette[0]), ("opacity", 0.6), ("size", 8)))),
        };
        foreach (var verdict in Enum.GetValues<Verdict>())
        {
            var group = shown.Where(c => c.Count >= 2 && c.Verdict == verdict).ToList();
            if (group.Count == 0) continue;
            var colour = verdict switch { Verdict.Supported => "#00a36c", Verdict.Contradicted => "#d62728", _ => "#7f7f7f" };
            traces.Add(NewTrace("scatter", ("mode", "markers"), ("name", $"mean, 95 % CI: {verdict.ToString().ToLowerInvariant()}"),
                ("x", Numbers(group.Select(c => c.Difference))), ("y", group.Select(Label).ToArray()),
                ("text", group.Select(c => $"n = {c.Count}; detectable ≥ {c.Detectable:0.000}").ToArray()),
                ("marker", Attributes(("color", colour), ("symbol", "diamond"), ("size", 13), ("line", Attributes(("color", Outline), ("width", 1))))),
                ("error_x", Attributes(("type", "data"), ("symmetric", false), ("visible", true), ("color", colour),
                    ("array", group.Select(c => c.Interval[1] - c.Difference).ToArray()),
                    ("arrayminus", group.Select(c => c.Difference - c.Interval[0]).ToArray())))));
        }
        var papers = shown.Where(c => c.PaperDifference is not null).ToList();
        if (papers.Count > 0)
            traces.Add(NewTrace("scatter", ("mode", "markers"), ("name", "the paper's difference"),
                ("x", Numbers(papers.Select(c => c.PaperDifference!.Value))), ("y", papers.Select(Label).ToArray()),
                ("marker", Attributes(("color", Outline), ("symbol", "star"), ("size", 12)))));
        var chart = WithTitle(ChartOf(traces), title ?? "Paired differences per claim (treatment − control), one point per seed");
        var xAxis = new LinearAxis();
        xAxis.SetProperty("title", Attributes(("text", "difference, in each claim's measure")));
        xAxis.SetProperty("zeroline", true);
        xAxis.SetProperty("zerolinewidth", 2);
        xAxis.SetProperty("zerolinecolor", Outline);
        var yAxis = new LinearAxis();
        yAxis.SetProperty("type", "category");
        yAxis.SetProperty("automargin", true);
        yAxis.SetProperty("autorange", "reversed");
        chart = Plotly.NET.Chart.withXAxis(xAxis, FSharpOption<StyleParam.SubPlotId>.None).Invoke(chart);
        chart = Plotly.NET.Chart.withYAxis(yAxis, FSharpOption<StyleParam.SubPlotId>.None).Invoke(chart);
        return Plotly.NET.Chart.withSize(FSharpOption<int>.None, FSharpOption<int>.Some(160 + 80 * shown.Count)).Invoke(chart);
    }

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}

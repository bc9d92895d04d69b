using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MedSsl.Cli.Notebooks;
using MedSsl.Data;
using MedSsl.Reports;
using Microsoft.Data.Analysis;
using Plotly.NET;

namespace MedSsl.Cli.Sweeps;

/// <summary>DIR/sweep.html: what was swept, the points that failed or did not finish with their errors, each numeric
/// result against each swept parameter (<see cref="Figures"/>) and the gathered table, each point linked to its own report. Offline: plotly.js is
/// inlined once, as in the notebooks' reports.</summary>
internal static class SweepReport
{
    private const string Style = """
        body { font: 15px/1.5 system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #1b1b1b; }
        header { border-bottom: 1px solid #ddd; margin-bottom: 1.5em; }
        .status { display: inline-block; padding: 0 .5em; border-radius: 3px; font-weight: 600; }
        .status.ok { background: #d9f2df; } .status.failed, .status.missing { background: #f8d7da; }
        table { border-collapse: collapse; margin: .5em 0; font-size: 13px; }
        td, th { border: 1px solid #ccc; padding: .2em .6em; text-align: left; vertical-align: top; }
        td.error { white-space: pre-wrap; color: #8b0000; max-width: 50em; }
        .figure { margin: 1em 0; }
        """;

    public static void Write(string path, SweepSettings settings, SweepGrid grid, IReadOnlyList<GatheredPoint> points, DataFrame table)
    {
        var figures = Figures(grid, points);
        var html = new StringBuilder();
        var title = $"Sweep of {Path.GetFileName(settings.Notebook)}";
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(Encode(title))
            .Append("</title><style>").Append(Style).Append("</style>");
        var warnings = new List<string>();
        if (figures.Count > 0) HtmlReport.Inline(html, ReportScript.Plotly, "figures are not drawn", warnings);
        html.Append("</head><body><header><h1>").Append(Encode(title)).Append("</h1><p>");
        var counts = points.GroupBy(p => p.Status).OrderBy(g => g.Key == PointStatus.Ok ? 0 : 1).Select(g => $"{g.Count()} {g.Key}");
        html.Append(Encode($"{points.Count} points ({string.Join(", ", counts)}) over "
            + string.Join(" × ", grid.Parameters.Select(p => $"{p.Name} ∈ {{{string.Join(", ", p.Values)}}}"))
            + (settings.Profile is null ? "" : $", profile {settings.Profile}")
            + string.Concat(settings.FixedParameters.Select(p => $", {p.Name}={p.Value}"))
            + $". Notebook: {settings.Notebook}. Table: sweep.csv."));
        html.Append("</p>");
        foreach (var warning in warnings) html.Append("<p class=\"status failed\">").Append(Encode(warning)).Append("</p>");
        html.Append("</header>\n");

        var unfinished = points.Where(p => p.Status != PointStatus.Ok).ToList();
        if (unfinished.Count > 0)
        {
            html.Append("<h2>Failed and unfinished points</h2><p>Rerun them with <code>medssl sweep … --resume</code>.</p><table><tr><th>point</th><th>status</th><th>error</th></tr>\n");
            foreach (var point in unfinished)
                html.Append("<tr><td>").Append(PointLink(settings, point)).Append("</td><td><span class=\"status ").Append(point.Status).Append("\">")
                    .Append(Encode(point.Status)).Append("</span></td><td class=\"error\">").Append(Encode(point.Error ?? "")).Append("</td></tr>\n");
            html.Append("</table>\n");
        }

        if (figures.Count > 0) html.Append("<h2>Results against the swept parameters</h2><p>Boxes: the successful points at each value. Markers: their mean ± 95 % t-interval.</p>\n");
        foreach (var figure in figures)
            html.Append("<div class=\"figure\">").Append(DisplayFormatters.PlotlyHtml(JsonNode.Parse(GenericChart.toFigureJson(figure))!)).Append("</div>\n");

        html.Append("<h2>All points</h2><table><tr>");
        foreach (var column in table.Columns) html.Append("<th>").Append(Encode(column.Name)).Append("</th>");
        html.Append("</tr>\n");
        for (var row = 0; row < table.Rows.Count; row++)
        {
            html.Append("<tr>");
            foreach (var column in table.Columns)
            {
                var value = column[row];
                if (column.Name == "point") html.Append("<td>").Append(PointLink(settings, points[row])).Append("</td>");
                else html.Append(column.Name == "error" ? "<td class=\"error\">" : "<td>").Append(Encode(Format(value))).Append("</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</table></body></html>\n");
        AtomicFile.WriteAllText(path, html.ToString());
    }

    /// <summary>Each numeric result against each swept parameter that takes more than one value: a box of the
    /// successful points at every value (over the other parameters, e.g. seeds) with their mean ± 95 % t-interval,
    /// values in the grid's order.</summary>
    private static List<GenericChart> Figures(SweepGrid grid, IReadOnlyList<GatheredPoint> points)
    {
        var succeeded = points.Where(p => p.Status == PointStatus.Ok).ToList();
        var figures = new List<GenericChart>();
        foreach (var result in SweepTable.ResultNames(succeeded))
        {
            var numeric = succeeded.Where(p => p.Results.TryGetValue(result, out var v) && v.GetValueKind() == JsonValueKind.Number).ToList();
            if (numeric.Count == 0) continue;
            foreach (var (parameter, values) in grid.Parameters.Where(p => p.Values.Count > 1))
            {
                var runs = numeric.Select(p => (Group: p.Point.Parameters.Single(q => q.Name == parameter).Value, Value: p.Results[result].GetValue<double>()))
                    .OrderBy(run => values.ToList().IndexOf(run.Group));
                figures.Add(Charts.BoxWithCi(runs, $"{result} against {parameter}", result));
            }
        }
        return figures;
    }

    /// <summary>The point's own report when it has one (a finished point); else its name.</summary>
    private static string PointLink(SweepSettings settings, GatheredPoint point)
    {
        var report = Path.Combine(settings.PointFolder(point.Point), settings.NotebookStem + ".html");
        if (!File.Exists(report)) return Encode(point.Point.Folder);
        var href = Uri.EscapeDataString(point.Point.Folder) + "/" + Uri.EscapeDataString(settings.NotebookStem + ".html");
        return $"<a href=\"{Encode(href)}\">{Encode(point.Point.Folder)}</a>";
    }

    private static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}

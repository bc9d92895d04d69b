using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MedSsl.Data.Formats;
using MedSsl.Experiments;
using Microsoft.Data.Analysis;
using Plotly.NET;
using TorchSharp;

namespace MedSsl.Reports;

/// <summary>A grey image, [row, column] with row 0 at the top and values in [0, 1] (clipped); shown as a PNG.</summary>
public sealed record GrayImage(float[,] Pixels);

/// <summary>
/// The one place a value becomes a mime bundle (nbformat's "data": mime type → text, or JSON for JSON types), in
/// order of preference. <c>medssl run</c>, its HTML reports and the Jupyter kernel all show values through it.
/// Built in: Plotly.NET charts (plotly's JSON plus HTML that draws itself once the page has plotly.js), DataFrames (an HTML
/// table), tensors (shape, dtype and values), <see cref="GrayImage"/> (PNG); anything
/// else is its text. Add a type with <see cref="Register{T}"/>.
/// </summary>
public static class DisplayFormatters
{
    public const string PlotlyMimeType = "application/vnd.plotly.v1+json";

    /// <summary>The attribute on every chart's element; a report writer looks for it to know a page needs plotly.js.</summary>
    public const string PlotlyHtmlMarker = "data-medssl-plotly";

    /// <summary>Rows of a DataFrame shown in HTML; the rest are counted in a note.</summary>
    public const int DataFrameRowsShown = 100;

    private static readonly object Gate = new();
    private static List<(Type Type, Func<object, JsonObject> Format)> formatters = [];

    static DisplayFormatters()
    {
        Register<GenericChart>(ChartBundle);
        Register<DataFrame>(TableBundle);
        Register<ClaimTable>(ClaimsBundle);
        Register<Findings>(findings => new JsonObject
        {
            ["text/html"] = "<ul class=\"medssl-findings\">" + string.Concat(findings.Points.Select(p => $"<li>{WebUtility.HtmlEncode(p)}</li>")) + "</ul>",
            ["text/plain"] = findings.ToString(),
        });
        Register<torch.Tensor>(tensor => new JsonObject { ["text/plain"] = TensorText(tensor) });
        Register<GrayImage>(image => new JsonObject { ["image/png"] = Convert.ToBase64String(EncodePng(image)), ["text/plain"] = $"GrayImage {image.Pixels.GetLength(0)}x{image.Pixels.GetLength(1)}" });
    }

    /// <summary>Shows values of type <typeparamref name="T"/> (and types derived from it) as the bundle
    /// <paramref name="format"/> returns, most preferred mime type first. The latest registration that fits a value
    /// wins, so a registration replaces a built-in one.</summary>
    public static void Register<T>(Func<T, JsonObject> format) where T : notnull
    {
        ArgumentNullException.ThrowIfNull(format);
        lock (Gate) formatters = [.. formatters, (typeof(T), value => format((T)value))];
    }

    /// <summary>The value's mime bundle, most preferred first; it always holds text/plain.</summary>
    public static JsonObject Format(object? value)
    {
        var bundle = value is null ? new JsonObject() : FormatterFor(value.GetType()) is { } format ? format(value) : new JsonObject();
        if (!bundle.ContainsKey("text/plain")) bundle["text/plain"] = PlainText(value);
        return bundle;
    }

    /// <summary>The bundle restricted to <paramref name="mimeTypes"/> in that order (all of <see cref="Format(object?)"/>
    /// when empty); a requested type the value does not offer is made from its text (HTML as a &lt;pre&gt;, JSON by
    /// serializing the value).</summary>
    public static JsonObject Format(object? value, IReadOnlyCollection<string> mimeTypes)
    {
        var full = Format(value);
        if (mimeTypes.Count == 0) return full;
        var bundle = new JsonObject();
        foreach (var mime in mimeTypes.Distinct())
        {
            bundle[mime] = full[mime]?.DeepClone() ?? mime switch
            {
                "text/html" => JsonValue.Create($"<pre>{WebUtility.HtmlEncode(PlainText(value))}</pre>"),
                "application/json" => JsonSerializer.SerializeToNode(value),
                _ => JsonValue.Create(PlainText(value)),
            };
        }
        return bundle;
    }

    /// <summary>A div and a script that draws <paramref name="figure"/> ({"data", "layout"}) with the page's plotly.js
    /// (window.Plotly). The page may get plotly.js after the chart (a notebook's first chart carries it,
    /// <see cref="PlotlyLoaderHtml"/>; outputs render in any order), so the script waits for it up to a minute, then
    /// says why nothing is drawn. Until drawn, the div shows <paramref name="fallback"/>: what a view that runs no
    /// output scripts (an untrusted notebook) shows. Without a layout width the chart fills its container's width.</summary>
    public static string PlotlyHtml(JsonNode figure, string? fallback = null)
    {
        var id = "plotly-" + Guid.NewGuid().ToString("N")[..12];
        // "<\/" keeps a value such as "</script>" inside the JSON from closing the script element.
        var json = figure.ToJsonString().Replace("</", "<\\/", StringComparison.Ordinal);
        fallback ??= ChartText(figure) + " (not drawn: this view did not run the output's script)";
        return $$"""
            <div id="{{id}}" {{PlotlyHtmlMarker}} style="width:100%">{{WebUtility.HtmlEncode(fallback)}}</div>
            <script type="text/javascript">
            (function () {
              var figure = {{json}};
              var element = document.getElementById("{{id}}");
              var waited = 0;
              function draw() {
                if (window.Plotly) {
                  element.textContent = "";
                  window.Plotly.newPlot(element, figure.data, figure.layout, {responsive: true});
                } else if ((waited += 100) > 60000) {
                  element.textContent = "plotly.js did not arrive on this page, so this figure is not drawn. In a notebook it travels with the session's first chart: run the notebook from its first cell.";
                } else {
                  setTimeout(draw, 100);
                }
              }
              draw();
            })();
            </script>
            """;
    }

    /// <summary>A script element that defines window.Plotly from <paramref name="plotlyJs"/> (the pinned
    /// plotly.min.js) unless the page already has it. plotly.js 4's bundle assigns window.Plotly itself and uses no
    /// AMD define, so classic Notebook's require.js does not intercept it.</summary>
    public static string PlotlyLoaderHtml(string plotlyJs) =>
        "<script type=\"text/javascript\">if (!window.Plotly) {\n" + plotlyJs + "\n}</script>\n";

    private static string ChartText(JsonNode figure)
    {
        var traces = figure["data"]?.AsArray().Count ?? 0;
        var title = figure["layout"]?["title"]?["text"]?.GetValue<string>();
        return $"chart{(title is null ? "" : $" \"{title}\"")} with {traces} trace{(traces == 1 ? "" : "s")}";
    }

    /// <summary>Values without a formatter: collections list their first 100 items, anything else its ToString.</summary>
    public static string PlainText(object? value) => value switch
    {
        null => "<null>",
        string s => s,
        System.Collections.IEnumerable items when value.GetType().GetMethod("ToString", Type.EmptyTypes)?.DeclaringType == typeof(object) =>
            "[" + string.Join(", ", items.Cast<object?>().Take(100).Select(PlainText)) + (items.Cast<object?>().Skip(100).Any() ? ", ..." : "") + "]",
        _ => value.ToString() ?? "",
    };

    private static Func<object, JsonObject>? FormatterFor(Type type)
    {
        var snapshot = formatters;
        for (var k = snapshot.Count - 1; k >= 0; k--)
            if (snapshot[k].Type.IsAssignableFrom(type)) return snapshot[k].Format;
        return null;
    }

    private static JsonObject ChartBundle(GenericChart chart)
    {
        var figure = JsonNode.Parse(GenericChart.toFigureJson(chart))!;
        // Plotly.NET writes its default width (600 px) into every layout that sets none; without it the chart fills
        // the width of the page or output area it is drawn in (plotly.js autosize, redrawn on resize). A width the
        // chart sets itself (the image grids) stays.
        if (figure["layout"] is JsonObject layout && layout["width"] is JsonValue width && width.TryGetValue<int>(out var pixels)
            && pixels == Defaults.DefaultWidth)
        {
            layout.Remove("width");
            layout["autosize"] = true;
        }
        return new JsonObject
        {
            [PlotlyMimeType] = figure,
            ["text/html"] = PlotlyHtml(figure),
            ["text/plain"] = ChartText(figure),
        };
    }

    /// <summary>A claims table: each claim with its source, n, the paired difference and its 95 % interval, the smallest
    /// difference n detects, the verdict (coloured) and the paper's difference where given.</summary>
    private static JsonObject ClaimsBundle(ClaimTable claims)
    {
        static string F(double v) => double.IsNaN(v) ? "–" : v.ToString("+0.000;−0.000;0.000", CultureInfo.InvariantCulture);
        var html = new StringBuilder("<table class=\"medssl-results medssl-claims\"><thead><tr>");
        foreach (var name in new[] { "#", "claim", "source", "measure", "n", "difference", "95 % interval", "detectable", "verdict", "paper" })
            html.Append("<th>").Append(WebUtility.HtmlEncode(name)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var (c, k) in claims.Results.Select((c, k) => (c, k)))
        {
            var colour = c.Verdict switch { Verdict.Supported => "#00a36c", Verdict.Contradicted => "#d62728", _ => "#7f7f7f" };
            html.Append("<tr><td>").Append(k + 1).Append("</td><td>").Append(WebUtility.HtmlEncode(c.Text)).Append("</td><td>").Append(WebUtility.HtmlEncode(c.Source))
                .Append("</td><td>").Append(WebUtility.HtmlEncode(c.Measure)).Append("</td><td style=\"text-align:right\">").Append(c.Count)
                .Append("</td><td style=\"text-align:right\">").Append(F(c.Difference))
                .Append("</td><td style=\"text-align:right\">").Append(c.Count < 2 ? "–" : $"[{F(c.Interval[0])}, {F(c.Interval[1])}]")
                .Append("</td><td style=\"text-align:right\">").Append(double.IsNaN(c.Detectable) ? "–" : c.Detectable.ToString("0.000", CultureInfo.InvariantCulture))
                .Append($"</td><td style=\"color:{colour};font-weight:bold\">").Append(c.Verdict.ToString().ToLowerInvariant())
                .Append("</td><td style=\"text-align:right\">").Append(c.PaperDifference is { } p ? F(p) : "").Append("</td></tr>");
        }
        html.Append("</tbody></table>");
        return new JsonObject { ["text/html"] = html.ToString(), ["text/plain"] = claims.Summary };
    }

    private static JsonObject TableBundle(DataFrame frame)
    {
        var rows = frame.Rows.Count;
        var shown = (int)Math.Min(rows, DataFrameRowsShown);
        var html = new StringBuilder("<table class=\"medssl-results\"><thead><tr>");
        foreach (var column in frame.Columns) html.Append("<th>").Append(WebUtility.HtmlEncode(column.Name)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        for (var row = 0; row < shown; row++)
        {
            html.Append("<tr>");
            foreach (var column in frame.Columns)
            {
                var cell = column[row];
                html.Append(IsNumber(cell) ? "<td style=\"text-align:right\">" : "<td>").Append(WebUtility.HtmlEncode(Cell(cell))).Append("</td>");
            }
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
        if (shown < rows) html.Append(CultureInfo.InvariantCulture, $"<p>First {shown} of {rows} rows.</p>");
        var text = new StringBuilder().AppendJoin('\t', frame.Columns.Select(c => c.Name)).Append('\n');
        for (var row = 0; row < shown; row++) text.AppendJoin('\t', frame.Columns.Select(c => Cell(c[row]))).Append('\n');
        if (shown < rows) text.Append(CultureInfo.InvariantCulture, $"({rows} rows, first {shown} shown)\n");
        return new JsonObject { ["text/html"] = html.ToString(), ["text/plain"] = text.ToString() };
    }

    /// <summary>Non-integers with 4 significant digits (a metric's 0.8734, a loss's 1.234e-05); integers as they are.</summary>
    private static string Cell(object? value) => value switch
    {
        null => "",
        double d => d.ToString("G4", CultureInfo.InvariantCulture),
        float f => f.ToString("G4", CultureInfo.InvariantCulture),
        decimal m => m.ToString("G4", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static bool IsNumber(object? value) => value is sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal;

    /// <summary>TorchSharp's numpy-style text, which elides the middle of large dimensions, under a line naming
    /// the shape, dtype and device.</summary>
    private static string TensorText(torch.Tensor tensor) =>
        $"tensor of shape [{string.Join(", ", tensor.shape)}], dtype {tensor.dtype}, device {tensor.device}\n{tensor.ToString(TensorStringStyle.Numpy)}";

    private static byte[] EncodePng(GrayImage image)
    {
        var (height, width) = (image.Pixels.GetLength(0), image.Pixels.GetLength(1));
        var samples = new ushort[height * width];
        for (var i = 0; i < height; i++)
            for (var j = 0; j < width; j++)
                samples[i * width + j] = (ushort)Math.Round(255 * Math.Clamp(float.IsNaN(image.Pixels[i, j]) ? 0 : image.Pixels[i, j], 0, 1));
        return Png.Encode(new PngImage(width, height, 1, 8, samples));
    }
}

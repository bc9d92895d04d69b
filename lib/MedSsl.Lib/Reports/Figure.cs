using System.Text.Json;
using System.Text.Json.Nodes;

namespace MedSsl.Reports;

/// <summary>
/// A plotly.js figure: traces plus a layout, as the JSON <c>Plotly.newPlot</c> takes. Build one with <see cref="Plot"/>,
/// then make it the last expression of a notebook cell (or pass it to <c>display</c>) to draw it. Its HTML draws with
/// <c>window.Plotly</c> when the page already has it (the offline reports of <c>medssl run</c> inline plotly.js once)
/// and otherwise loads the pinned plotly.js from a CDN (VS Code's Polyglot Notebooks); plotly.js 4's bundle is not
/// an AMD module, so a plain script element works whether or not require.js is on the page.
/// </summary>
[TypeFormatterSource(typeof(RichDisplayFormatterSource))]
public sealed class Figure : IRichDisplay
{
    /// <summary>Must match lib/MedSsl.Lib/Reports/plotly/package.json.</summary>
    public const string PlotlyVersion = "4.1.2";

    /// <summary>The marker a report writer looks for to know a page needs plotly.js.</summary>
    public const string HtmlMarker = "data-medssl-plotly";

    private static readonly string CdnUrl = $"https://cdn.jsdelivr.net/npm/plotly.js-dist-min@{PlotlyVersion}/plotly.min.js";

    public JsonArray Data { get; } = [];
    public JsonObject Layout { get; } = new();

    /// <summary>Pixel height of the drawing; the width follows the page.</summary>
    public int Height { get; set; } = 450;

    public Figure(string? title = null)
    {
        if (title is not null) Layout["title"] = new JsonObject { ["text"] = title };
    }

    public Figure AddTrace(JsonObject trace)
    {
        Data.Add(trace);
        return this;
    }

    /// <summary>Appends the other figure's traces (drawn on top of this one's); keeps this figure's layout.</summary>
    public Figure Overlay(Figure other)
    {
        foreach (var trace in other.Data) Data.Add(trace?.DeepClone());
        return this;
    }

    public Figure WithAxisTitles(string? x, string? y)
    {
        if (x is not null) Layout["xaxis"] = Merge(Layout["xaxis"], new JsonObject { ["title"] = new JsonObject { ["text"] = x } });
        if (y is not null) Layout["yaxis"] = Merge(Layout["yaxis"], new JsonObject { ["title"] = new JsonObject { ["text"] = y } });
        return this;
    }

    /// <summary><c>{"data": [...], "layout": {...}}</c>.</summary>
    public string ToJson() => new JsonObject { ["data"] = Data.DeepClone(), ["layout"] = Layout.DeepClone() }.ToJsonString();

    public string ToHtml()
    {
        var id = "plotly-" + Guid.NewGuid().ToString("N")[..12];
        // The default encoder escapes < > & as \u003C..., so the JSON cannot close the script element.
        var spec = ToJson();
        var cdn = JsonSerializer.Serialize(CdnUrl);
        return $$"""
            <div id="{{id}}" {{HtmlMarker}} style="width:100%;height:{{Height}}px"></div>
            <script type="text/javascript">
            (function () {
              var spec = {{spec}};
              function draw(Plotly) { Plotly.newPlot("{{id}}", spec.data, spec.layout, {responsive: true}); }
              if (window.Plotly) { draw(window.Plotly); return; }
              var url = {{cdn}};
              var script = document.createElement("script");
              script.src = url;
              script.onload = function () { draw(window.Plotly); };
              document.head.appendChild(script);
            })();
            </script>
            """;
    }

    public override string ToString() =>
        $"Figure({(Layout["title"]?["text"]?.GetValue<string>() ?? "untitled")}, {Data.Count} trace{(Data.Count == 1 ? "" : "s")})";

    private static JsonObject Merge(JsonNode? existing, JsonObject update)
    {
        var merged = existing?.DeepClone() as JsonObject ?? new JsonObject();
        foreach (var (key, value) in update) merged[key] = value?.DeepClone();
        return merged;
    }
}

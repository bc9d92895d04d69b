using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Markdig;
using MedSsl.Data;
using MedSsl.Reports;

namespace MedSsl.Cli.Notebooks;

/// <summary>A standalone HTML page of an executed notebook: markdown rendered, code, every output. Plotly figures
/// (<c>application/vnd.plotly.v1+json</c>) are drawn from their JSON, with plotly.js inlined once in the head, so the
/// page needs no network.</summary>
internal static partial class HtmlReport
{
    // Markdig's advanced extensions without generic attributes: those read "{…}" after an inline as HTML attributes
    // before the math extension sees it, so "$\mathcal{L}$" lost its braces and MathJax showed raw TeX.
    private static readonly MarkdownPipeline Markdown = new MarkdownPipelineBuilder()
        .UseAbbreviations().UseAutoIdentifiers().UseCitations().UseCustomContainers().UseDefinitionLists().UseEmphasisExtras()
        .UseFigures().UseFooters().UseFootnotes().UseGridTables().UseMathematics().UseMediaLinks().UsePipeTables()
        .UseListExtras().UseTaskLists().UseDiagrams().UseAutoLinks().Build();

    private const string Style = """
        body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #1b1b1b; }
        header { border-bottom: 1px solid #ddd; margin-bottom: 1.5em; }
        .status { display: inline-block; padding: 0 .5em; border-radius: 3px; font-weight: 600; }
        .status.ok { background: #d9f2df; } .status.failed { background: #f8d7da; }
        .cell { margin: 1em 0; }
        .code pre.source { background: #f6f8fa; border-left: 3px solid #8aa4c8; padding: .6em; overflow-x: auto; font-size: 13px; }
        .code.failed pre.source { border-left-color: #d33; }
        .code.not-run { opacity: .55; }
        .label { color: #777; font: 12px monospace; }
        pre.stream, pre.plain { margin: .3em 0; padding: .3em .6em; overflow-x: auto; font-size: 13px; }
        pre.stderr { background: #fff4e5; }
        pre.error { background: #fde8ea; color: #8b0000; padding: .6em; white-space: pre-wrap; }
        table.medssl-results { border-collapse: collapse; margin: .5em 0; display: block; max-width: 100%; overflow-x: auto; }
        table.medssl-results td, table.medssl-results th { border: 1px solid #ccc; padding: .2em .6em; }
        .output.plotly { width: 100%; }
        """;

    /// <summary>What Markdig's math extension puts around TeX in rendered markdown.</summary>
    private const string MathMarker = "class=\"math\"";

    /// <summary>Inlines <paramref name="script"/> into <paramref name="html"/>, or adds a warning saying what is missing.</summary>
    internal static void Inline(StringBuilder html, ReportScript script, string consequence, List<string> warnings)
    {
        // Opened by the page's own script element; neither bundle contains "</script".
        if (script.Find() is { } file)
            html.Append("<script type=\"text/javascript\">").Append(File.ReadAllText(file)).Append("</script>");
        else
            warnings.Add($"{script.FileName} was not found, so {consequence}; run lib/scripts/setup.sh (npm ci in lib/MedSsl.Lib/Reports/plotly) and rebuild");
    }

    /// <summary>Writes the report atomically (a temporary file renamed to <paramref name="path"/>).</summary>
    public static void Write(NotebookDocument notebook, string path, string title, string summary, bool succeeded)
    {
        var body = new StringBuilder();
        foreach (var cell in notebook.Cells) AppendCell(body, cell);
        var text = body.ToString();
        var needsPlotly = text.Contains(DisplayFormatters.PlotlyHtmlMarker, StringComparison.Ordinal);
        var needsMath = text.Contains(MathMarker, StringComparison.Ordinal);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .Append(WebUtility.HtmlEncode(title)).Append("</title><style>").Append(Style).Append("</style>");
        var warnings = new List<string>();
        if (needsPlotly) Inline(html, ReportScript.Plotly, "figures are not drawn", warnings);
        if (needsMath)
        {
            // Markdig's math extension leaves \(…\) and \[…\] inside these spans; MathJax typesets them on load.
            html.Append("<script>window.MathJax = { tex: { inlineMath: [['\\\\(', '\\\\)']] }, svg: { fontCache: 'global' } };</script>");
            Inline(html, ReportScript.MathJax, "equations are shown as TeX", warnings);
        }
        html.Append("</head><body><header><h1>").Append(WebUtility.HtmlEncode(title)).Append("</h1><p><span class=\"status ")
            .Append(succeeded ? "ok\">ran" : "failed\">failed").Append("</span> ").Append(WebUtility.HtmlEncode(summary)).Append("</p>");
        foreach (var warning in warnings) html.Append("<p class=\"status failed\">").Append(WebUtility.HtmlEncode(warning)).Append("</p>");
        html.Append("</header>\n").Append(body).Append("</body></html>\n");
        AtomicFile.WriteAllText(path, html.ToString());
    }

    private static void AppendCell(StringBuilder html, JsonObject cell)
    {
        var source = NotebookDocument.Source(cell);
        switch (cell["cell_type"]?.GetValue<string>())
        {
            case "markdown":
                html.Append("<div class=\"cell markdown\">").Append(Markdig.Markdown.ToHtml(DisplayMathOnOwnLines(source), Markdown)).Append("</div>\n");
                return;
            case "raw":
                html.Append("<div class=\"cell raw\"><pre>").Append(WebUtility.HtmlEncode(source)).Append("</pre></div>\n");
                return;
        }
        var status = cell["metadata"]?["medssl"]?["status"]?.GetValue<string>() ?? "ok";
        var count = cell["execution_count"]?.ToString() ?? " ";
        html.Append("<div class=\"cell code ").Append(status).Append("\"><div class=\"label\">In [").Append(count).Append(']');
        if (status != "ok") html.Append(" — ").Append(status.Replace('-', ' '));
        html.Append("</div><pre class=\"source\"><code>").Append(WebUtility.HtmlEncode(source)).Append("</code></pre>");
        foreach (var output in (cell["outputs"] as JsonArray ?? []).OfType<JsonObject>()) AppendOutput(html, output);
        html.Append("</div>\n");
    }

    private static void AppendOutput(StringBuilder html, JsonObject output)
    {
        switch (output["output_type"]?.GetValue<string>())
        {
            case "stream":
                var name = output["name"]?.GetValue<string>() ?? "stdout";
                html.Append("<pre class=\"stream ").Append(name).Append("\">").Append(WebUtility.HtmlEncode(Text(output["text"]))).Append("</pre>");
                break;
            case "error":
                html.Append("<pre class=\"error\">").Append(WebUtility.HtmlEncode(string.Join("\n", (output["traceback"] as JsonArray ?? []).Select(t => t?.GetValue<string>()))))
                    .Append("</pre>");
                break;
            case "display_data" or "execute_result" when output["data"] is JsonObject data:
                if (data[DisplayFormatters.PlotlyMimeType] is { } figure) html.Append("<div class=\"output plotly\">").Append(DisplayFormatters.PlotlyHtml(figure)).Append("</div>");
                else if (data["text/html"] is { } markup) html.Append("<div class=\"output html\">").Append(Text(markup)).Append("</div>");
                else if (data["image/png"] is { } png) html.Append("<img alt=\"output\" src=\"data:image/png;base64,").Append(Text(png).Replace("\n", "")).Append("\">");
                else if (data["image/svg+xml"] is { } svg) html.Append(Text(svg));
                else if (data["text/markdown"] is { } md) html.Append(Markdig.Markdown.ToHtml(DisplayMathOnOwnLines(Text(md)), Markdown));
                else if (data["text/plain"] is { } plain) html.Append("<pre class=\"plain\">").Append(WebUtility.HtmlEncode(Text(plain))).Append("</pre>");
                break;
        }
    }

    /// <summary>Jupyter's front ends (marked + MathJax) take a line-initial "$$…$$", also one running over several
    /// lines, as a display equation; Markdig does not when it spans lines (its "_" then become emphasis and MathJax
    /// gets no math). Every such equation is put between "$$" lines, Markdig's display-math block.</summary>
    internal static string DisplayMathOnOwnLines(string markdown) =>
        DisplayMath().Replace(markdown, m => $"{m.Groups[1].Value}$$\n{m.Groups[2].Value.Trim()}\n{m.Groups[1].Value}$$");

    [GeneratedRegex(@"^([ \t]*)\$\$(?![ \t]*$)([^$]+?)\$\$[ \t]*$", RegexOptions.Multiline)]
    private static partial Regex DisplayMath();

    /// <summary>nbformat allows multiline strings as one string or a list of lines.</summary>
    private static string Text(JsonNode? node) => node switch
    {
        JsonArray lines => string.Concat(lines.Select(l => l?.GetValue<string>())),
        JsonValue value => value.GetValue<string>(),
        _ => "",
    };
}

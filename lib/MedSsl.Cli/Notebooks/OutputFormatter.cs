using System.Text.Json.Nodes;
using MedSsl.Reports;

namespace MedSsl.Cli.Notebooks;

/// <summary>
/// Mime bundles (nbformat's "data") for <c>medssl run</c> and the kernel alike: the library's
/// <see cref="DisplayFormatters"/> registry, plus the notebook globals' own <see cref="HtmlString"/>. The first chart
/// a process (a kernel session, a notebook run) shows carries the pinned plotly.js in its HTML, so a front end that
/// draws only HTML (classic Notebook, JupyterLab without jupyterlab-plotly, nbconvert's HTML) draws it and every
/// later chart offline; the later charts' HTML waits for it.
/// </summary>
internal static class OutputFormatter
{
    private static int plotlySent;

    static OutputFormatter() => DisplayFormatters.Register<HtmlString>(html => new JsonObject { ["text/html"] = html.Html });

    /// <summary>The value in <paramref name="mimeTypes"/> (a <c>display(value, mimeTypes)</c> request), else in every
    /// mime type the registry offers for it.</summary>
    public static JsonObject Format(object? value, IReadOnlyCollection<string> mimeTypes)
    {
        var bundle = DisplayFormatters.Format(value, mimeTypes);
        if (bundle["text/html"] is JsonValue html && html.TryGetValue<string>(out var markup)
            && markup.Contains(DisplayFormatters.PlotlyHtmlMarker, StringComparison.Ordinal)
            && Volatile.Read(ref plotlySent) == 0 && ReportScript.Plotly.Find() is { } plotly
            && Interlocked.Exchange(ref plotlySent, 1) == 0)
            bundle["text/html"] = DisplayFormatters.PlotlyLoaderHtml(File.ReadAllText(plotly)) + markup;
        return bundle;
    }
}

/// <summary>What <c>HTML("...")</c> returns: markup shown as is.</summary>
public sealed class HtmlString(string html)
{
    public string Html { get; } = html;
    public override string ToString() => Html;
}

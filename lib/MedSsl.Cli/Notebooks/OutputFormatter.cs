using System.Text.Json.Nodes;
using MedSsl.Reports;

namespace MedSsl.Cli.Notebooks;

/// <summary>
/// Mime bundles (nbformat's "data") for <c>medssl run</c> and the kernel alike: the library's
/// <see cref="DisplayFormatters"/> registry, plus the notebook globals' own <see cref="HtmlString"/>.
/// </summary>
internal static class OutputFormatter
{
    static OutputFormatter() => DisplayFormatters.Register<HtmlString>(html => new JsonObject { ["text/html"] = html.Html });

    /// <summary>The value in <paramref name="mimeTypes"/> (a <c>display(value, mimeTypes)</c> request), else in every
    /// mime type the registry offers for it.</summary>
    public static JsonObject Format(object? value, IReadOnlyCollection<string> mimeTypes) => DisplayFormatters.Format(value, mimeTypes);
}

/// <summary>What <c>HTML("...")</c> returns: markup shown as is.</summary>
public sealed class HtmlString(string html)
{
    public string Html { get; } = html;
    public override string ToString() => Html;
}

using System.Collections;
using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using MedSsl.Reports;

namespace MedSsl.Cli.Notebooks;

/// <summary>
/// Turns a value into a mime bundle (nbformat's "data"). Library types show themselves through the attribute
/// convention .NET Interactive uses (an attribute named <c>TypeFormatterSourceAttribute</c> whose source creates
/// formatters with <c>MimeType</c> and <c>Format(object, TextWriter)</c>), so they render the same in VS Code and here.
/// Figures also carry plotly's own mime type, which VS Code and JupyterLab draw natively. This is the one place
/// values become mime bundles, for <c>medssl run</c> and the kernel alike.
/// </summary>
internal static class OutputFormatter
{
    public const string PlotlyMimeType = "application/vnd.plotly.v1+json";

    public static JsonObject Format(object? value, IReadOnlyCollection<string> mimeTypes)
    {
        var bundle = new JsonObject();
        if (value is HtmlString html)
        {
            bundle["text/html"] = html.Html;
            return bundle;
        }
        if (value is Figure figure && (mimeTypes.Count == 0 || mimeTypes.Contains(PlotlyMimeType)))
            bundle[PlotlyMimeType] = JsonNode.Parse(figure.ToJson());
        foreach (var formatter in ConventionFormatters(value))
        {
            if (bundle.ContainsKey(formatter.MimeType) || (mimeTypes.Count > 0 && !mimeTypes.Contains(formatter.MimeType))) continue;
            var writer = new StringWriter();
            if (formatter.Format(value!, writer)) bundle[formatter.MimeType] = writer.ToString();
        }
        var wanted = mimeTypes.Count > 0 ? mimeTypes : ["text/plain"];
        foreach (var mime in wanted)
        {
            if (bundle.ContainsKey(mime)) continue;
            bundle[mime] = mime switch
            {
                "text/html" => $"<pre>{WebUtility.HtmlEncode(PlainText(value))}</pre>",
                "application/json" => JsonNode.Parse(JsonSerializer.Serialize(value)),
                _ => PlainText(value),
            };
        }
        return bundle;
    }

    public static string PlainText(object? value) => value switch
    {
        null => "<null>",
        string s => s,
        IEnumerable items when value.GetType().GetMethod("ToString", Type.EmptyTypes)?.DeclaringType == typeof(object) =>
            "[" + string.Join(", ", items.Cast<object?>().Take(100).Select(PlainText)) + (items.Cast<object?>().Skip(100).Any() ? ", ..." : "") + "]",
        _ => value.ToString() ?? "",
    };

    private sealed record Formatter(string MimeType, Func<object, TextWriter, bool> Format);

    private static IEnumerable<Formatter> ConventionFormatters(object? value)
    {
        if (value is null) yield break;
        var attributes = value.GetType().GetCustomAttributes(inherit: true)
            .Where(a => a.GetType().Name == "TypeFormatterSourceAttribute");
        foreach (var attribute in attributes)
        {
            if (attribute.GetType().GetProperty("FormatterSourceType")?.GetValue(attribute) is not Type sourceType) continue;
            var source = Activator.CreateInstance(sourceType, nonPublic: true);
            var create = sourceType.GetMethod("CreateTypeFormatters", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance);
            if (create?.Invoke(source, null) is not IEnumerable formatters) continue;
            foreach (var formatter in formatters.Cast<object>())
            {
                var type = formatter.GetType();
                var mime = type.GetProperty("MimeType")?.GetValue(formatter) as string;
                var format = type.GetMethod("Format", [typeof(object), typeof(TextWriter)]);
                if (mime is null || format is null) continue;
                yield return new Formatter(mime, (v, w) => format.Invoke(formatter, [v, w]) is true);
            }
        }
    }
}

/// <summary>What <c>HTML("...")</c> returns: markup shown as is.</summary>
public sealed class HtmlString(string html)
{
    public string Html { get; } = html;
    public override string ToString() => Html;
}

namespace MedSsl.Reports;

/// <summary>A value that shows itself as HTML in a notebook (figures, results tables).</summary>
public interface IRichDisplay
{
    /// <summary>A self-contained HTML fragment.</summary>
    string ToHtml();
}

/// <summary>
/// How notebook hosts find our HTML without this library referencing them. .NET Interactive (VS Code's
/// Polyglot Notebooks) looks for an attribute <em>named</em> <c>TypeFormatterSourceAttribute</c> and calls
/// <c>CreateTypeFormatters()</c> on its source type; each formatter has a <c>MimeType</c> and
/// <c>bool Format(object, TextWriter)</c>. <c>medssl run</c> follows the same convention, so one attribute serves both.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Interface, Inherited = true)]
internal sealed class TypeFormatterSourceAttribute(Type formatterSourceType) : Attribute
{
    public Type FormatterSourceType { get; } = formatterSourceType;
    public string[] PreferredMimeTypes { get; set; } = ["text/html"];
}

internal sealed class RichDisplayFormatterSource
{
    public IEnumerable<object> CreateTypeFormatters() => [new HtmlFormatter(), new PlainTextFormatter()];

    private sealed class HtmlFormatter
    {
        public string MimeType => "text/html";

        public bool Format(object instance, TextWriter writer)
        {
            if (instance is not IRichDisplay rich) return false;
            writer.Write(rich.ToHtml());
            return true;
        }
    }

    private sealed class PlainTextFormatter
    {
        public string MimeType => "text/plain";

        public bool Format(object instance, TextWriter writer)
        {
            if (instance is not IRichDisplay) return false;
            writer.Write(instance.ToString());
            return true;
        }
    }
}

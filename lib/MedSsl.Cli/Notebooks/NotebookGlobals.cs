using System.Text.Json.Nodes;

namespace MedSsl.Cli.Notebooks;

/// <summary>
/// The globals a cell sees, matching those of .NET Interactive's C# kernel that notebooks use, so a notebook runs
/// the same under <c>medssl run</c> and in VS Code's Polyglot Notebooks.
/// </summary>
public sealed class NotebookGlobals
{
    internal CellOutputs Outputs { get; } = new();

    /// <summary>Shows <paramref name="value"/> as a display output (in the given mime types, else the richest the
    /// value offers); the returned handle replaces it later with <see cref="DisplayedValue.Update"/>.</summary>
    public DisplayedValue display(object? value, params string[] mimeTypes)
    {
        var output = new JsonObject
        {
            ["output_type"] = "display_data",
            ["data"] = OutputFormatter.Format(value, mimeTypes),
            ["metadata"] = new JsonObject(),
        };
        Outputs.Add(output);
        return new DisplayedValue(output, mimeTypes);
    }

    /// <summary>Markup to show as HTML, e.g. as a cell's last expression or through <c>display</c>.</summary>
    public HtmlString HTML(string html) => new(html);
}

/// <summary>A shown value that can be replaced in place (progress, a figure redrawn each epoch).</summary>
public sealed class DisplayedValue
{
    private readonly JsonObject output;
    private readonly string[] mimeTypes;

    internal DisplayedValue(JsonObject output, string[] mimeTypes)
    {
        this.output = output;
        this.mimeTypes = mimeTypes;
    }

    public void Update(object? value) => output["data"] = OutputFormatter.Format(value, mimeTypes);
}

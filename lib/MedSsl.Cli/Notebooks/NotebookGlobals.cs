namespace MedSsl.Cli.Notebooks;

/// <summary>
/// The globals a cell sees, matching those of .NET Interactive's C# kernel that notebooks use (<c>display</c>,
/// <c>HTML</c>), so a notebook runs the same under <c>medssl run</c>, the C# (MedSsl) kernel and Polyglot Notebooks.
/// </summary>
public sealed class NotebookGlobals
{
    internal CellOutputs Outputs { get; } = new();

    /// <summary>Cancelled when the running cell is interrupted (Jupyter's interrupt, or <c>medssl run</c>'s cell
    /// timeout). Pass it to long awaits and loops: <c>await Task.Delay(60_000, Cancellation)</c>. Library training
    /// loops see the same token through <c>MedSsl.Training.RunCancellation.Current</c>.</summary>
    public CancellationToken Cancellation { get; internal set; }

    /// <summary>Shows <paramref name="value"/> as a display output (in the given mime types, else the richest the
    /// value offers); the returned handle replaces it later with <see cref="DisplayedValue.Update"/>.</summary>
    public DisplayedValue display(object? value, params string[] mimeTypes)
    {
        var shown = new DisplayedValue(Outputs, Guid.NewGuid().ToString("N"), mimeTypes);
        Outputs.Sink?.Display(OutputFormatter.Format(value, mimeTypes), shown.DisplayId);
        return shown;
    }

    /// <summary>Markup to show as HTML, e.g. as a cell's last expression or through <c>display</c>.</summary>
    public HtmlString HTML(string html) => new(html);
}

/// <summary>A shown value that can be replaced in place (progress, a figure redrawn each epoch), also from a later cell.</summary>
public sealed class DisplayedValue
{
    private readonly CellOutputs outputs;
    private readonly string[] mimeTypes;

    internal DisplayedValue(CellOutputs outputs, string displayId, string[] mimeTypes)
    {
        this.outputs = outputs;
        DisplayId = displayId;
        this.mimeTypes = mimeTypes;
    }

    /// <summary>Jupyter's display id (the <c>transient.display_id</c> of the display message).</summary>
    public string DisplayId { get; }

    public void Update(object? value) => outputs.Sink?.UpdateDisplay(OutputFormatter.Format(value, mimeTypes), DisplayId);
}

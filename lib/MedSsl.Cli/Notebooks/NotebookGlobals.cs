namespace MedSsl.Cli.Notebooks;

/// <summary>
/// The globals a cell sees, matching those of .NET Interactive's C# kernel that notebooks use (<c>display</c>,
/// <c>HTML</c>), so a notebook runs the same under <c>medssl run</c>, the C# (MedSsl) kernel and Polyglot Notebooks.
/// </summary>
public sealed class NotebookGlobals
{
    private static NotebookGlobals? current;

    internal NotebookGlobals() { }

    /// <summary>The globals of the session whose cells run in this process (one per notebook process or kernel).</summary>
    internal static NotebookGlobals Current =>
        current ?? throw new InvalidOperationException("Display() shows a value in a notebook cell (medssl run or the C# (MedSsl) kernel); no notebook session runs in this process");

    internal CellOutputs Outputs { get; } = new();

    /// <summary>Values of the running cell's top-level <c>using var</c> declarations, disposed when it ends.</summary>
    internal List<IDisposable?> CellDisposables { get; } = [];

    /// <summary>Makes these the globals that <see cref="DisplayExtensions.Display"/> shows through.</summary>
    internal void MakeCurrent() => current = this;

    /// <summary>What a top-level <c>using var x = …;</c> of a cell becomes: <c>var x = …;</c>, then this, so the value
    /// is disposed when the cell ends (the end of its scope in C#). Not meant to be called by hand.</summary>
    public void DisposeWhenCellEnds(IDisposable? value) => CellDisposables.Add(value);

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

/// <summary>.NET Interactive's <c>x.Display()</c>: the same as <c>display(x)</c> in a cell.</summary>
public static class DisplayExtensions
{
    /// <summary>Shows <paramref name="value"/> as a display output of the running cell (in the given mime types, else
    /// the richest the value offers); the handle replaces it later with <see cref="DisplayedValue.Update"/>.</summary>
    public static DisplayedValue Display(this object? value, params string[] mimeTypes) => NotebookGlobals.Current.display(value, mimeTypes);
}

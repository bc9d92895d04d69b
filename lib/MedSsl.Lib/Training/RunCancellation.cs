namespace MedSsl.Training;

/// <summary>
/// The ambient stop request of the notebook cell now running. The host — the C# (MedSsl) Jupyter kernel or
/// <c>medssl run</c> — sets it for each cell (an interrupt or a cell timeout cancels it); long library loops check it
/// so that interrupting a cell stops a training without the notebook passing a token through every call.
/// </summary>
public static class RunCancellation
{
    public static CancellationToken Current { get; set; }
}

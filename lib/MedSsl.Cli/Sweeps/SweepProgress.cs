namespace MedSsl.Cli.Sweeps;

/// <summary>One line per finished point (<c>[3/12] Seed=2,Lambda=0.1: failed (4.1 s) — …</c>), from whichever
/// executor ran it; plain lines, since points finish out of order and in logs as often as at a terminal.</summary>
internal sealed class SweepProgress(int total, TextWriter output)
{
    private int done;

    /// <summary>Points can run for hours: say when each starts, so a quiet sweep is visibly busy.</summary>
    public void Started(SweepPoint point)
    {
        lock (output) output.WriteLine($"start: {point.Folder}");
    }

    public void Finished(PointStatus status)
    {
        lock (output)
        {
            done++;
            output.WriteLine($"[{done}/{total}] {status.Point}: {status.Status} ({status.Seconds:0.0} s)" + (status.Error is null ? "" : $" — {status.Error}"));
        }
    }
}

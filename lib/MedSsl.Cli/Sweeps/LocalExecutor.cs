namespace MedSsl.Cli.Sweeps;

/// <summary>Runs the points on this machine, <c>--jobs</c> at a time, each through <see cref="PointRunner"/>.</summary>
internal static class LocalExecutor
{
    public static async Task RunAsync(SweepSettings settings, IReadOnlyList<SweepPoint> points, int jobs, SweepProgress progress)
    {
        var runner = new PointRunner(settings);
        using var slots = new SemaphoreSlim(jobs);
        await Task.WhenAll(points.Select(async point =>
        {
            await slots.WaitAsync();
            try
            {
                progress.Started(point);
                progress.Finished(await runner.RunAsync(point));
            }
            finally { slots.Release(); }
        }));
    }
}

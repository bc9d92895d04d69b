using System.Globalization;
using Spectre.Console;

namespace MedSsl.Training;

/// <summary>Where a training's progress is shown, once per reported step.</summary>
public interface ITrainingProgress : IDisposable
{
    void Report(TrainingStatus status);
}

/// <summary>One progress report: the phase, its step out of a total (null when open-ended), the last loss terms and
/// the last evaluation.</summary>
public sealed record TrainingStatus(string Phase, int Step, int? Steps, LossTerms? Losses, IReadOnlyDictionary<string, double>? Metrics)
{
    public override string ToString()
    {
        var counter = Steps is { } total ? $"step {Step}/{total}" : $"step {Step}";
        var parts = new List<string> { $"{Phase}: {counter}" };
        if (Losses is { Count: > 0 }) parts.Add(Losses.ToString());
        if (Metrics is { Count: > 0 }) parts.Add(string.Join(", ", Metrics.Select(m => $"{m.Key} {m.Value.ToString("G4", CultureInfo.InvariantCulture)}")));
        return string.Join(" · ", parts);
    }
}

/// <summary>The progress display for where the code runs: a notebook host's live-updating line
/// (<see cref="NotebookLine"/>, set by <c>medssl run</c> and the kernel), plain lines in CI or when output is redirected,
/// a Spectre.Console bar in a terminal.</summary>
public static class TrainingProgressDisplay
{
    /// <summary>Set by a notebook host: makes a line that later reports replace in place (a display handle).</summary>
    public static Func<Action<string>>? NotebookLine { get; set; }

    public static ITrainingProgress ForCurrentHost(TimeSpan? every = null)
    {
        var interval = every ?? TimeSpan.FromSeconds(1);
        if (NotebookLine is { } line) return new LineProgress(line(), interval);
        var plain = Environment.GetEnvironmentVariable("CI") is { Length: > 0 } || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive;
        return plain ? new LineProgress(Console.WriteLine, TimeSpan.FromSeconds(10)) : new ConsoleBarProgress();
    }

    /// <summary>Writes the status through <paramref name="write"/> at most once per <paramref name="interval"/>, and always
    /// the last step of a phase.</summary>
    private sealed class LineProgress(Action<string> write, TimeSpan interval) : ITrainingProgress
    {
        private DateTime last = DateTime.MinValue;
        private TrainingStatus? pending;

        public void Report(TrainingStatus status)
        {
            var now = DateTime.UtcNow;
            if (now - last >= interval || status.Step == status.Steps)
            {
                write(status.ToString());
                last = now;
                pending = null;
            }
            else pending = status;
        }

        public void Dispose()
        {
            if (pending is not null) write(pending.ToString());
        }
    }

    /// <summary>A bar per phase that redraws in place.</summary>
    private sealed class ConsoleBarProgress : ITrainingProgress
    {
        private string? phase;

        public void Report(TrainingStatus status)
        {
            if (status.Phase != phase)
            {
                if (phase is not null) AnsiConsole.WriteLine();
                phase = status.Phase;
            }
            var width = 30;
            var filled = status.Steps is { } total && total > 0 ? (int)Math.Round(width * (double)status.Step / total) : 0;
            var bar = new string('█', filled) + new string('░', width - filled);
            // "Erase to the end of the line" (ESC [ K) is not markup: its bracket is escaped as "[[".
            AnsiConsole.Markup($"\r[green]{Markup.Escape(bar)}[/] {Markup.Escape(status.ToString())}\u001b[[K");
        }

        public void Dispose()
        {
            if (phase is not null) AnsiConsole.WriteLine();
        }
    }
}

using System.Diagnostics;
using System.Globalization;

namespace MedSsl.Cli.Notebooks;

/// <summary>One notebook run in its own process (compiled cells are never unloaded, and a hung cell can only be
/// stopped by ending its process). Reads the child's progress lines; kills it if it falls silent for longer than
/// the cell timeout plus a grace period (the child stops a hung cell itself; this is the backstop).</summary>
internal sealed class ChildRun(string notebook, IReadOnlyList<string> childArguments, TimeSpan cellTimeout, int? threads = null)
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    public string Notebook { get; } = notebook;
    public int CellCount { get; private set; }
    public int CellsDone { get; private set; }
    public int ExitCode { get; private set; } = -1;
    public TimeSpan Elapsed { get; private set; }
    public bool Killed { get; private set; }

    /// <summary>The process ended without the runner's final line: something (a cell calling
    /// <c>Environment.Exit</c>, a native abort) ended it early, whatever its exit code says.</summary>
    public bool EndedEarly { get; private set; }

    public string Status => Killed ? "killed" : EndedEarly ? $"ended early (exit code {RawExitCode})"
        : ExitCode switch { 0 => "ok", 1 => "failed", 2 => "bad input", _ => $"crashed ({ExitCode})" };

    private int RawExitCode { get; set; }
    private bool finished;

    /// <summary>Called on each progress line (cell count known or a cell done).</summary>
    public event Action<ChildRun>? Progressed;

    public async Task RunAsync(TextWriter errors)
    {
        var info = SelfProcess.StartInfo([.. childArguments, "--parent-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)]);
        // libtorch sizes its thread pool from OMP_NUM_THREADS when it loads: the only moment a child can be told.
        if (threads is { } count) info.Environment["OMP_NUM_THREADS"] = count.ToString(CultureInfo.InvariantCulture);
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start a child process");
        ChildProcesses.Add(process);
        try { await WatchAsync(process, watch, errors); }
        finally { ChildProcesses.Remove(process); }
    }

    private async Task WatchAsync(Process process, Stopwatch watch, TextWriter errors)
    {
        var lastSign = Stopwatch.StartNew();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (errors) errors.WriteLine(e.Data);
        };
        process.BeginErrorReadLine();
        var reader = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                lastSign.Restart();
                if (!line.StartsWith(NotebookRunner.ProgressPrefix, StringComparison.Ordinal)) continue;
                var fields = line[NotebookRunner.ProgressPrefix.Length..].Split(' ');
                if (fields[0] == "done") finished = true;
                else if (fields[0] == "cells") CellCount = int.Parse(fields[1], CultureInfo.InvariantCulture);
                else if (fields[0] == "cell") CellsDone = int.Parse(fields[1], CultureInfo.InvariantCulture);
                Progressed?.Invoke(this);
            }
        });
        while (!process.HasExited)
        {
            await Task.WhenAny(process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(1)));
            if (!process.HasExited && lastSign.Elapsed > cellTimeout + Grace)
            {
                lock (errors) errors.WriteLine($"error: {Notebook}: no progress for {lastSign.Elapsed.TotalSeconds:0} s; killing its process");
                process.Kill(entireProcessTree: true);
                Killed = true;
                await process.WaitForExitAsync();
                await reader;
                Elapsed = watch.Elapsed;
                ExitCode = -1;
                return;
            }
        }
        await process.WaitForExitAsync();
        await reader;
        Elapsed = watch.Elapsed;
        RawExitCode = process.ExitCode;
        EndedEarly = !finished;
        ExitCode = EndedEarly && RawExitCode is 0 or 2 ? 1 : RawExitCode;
        if (EndedEarly)
            lock (errors) errors.WriteLine($"error: {Notebook}: its process ended (exit code {RawExitCode}) before the notebook finished; " +
                "a cell may have called Environment.Exit, or the process was killed");
    }
}

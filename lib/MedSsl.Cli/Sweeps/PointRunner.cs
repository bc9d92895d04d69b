using System.Globalization;
using System.Text.Json.Nodes;
using MedSsl.Cli.Notebooks;

namespace MedSsl.Cli.Sweeps;

/// <summary>
/// Runs one grid point — the same code for the local executor and for a Slurm array task (<c>medssl sweep-point</c>).
/// The notebook runs as a child <c>medssl run --in-process</c> (with its watchdog, <see cref="ChildRun"/>) into
/// DIR/.&lt;point&gt;.tmp-&lt;host-pid-random&gt;; status.json is written last and the folder is then renamed to
/// DIR/&lt;point&gt;. A run or node that dies leaves only the hidden temporary folder, so a point folder is always
/// complete and a missing one means "not finished".
/// </summary>
internal sealed class PointRunner(SweepSettings settings)
{
    public const string LogFileName = "run.log";

    public async Task<PointStatus> RunAsync(SweepPoint point)
    {
        var unique = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        var temporary = Path.Combine(settings.OutputFolder, $".{point.Folder}.tmp-{unique}");
        Directory.CreateDirectory(temporary);
        var arguments = new List<string> { "run", "--in-process", settings.Notebook, "--out", temporary,
            "--cell-timeout", settings.CellTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) };
        if (settings.Profile is not null) arguments.AddRange(["--profile", settings.Profile]);
        foreach (var (name, value) in settings.FixedParameters.Concat(point.Parameters)) arguments.AddRange(["--param", $"{name}={value}"]);

        var run = new ChildRun(settings.Notebook, arguments, settings.CellTimeout);
        await using (var log = new StreamWriter(Path.Combine(temporary, LogFileName)) { AutoFlush = true })
            await run.RunAsync(log);

        // Stopped by a signal: the temporary folder stays unpublished, and --resume removes it and runs the point again.
        if (ChildProcesses.Stopping) throw new OperationCanceledException($"{point.Folder}: stopped");
        var ok = run.ExitCode == 0 && !run.Killed && !run.EndedEarly;
        var status = new PointStatus(point.Folder, point.Parameters.ToDictionary(p => p.Name, p => p.Value), settings.Notebook,
            settings.Profile, settings.FixedParameters.ToDictionary(p => p.Name, p => p.Value),
            ok ? PointStatus.Ok : PointStatus.Failed, run.ExitCode, ok ? null : FailureOf(run, temporary),
            Math.Round(run.Elapsed.TotalSeconds, 3), Environment.MachineName, SlurmTask(), DateTime.UtcNow);
        status.Write(temporary);
        Publish(temporary, settings.PointFolder(point), unique);
        return status;
    }

    /// <summary>Renames the finished temporary folder into place. An earlier (failed) result of the same point is
    /// moved aside first and deleted last, so some complete copy exists at every moment.</summary>
    private static void Publish(string temporary, string final, string unique)
    {
        if (!Directory.Exists(final))
        {
            Directory.Move(temporary, final);
            return;
        }
        var aside = Path.Combine(Path.GetDirectoryName(final)!, $".{Path.GetFileName(final)}.old-{unique}");
        Directory.Move(final, aside);
        Directory.Move(temporary, final);
        Directory.Delete(aside, recursive: true);
    }

    /// <summary>The failed cell's error from the executed notebook; else the runner's last error line; else how the
    /// process ended (killed, crashed).</summary>
    private string FailureOf(ChildRun run, string folder)
    {
        var executed = Path.Combine(folder, settings.NotebookStem + ".ipynb");
        if (File.Exists(executed) && ParseOrNull(executed) is JsonObject notebook)
        {
            foreach (var cell in notebook["cells"]?.AsArray().OfType<JsonObject>() ?? [])
            {
                if (cell["metadata"]?["medssl"]?["status"]?.GetValue<string>() is not ("failed" or "timed-out")) continue;
                var error = cell["outputs"]?.AsArray().OfType<JsonObject>().LastOrDefault(o => o["output_type"]?.GetValue<string>() == "error");
                if (error?["evalue"]?.GetValue<string>() is { } message) return $"{error["ename"]?.GetValue<string>()}: {message}";
            }
        }
        var lastError = File.ReadLines(Path.Combine(folder, LogFileName))
            .LastOrDefault(l => l.StartsWith("error: ", StringComparison.Ordinal) || l.StartsWith("failed: ", StringComparison.Ordinal));
        return lastError is null ? $"the notebook's process {run.Status}" : $"{run.Status}: {lastError}";
    }

    /// <summary>A process killed while saving can leave a truncated notebook; the log still says what happened.</summary>
    private static JsonNode? ParseOrNull(string path)
    {
        try { return JsonNode.Parse(File.ReadAllText(path)); }
        catch (System.Text.Json.JsonException) { return null; }
    }

    private static string? SlurmTask() =>
        Environment.GetEnvironmentVariable("SLURM_ARRAY_JOB_ID") is { } job
            ? $"{job}_{Environment.GetEnvironmentVariable("SLURM_ARRAY_TASK_ID")}"
            : Environment.GetEnvironmentVariable("SLURM_JOB_ID");
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using MedSsl.Cli.Notebooks;
using MedSsl.Data;

namespace MedSsl.Cli.Sweeps;

/// <summary>Resources each array task asks Slurm for, passed through as sbatch options; null: the cluster's default.</summary>
internal sealed record SlurmOptions(int? MaxParallel, string? Partition, string? Time, int? CpusPerTask, string? Mem, string? Gres)
{
    public IEnumerable<string> SbatchLines()
    {
        if (Partition is not null) yield return $"--partition={Partition}";
        if (Time is not null) yield return $"--time={Time}";
        if (CpusPerTask is not null) yield return $"--cpus-per-task={CpusPerTask.Value.ToString(CultureInfo.InvariantCulture)}";
        if (Mem is not null) yield return $"--mem={Mem}";
        if (Gres is not null) yield return $"--gres={Gres}";
    }
}

/// <summary>Thrown when sbatch does not accept the job (no job id): a bad partition or time, no controller, no sbatch.</summary>
internal sealed class SlurmSubmitException(string message) : Exception(message);

/// <summary>
/// Runs the points as one Slurm array job: writes DIR/sweep.sbatch (readable, submittable by hand), submits it with
/// <c>sbatch --wait</c> and reports points as their folders appear. Array task ids are the points' rows in
/// DIR/points.tsv; each task runs <c>medssl sweep-point</c>, i.e. the same <see cref="PointRunner"/> as local runs.
/// Assumes the sweep folder, the notebook and medssl are on a filesystem every node sees.
/// </summary>
internal static class SlurmExecutor
{
    public const string ScriptName = "sweep.sbatch";
    public const string LogFolder = "logs";
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    public static async Task RunAsync(SweepSettings settings, SweepGrid grid, IReadOnlyList<SweepPoint> points, SlurmOptions options, SweepProgress progress)
    {
        Directory.CreateDirectory(Path.Combine(settings.OutputFolder, LogFolder));
        var script = Path.Combine(settings.OutputFolder, ScriptName);
        AtomicFile.WriteAllText(script, Script(settings, grid, points, options));

        var info = new ProcessStartInfo("sbatch") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("--parsable");
        info.ArgumentList.Add("--wait");
        info.ArgumentList.Add(script);
        var submitted = DateTime.UtcNow.AddSeconds(-1);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new SlurmSubmitException("could not start sbatch");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SlurmSubmitException($"could not run sbatch ({e.Message}): --executor slurm needs the Slurm client commands on PATH");
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var jobId = (await process.StandardOutput.ReadLineAsync())?.Split(';')[0].Trim();
            if (!string.IsNullOrEmpty(jobId))
                Console.WriteLine($"sweep: submitted array job {jobId} ({points.Count} tasks, script {script}); waiting for it");
            var reported = new Reported([], []);
            while (!process.HasExited)
            {
                await Task.WhenAny(process.WaitForExitAsync(), Task.Delay(PollInterval));
                ReportProgress(settings, points, submitted, reported, progress);
            }
            await process.WaitForExitAsync();
            var errors = (await stderr).Trim();
            if (string.IsNullOrEmpty(jobId))
                throw new SlurmSubmitException($"sbatch did not accept {script} (exit code {process.ExitCode}): {errors}");
            ReportProgress(settings, points, submitted, reported, progress);
        }
    }

    /// <summary>Reports points whose temporary folder appeared (a task started) or whose folder appeared (it finished),
    /// from one listing of the sweep folder per poll, which stays cheap on a network filesystem.</summary>
    private static void ReportProgress(SweepSettings settings, IReadOnlyList<SweepPoint> points, DateTime submitted, Reported reported, SweepProgress progress)
    {
        var names = Directory.EnumerateDirectories(settings.OutputFolder).Select(f => Path.GetFileName(f)!).ToHashSet();
        // ".<point>.tmp-<host>-<pid>-<random>": the point folder of a running task.
        var running = names.Where(n => n.StartsWith('.') && n.Contains(".tmp-", StringComparison.Ordinal))
            .Select(n => n[1..n.LastIndexOf(".tmp-", StringComparison.Ordinal)]).ToHashSet();
        foreach (var point in points)
        {
            if (!reported.Started.Contains(point.Folder) && running.Contains(point.Folder))
            {
                reported.Started.Add(point.Folder);
                progress.Started(point);
            }
            if (reported.Finished.Contains(point.Folder) || !names.Contains(point.Folder)) continue;
            PointStatus? status;
            try { status = PointStatus.Read(settings.PointFolder(point)); }
            catch (InvalidDataException) { continue; }
            if (status is null || status.FinishedUtc < submitted) continue; // a result from before this submission
            reported.Finished.Add(point.Folder);
            progress.Finished(status);
        }
    }

    private sealed record Reported(HashSet<string> Started, HashSet<string> Finished);

    /// <summary>"0-3,5,7-9": the tasks to run as sbatch's --array list.</summary>
    public static string ArrayList(IEnumerable<int> tasks)
    {
        var parts = new List<string>();
        var sorted = tasks.Order().ToList();
        for (var k = 0; k < sorted.Count;)
        {
            var end = k;
            while (end + 1 < sorted.Count && sorted[end + 1] == sorted[end] + 1) end++;
            parts.Add(end == k ? $"{sorted[k]}" : $"{sorted[k]}-{sorted[end]}");
            k = end + 1;
        }
        return string.Join(',', parts);
    }

    public static string Script(SweepSettings settings, SweepGrid grid, IReadOnlyList<SweepPoint> points, SlurmOptions options)
    {
        var folder = settings.OutputFolder;
        var arguments = new List<string> { "sweep-point", settings.Notebook, "--out", folder, "--task", "TASK",
            "--cell-timeout", settings.CellTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) };
        if (settings.Profile is not null) arguments.AddRange(["--profile", settings.Profile]);
        foreach (var (name, value) in settings.FixedParameters) arguments.AddRange(["--param", $"{name}={value}"]);
        var medssl = SelfProcess.StartInfo(arguments);
        var command = string.Join(' ', new[] { medssl.FileName }.Concat(medssl.ArgumentList)
            .Select(a => a == "TASK" ? "\"$SLURM_ARRAY_TASK_ID\"" : Quote(a)));
        var throttle = options.MaxParallel is { } n ? $"%{n.ToString(CultureInfo.InvariantCulture)}" : "";
        var grids = string.Join(" × ", grid.Parameters.Select(p => $"{p.Values.Count} {p.Name}"));

        var text = new StringBuilder();
        text.Append($"""
            #!/bin/bash
            # medssl sweep of {settings.Notebook}
            # over {grid.Points.Count} grid points ({grids}){(settings.Profile is null ? "" : $", profile {settings.Profile}")}; this array runs {points.Count} of them.
            #
            # Written by `medssl sweep --executor slurm`, which submits it with `sbatch --wait` and then gathers the results
            # into {folder}/sweep.csv and sweep.html. It can also be submitted by hand: sbatch {Path.Combine(folder, ScriptName)}
            # (then gather with the same `medssl sweep ... --resume`, which re-runs nothing that finished).
            #
            # Array task N runs the grid point in the row "N" of {settings.PointsFile}
            # (columns: task, point folder, then one per swept parameter). The point's executed notebook, HTML report,
            # results.json, run.log and status.json appear in {folder}/<point folder>/ only once it has finished: they are
            # written to a hidden .<point folder>.tmp-* folder and renamed. A task that dies leaves no point folder.
            # Every node must see {folder}, the notebook and medssl at the same paths (a shared filesystem).
            # The job inherits the environment of the shell that submits it (module loads, PATH, DOTNET_ROOT).
            #SBATCH --job-name=medssl-sweep-{settings.NotebookStem}
            #SBATCH --array={ArrayList(points.Select(p => p.Task))}{throttle}
            #SBATCH --output={Path.Combine(folder, LogFolder)}/%A_%a.log

            """);
        foreach (var line in options.SbatchLines()) text.Append("#SBATCH ").Append(line).Append('\n');
        text.Append($"""
            set -euo pipefail
            echo "task $SLURM_ARRAY_TASK_ID on $(hostname): $(awk -F'\t' -v task="$SLURM_ARRAY_TASK_ID" '$1 == task' {Quote(settings.PointsFile)})"
            exec {command}

            """);
        return text.ToString();
    }

    /// <summary>Single-quotes for bash unless the text is plainly safe.</summary>
    private static string Quote(string text) =>
        text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || "/._-=+:,".Contains(c)) ? text : "'" + text.Replace("'", "'\\''") + "'";
}

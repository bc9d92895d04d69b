using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using MedSsl.Experiments;
using MedSsl.Reports;

namespace MedSsl.Cli.Notebooks;

/// <summary>What a run of one notebook was asked to do.</summary>
internal sealed record RunSettings(
    string OutputFolder,
    string? Profile,
    IReadOnlyList<(string Name, string Value)> Parameters,
    TimeSpan CellTimeout,
    bool KeepGoing);

/// <summary>
/// Runs one notebook in this process (the child <c>medssl run</c> starts per notebook): cells in order in one script
/// state, then <c>&lt;stem&gt;.ipynb</c> and <c>&lt;stem&gt;.html</c> in the output folder. Progress goes to
/// <paramref name="progress"/> as lines <c>@medssl cells N</c> and <c>@medssl cell I STATUS SECONDS</c>.
/// </summary>
internal sealed class NotebookRunner(RunSettings settings, TextWriter progress, TextWriter errors)
{
    public const string ProgressPrefix = "@medssl ";

    /// <summary>0: every cell ran; 1: a cell failed or timed out; 2: bad input (nothing written). The last progress
    /// line, <c>@medssl done CODE</c>, tells the parent the run ended here and not by a cell ending the process.</summary>
    public int Run(string path)
    {
        var code = RunNotebook(path);
        Report($"done {code}");
        return code;
    }

    private int RunNotebook(string path)
    {
        NotebookDocument notebook;
        IReadOnlyList<string> notes;
        try
        {
            notebook = NotebookDocument.Load(path);
            notes = NotebookParameters.Inject(notebook, settings.Parameters, settings.Profile);
        }
        catch (BadInputException e)
        {
            errors.WriteLine($"error: {e.Message}");
            return 2;
        }
        foreach (var note in notes) errors.WriteLine($"note: {path}: {note}");

        var stem = Path.GetFileNameWithoutExtension(path);
        if (Path.GetFullPath(Path.GetDirectoryName(Path.GetFullPath(path))!) == Path.GetFullPath(settings.OutputFolder).TrimEnd(Path.DirectorySeparatorChar))
        {
            errors.WriteLine($"error: --out {settings.OutputFolder}: is the notebook's own folder; the executed notebook would replace {path}");
            return 2;
        }
        Directory.CreateDirectory(settings.OutputFolder);
        RemoveEarlierOutputs(stem);
        RunContext.Current = new RunContext(settings.OutputFolder, stem);

        var codeCells = notebook.Cells.Where(c => c["cell_type"]?.GetValue<string>() == "code").ToList();
        Report($"cells {codeCells.Count}");
        var session = new ScriptSession(Path.GetDirectoryName(notebook.Path)!);
        session.CaptureConsole();
        var sink = new NotebookOutputs();
        var watch = Stopwatch.StartNew();
        var executionCount = 0;
        string? failure = null;
        var stopped = false;
        for (var k = 0; k < codeCells.Count; k++)
        {
            var cell = codeCells[k];
            var outputs = new JsonArray();
            cell["outputs"] = outputs;
            cell["execution_count"] = null;
            var cellName = $"cell {notebook.Cells.IndexOf(cell) + 1}";
            if (stopped)
            {
                SetStatus(cell, "not-run", null);
                Report($"cell {k + 1} not-run 0");
                continue;
            }
            var cellWatch = Stopwatch.StartNew();
            var kernel = NotebookDocument.CellKernel(cell);
            sink.Begin(outputs);
            CellOutcome outcome;
            if (!NotebookDocument.IsCSharp(kernel))
            {
                var problem = $"{cellName}: this is a '{kernel}' cell; medssl run executes C# cells only";
                sink.Error("UnsupportedCell", problem, [problem]);
                outcome = CellOutcome.Failed;
            }
            else
            {
                cell["execution_count"] = ++executionCount;
                outcome = session.Run(NotebookDocument.Source(cell), cellName, executionCount, sink, settings.CellTimeout);
            }
            var status = outcome switch
            {
                CellOutcome.Succeeded => "ok", CellOutcome.TimedOut => "timed-out", _ => "failed",
            };
            SetStatus(cell, status, cellWatch.Elapsed.TotalSeconds);
            Report($"cell {k + 1} {status} {cellWatch.Elapsed.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}");
            if (outcome == CellOutcome.Succeeded) continue;
            failure ??= outputs.OfType<JsonObject>().LastOrDefault(o => o["output_type"]?.GetValue<string>() == "error")?["evalue"]?.GetValue<string>() ?? cellName;
            // A timed-out cell is still running on its thread: nothing after it can run in this process.
            if (!settings.KeepGoing || outcome == CellOutcome.TimedOut) stopped = true;
        }

        var seconds = watch.Elapsed.TotalSeconds;
        notebook.Metadata["medssl"] = new JsonObject
        {
            ["status"] = failure is null ? "ok" : "failed",
            ["profile"] = settings.Profile,
            ["parameters"] = new JsonObject(settings.Parameters.Select(p => KeyValuePair.Create(p.Name, (JsonNode?)p.Value))),
            ["seconds"] = Math.Round(seconds, 3),
            ["finished_utc"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
        };
        notebook.Save(Path.Combine(settings.OutputFolder, stem + ".ipynb"));
        var summary = $"{codeCells.Count} code cells in {seconds:0.0} s" + (settings.Profile is null ? "" : $", profile {settings.Profile}")
            + string.Concat(settings.Parameters.Select(p => $", {p.Name}={p.Value}")) + (failure is null ? "" : $" — {failure}");
        HtmlReport.Write(notebook, Path.Combine(settings.OutputFolder, stem + ".html"), stem, summary, failure is null);
        if (failure is not null) errors.WriteLine($"failed: {path}: {failure}");
        return failure is null ? 0 : 1;
    }

    /// <summary>The output folder's <c>&lt;stem&gt;.*</c> files are this notebook's outputs (executed notebook, report,
    /// results, artefacts): an earlier run's are removed before any cell runs, with leftover temporary files of
    /// interrupted writes, so a failed or stopped run can never leave an earlier "ok" report beside its own.</summary>
    private void RemoveEarlierOutputs(string stem)
    {
        foreach (var file in Directory.EnumerateFiles(settings.OutputFolder, stem + ".*"))
            File.Delete(file);
    }

    private void Report(string line)
    {
        progress.WriteLine(ProgressPrefix + line);
        progress.Flush();
    }

    private static void SetStatus(JsonObject cell, string status, double? seconds)
    {
        var metadata = cell["metadata"] as JsonObject ?? (JsonObject)(cell["metadata"] = new JsonObject());
        metadata["medssl"] = new JsonObject { ["status"] = status, ["seconds"] = seconds is null ? null : Math.Round(seconds.Value, 3) };
    }
}

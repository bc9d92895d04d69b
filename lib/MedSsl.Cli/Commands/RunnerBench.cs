using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MedSsl.Cli.Notebooks;

namespace MedSsl.Cli.Commands;

/// <summary><c>medssl bench runner</c>: what <c>medssl run</c> itself costs. Runs a notebook of <c>--cells</c> cells
/// that do no work (<c>var cellK = K;</c>) end to end, as a user would (parent process, child process, compile,
/// executed notebook and report written), <c>--runs</c> times after one warm-up; prints the median wall time and the
/// median first-cell and later-cell times the child recorded.</summary>
internal static class RunnerBench
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var runs = new Option<int>("--runs") { Description = "timed runs (after one warm-up)", DefaultValueFactory = _ => 5 };
        var cells = new Option<int>("--cells") { Description = "cells in the notebook", DefaultValueFactory = _ => 10 };
        var command = new Command("runner", "time medssl run on a notebook whose cells do no work") { json, runs, cells };
        command.SetAction(r => Run(r.GetValue(json), r.GetValue(runs), r.GetValue(cells)));
        return command;
    }

    private static int Run(bool json, int runs, int cells)
    {
        if (runs < 1 || cells < 1) { Console.Error.WriteLine("bench runner: --runs and --cells must be at least 1"); return 2; }
        var folder = Directory.CreateTempSubdirectory("medssl-bench-runner-").FullName;
        try
        {
            var notebook = Path.Combine(folder, "empty.ipynb");
            File.WriteAllText(notebook, EmptyNotebook(cells).ToJsonString());
            var totals = new List<double>();
            var firstCells = new List<double>();
            var laterCells = new List<double>();
            for (var k = 0; k <= runs; k++)
            {
                var info = SelfProcess.StartInfo(["run", notebook, "--out", Path.Combine(folder, "out")]);
                info.Environment["CI"] = "true";
                var watch = Stopwatch.StartNew();
                using var process = Process.Start(info)!;
                var output = process.StandardOutput.ReadToEndAsync();
                var errors = process.StandardError.ReadToEndAsync();
                process.WaitForExit();
                var seconds = watch.Elapsed.TotalSeconds;
                if (process.ExitCode != 0)
                {
                    Console.Error.WriteLine($"bench runner: medssl run failed ({process.ExitCode}):\n{output.Result}{errors.Result}");
                    return 1;
                }
                if (k == 0) continue; // warm-up: disk caches, first JIT of the host
                totals.Add(seconds);
                var executed = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "out", "empty.ipynb")))!;
                var cellSeconds = executed["cells"]!.AsArray().Select(c => c!["metadata"]!["medssl"]!["seconds"]!.GetValue<double>()).ToList();
                firstCells.Add(cellSeconds[0]);
                laterCells.AddRange(cellSeconds.Skip(1));
            }
            var report = new Dictionary<string, object>
            {
                ["cells"] = cells,
                ["runs"] = runs,
                ["total_s_median"] = Math.Round(Median(totals), 3),
                ["first_cell_s_median"] = Math.Round(Median(firstCells), 3),
                ["later_cell_ms_median"] = laterCells.Count == 0 ? 0 : Math.Round(Median(laterCells) * 1000, 1),
            };
            if (json) Console.WriteLine(JsonSerializer.Serialize(report));
            else foreach (var (key, value) in report) Console.WriteLine($"{key,-22} {Convert.ToString(value, CultureInfo.InvariantCulture)}");
            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static JsonObject EmptyNotebook(int cells) => new()
    {
        ["cells"] = new JsonArray(Enumerable.Range(1, cells).Select(k => (JsonNode?)new JsonObject
        {
            ["cell_type"] = "code",
            ["id"] = $"cell-{k}",
            ["execution_count"] = null,
            ["metadata"] = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" } },
            ["outputs"] = new JsonArray(),
            ["source"] = $"var cell{k} = {k};",
        }).ToArray()),
        ["metadata"] = new JsonObject { ["kernelspec"] = new JsonObject { ["language"] = "C#", ["name"] = ".net-csharp", ["display_name"] = ".NET (C#)" } },
        ["nbformat"] = 4,
        ["nbformat_minor"] = 5,
    };

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

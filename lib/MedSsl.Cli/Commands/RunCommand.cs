using System.CommandLine;
using System.Globalization;
using MedSsl.Cli.Notebooks;
using Spectre.Console;

namespace MedSsl.Cli.Commands;

/// <summary>
/// <c>medssl run NOTEBOOK_OR_FOLDER... [--out DIR] [--profile quick|workshop|full] [--param NAME=VALUE]... [--cell-timeout S]
/// [--keep-going] [--jobs N]</c>: executes C# notebooks headless, one process per notebook (by default as many at a time
/// as there are cores), writing
/// <c>&lt;stem&gt;.ipynb</c>, <c>&lt;stem&gt;.html</c> and (when the notebook saves results) <c>&lt;stem&gt;.results.json</c>.
/// Exit code 0: every cell ran; 1: a cell failed; 2: bad input. The hidden <c>--in-process</c> runs one notebook in
/// this process: it is what each child process runs.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("notebooks") { Description = "notebooks (.ipynb) or folders of notebooks", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "folder for executed notebooks, reports and results", DefaultValueFactory = _ => "out" };
        var profile = new Option<string?>("--profile") { Description = "sets the notebooks' Profile parameter: quick (CI smoke run), workshop (what a class runs: ≤ 10 min per notebook on 2 cores, ≥ 5 seeds) or full (the paper's shape)" };
        profile.AcceptOnlyFromAmong([.. MedSsl.Data.RunProfiles.Names]);
        var parameters = new Option<string[]>("--param") { Description = "NAME=VALUE overriding a variable of the cell tagged 'parameters'", AllowMultipleArgumentsPerToken = false };
        var cellTimeout = new Option<double>("--cell-timeout") { Description = "seconds a cell may take (compiling included) before it is stopped and its notebook's process ends", DefaultValueFactory = _ => 3600 };
        var keepGoing = new Option<bool>("--keep-going") { Description = "run the cells after a failed one" };
        var jobs = new Option<int?>("--jobs") { Description = "notebooks run at the same time (default: one per core, up to the number of notebooks; with more than one, each gets cores ÷ jobs libtorch threads unless OMP_NUM_THREADS is set)" };
        var inProcess = new Option<bool>("--in-process") { Hidden = true };
        var parentPid = new Option<int?>("--parent-pid") { Hidden = true };
        var command = new Command("run", "execute notebooks headless and write executed notebooks and HTML reports")
        {
            inputs, output, profile, parameters, cellTimeout, keepGoing, jobs, inProcess, parentPid,
        };
        command.SetAction((result, _) =>
        {
            var parsed = new List<(string, string)>();
            foreach (var text in result.GetValue(parameters) ?? [])
            {
                var equals = text.IndexOf('=');
                if (equals <= 0)
                {
                    Console.Error.WriteLine($"error: --param {text}: expected NAME=VALUE");
                    return Task.FromResult(2);
                }
                parsed.Add((text[..equals], text[(equals + 1)..]));
            }
            RunSettings settings;
            try
            {
                var timeout = CommandInputs.CellTimeout(result.GetValue(cellTimeout));
                if (result.GetValue(jobs) is < 1) throw new FormatException($"--jobs {result.GetValue(jobs)}: must be at least 1");
                var folder = Path.GetFullPath(result.GetValue(output)!);
                CommandInputs.WritableFolder(folder);
                settings = new RunSettings(folder, result.GetValue(profile), parsed, timeout, result.GetValue(keepGoing));
            }
            catch (Exception e) when (e is FormatException or ArgumentException or PathTooLongException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return Task.FromResult(2);
            }
            var paths = result.GetValue(inputs)!;
            if (result.GetValue(parentPid) is { } parent) ChildProcesses.ExitWithParent(parent);
            else ChildProcesses.StopChildrenOnSignals();
            if (result.GetValue(inProcess))
                return Task.FromResult(new NotebookRunner(settings, Console.Out, Console.Error).Run(paths.Single()));
            return RunAllAsync(paths, settings, result.GetValue(jobs));
        });
        return command;
    }

    private static async Task<int> RunAllAsync(string[] inputs, RunSettings settings, int? requestedJobs)
    {
        var notebooks = new List<string>();
        var worst = 0;
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                var found = Directory.GetFiles(input, "*.ipynb").Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0) Fail($"{input}: folder holds no .ipynb notebooks");
                notebooks.AddRange(found);
            }
            else if (File.Exists(input)) notebooks.Add(input);
            else Fail($"{input}: no such file or folder");
        }
        foreach (var clash in notebooks.GroupBy(Path.GetFileNameWithoutExtension).Where(g => g.Count() > 1))
        {
            Fail($"{string.Join(" and ", clash)} would write the same {clash.Key}.* files in {settings.OutputFolder}; run them separately");
            notebooks.RemoveAll(clash.Contains);
        }

        // Most notebooks keep about one core busy (small tensors, managed code between the kernels), so by default two
        // notebooks share a 2-core machine, one libtorch thread each, instead of queueing (docs/benchmarks.md).
        var jobs = requestedJobs ?? Math.Clamp(notebooks.Count, 1, Environment.ProcessorCount);
        var threads = jobs > 1 && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"))
            ? Math.Max(1, Environment.ProcessorCount / jobs) : (int?)null;
        var runs = notebooks.Select(n => new ChildRun(n, ChildArguments(n, settings), settings.CellTimeout, threads)).ToList();
        using var slots = new SemaphoreSlim(jobs);
        async Task RunOne(ChildRun run)
        {
            await slots.WaitAsync();
            try { await run.RunAsync(Console.Error); }
            finally { slots.Release(); }
        }

        if (Interactive())
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var tasks = runs.Select(run =>
                    {
                        var bar = context.AddTask(Markup.Escape(Path.GetFileName(run.Notebook)), autoStart: false, maxValue: 1);
                        run.Progressed += r =>
                        {
                            if (!bar.IsStarted) bar.StartTask();
                            bar.MaxValue = Math.Max(1, r.CellCount);
                            bar.Value = r.CellsDone;
                        };
                        return RunOne(run).ContinueWith(_ => { bar.Value = bar.MaxValue; bar.StopTask(); });
                    });
                    await Task.WhenAll(tasks);
                });
        }
        else
        {
            var done = 0;
            await Task.WhenAll(runs.Select(async run =>
            {
                Console.WriteLine($"run: {run.Notebook}");
                await RunOne(run);
                Console.WriteLine($"[{Interlocked.Increment(ref done)}/{runs.Count}] {run.Notebook}: {run.Status} ({run.Elapsed.TotalSeconds:0.0} s)");
            }));
        }

        PrintSummary(runs, settings.OutputFolder);
        return runs.Select(r => r.ExitCode is 0 or 1 or 2 ? r.ExitCode : 1).Append(worst).Max();

        void Fail(string message)
        {
            Console.Error.WriteLine($"error: {message}");
            worst = 2;
        }
    }

    private static List<string> ChildArguments(string notebook, RunSettings settings)
    {
        var arguments = new List<string> { "run", "--in-process", Path.GetFullPath(notebook), "--out", settings.OutputFolder,
            "--cell-timeout", settings.CellTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) };
        if (settings.Profile is not null) arguments.AddRange(["--profile", settings.Profile]);
        foreach (var (name, value) in settings.Parameters) arguments.AddRange(["--param", $"{name}={value}"]);
        if (settings.KeepGoing) arguments.Add("--keep-going");
        return arguments;
    }

    /// <summary>Live progress only for a person at a terminal; CI logs and pipes get plain lines.</summary>
    private static bool Interactive() =>
        !Console.IsOutputRedirected
        && Environment.GetEnvironmentVariable("CI") is null or "" or "0" or "false"
        && AnsiConsole.Profile.Capabilities.Interactive;

    private static void PrintSummary(List<ChildRun> runs, string outputFolder)
    {
        if (runs.Count == 0) return;
        if (Interactive())
        {
            var table = new Table().AddColumns("notebook", "status", "time");
            foreach (var run in runs)
            {
                var colour = run.ExitCode == 0 ? "green" : "red";
                table.AddRow(Markup.Escape(run.Notebook), $"[{colour}]{Markup.Escape(run.Status)}[/]", $"{run.Elapsed.TotalSeconds:0.0} s");
            }
            AnsiConsole.Write(table);
        }
        else
        {
            var width = Math.Max("notebook".Length, runs.Max(r => r.Notebook.Length));
            Console.WriteLine($"{"notebook".PadRight(width)}  {"status",-9}  time");
            foreach (var run in runs) Console.WriteLine($"{run.Notebook.PadRight(width)}  {run.Status,-9}  {run.Elapsed.TotalSeconds:0.0} s");
        }
        if (runs.Any(r => r.ExitCode is 0 or 1))
            Console.WriteLine($"reports: {outputFolder}/<notebook>.html (executed notebooks: .ipynb, results: .results.json)");
    }
}

using System.CommandLine;
using System.Globalization;
using MedSsl.Cli.Notebooks;
using MedSsl.Cli.Sweeps;

namespace MedSsl.Cli.Commands;

/// <summary>
/// <c>medssl sweep NOTEBOOK --grid NAME=V1,V2,… [--grid …] --out DIR [--profile quick|workshop|full] [--param NAME=VALUE]…
/// [--executor local|slurm] [--jobs N] [--resume] [Slurm: --max-parallel N --partition P --time T --cpus-per-task N
/// --mem M --gres G]</c>: one executed notebook per grid point in DIR/&lt;point&gt;/, then DIR/sweep.csv and
/// DIR/sweep.html. Exit code 0: every point ran; 1: a point failed or did not finish; 2: bad input (nothing run).
/// The hidden <c>sweep-point</c> runs one point of DIR/points.tsv: it is what each Slurm array task runs.
/// </summary>
internal static class SweepCommand
{
    private const string SweepCsv = "sweep.csv";
    private const string SweepHtml = "sweep.html";

    public static Command Create()
    {
        var notebook = new Argument<string>("notebook") { Description = "the notebook (.ipynb) to run at every grid point" };
        var grid = new Option<string[]>("--grid") { Description = "NAME=V1,V2,… or NAME=A..B (integers A to B): a swept parameter of the cell tagged 'parameters'; repeat for more", AllowMultipleArgumentsPerToken = false };
        var output = new Option<string>("--out") { Description = "sweep folder: DIR/<point>/ per point, DIR/sweep.csv and DIR/sweep.html", Required = true };
        var profile = new Option<string?>("--profile") { Description = "sets the notebook's Profile parameter: quick (CI smoke run), workshop (class-sized) or full (the paper's shape)" };
        profile.AcceptOnlyFromAmong([.. MedSsl.Data.RunProfiles.Names]);
        var parameters = new Option<string[]>("--param") { Description = "NAME=VALUE fixed for every point", AllowMultipleArgumentsPerToken = false };
        var executor = new Option<string>("--executor") { Description = "local: on this machine; slurm: one Slurm array job (shared filesystem)", DefaultValueFactory = _ => "local" };
        executor.AcceptOnlyFromAmong("local", "slurm");
        var jobs = new Option<int?>("--jobs") { Description = "local: points run at the same time (default 1)" };
        var resume = new Option<bool>("--resume") { Description = "complete the sweep in DIR: run only its missing and failed points" };
        var cellTimeout = new Option<double>("--cell-timeout") { Description = "seconds a cell may take before its notebook is stopped", DefaultValueFactory = _ => 3600 };
        var maxParallel = new Option<int?>("--max-parallel") { Description = "slurm: array tasks running at once (%N)" };
        var partition = new Option<string?>("--partition") { Description = "slurm: partition for the tasks" };
        var time = new Option<string?>("--time") { Description = "slurm: time limit per task, e.g. 2:00:00" };
        var cpus = new Option<int?>("--cpus-per-task") { Description = "slurm: CPUs per task" };
        var memory = new Option<string?>("--mem") { Description = "slurm: memory per task, e.g. 16G" };
        var gres = new Option<string?>("--gres") { Description = "slurm: generic resources per task, e.g. gpu:1" };
        var command = new Command("sweep", "run a notebook over a parameter grid, locally or as a Slurm array job, and gather the results")
        {
            notebook, grid, output, profile, parameters, executor, jobs, resume, cellTimeout, maxParallel, partition, time, cpus, memory, gres,
        };
        command.SetAction(async (result, _) =>
        {
            try
            {
                var slurm = result.GetValue(executor) == "slurm";
                var slurmOptions = new SlurmOptions(result.GetValue(maxParallel), result.GetValue(partition), result.GetValue(time),
                    result.GetValue(cpus), result.GetValue(memory), result.GetValue(gres));
                var settings = Settings(result.GetValue(notebook)!, result.GetValue(output)!, result.GetValue(profile), result.GetValue(parameters) ?? [],
                    result.GetValue(cellTimeout));
                var sweepGrid = SweepGrid.Parse(result.GetValue(grid) ?? []);
                CheckExecutorOptions(slurm, result.GetValue(jobs), slurmOptions, settings);
                CheckParameters(settings, sweepGrid);
                var pending = Plan(settings, sweepGrid, result.GetValue(resume));
                CommandInputs.WritableFolder(settings.OutputFolder);
                ChildProcesses.StopChildrenOnSignals();
                return await RunAsync(settings, sweepGrid, pending, slurm, result.GetValue(jobs) ?? 1, slurmOptions);
            }
            catch (Exception e) when (e is FormatException or BadInputException or SlurmSubmitException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    /// <summary>The hidden command a Slurm array task runs: point <c>--task</c> of DIR/points.tsv through <see cref="PointRunner"/>.</summary>
    public static Command CreatePointCommand()
    {
        var notebook = new Argument<string>("notebook");
        var output = new Option<string>("--out") { Required = true };
        var task = new Option<int>("--task") { Required = true };
        var profile = new Option<string?>("--profile");
        var parameters = new Option<string[]>("--param") { AllowMultipleArgumentsPerToken = false };
        var cellTimeout = new Option<double>("--cell-timeout") { DefaultValueFactory = _ => 3600 };
        var command = new Command("sweep-point", "run one point of a sweep (what a Slurm array task runs)") { notebook, output, task, profile, parameters, cellTimeout };
        command.Hidden = true;
        command.SetAction(async (result, _) =>
        {
            try
            {
                var settings = Settings(result.GetValue(notebook)!, result.GetValue(output)!, result.GetValue(profile), result.GetValue(parameters) ?? [],
                    result.GetValue(cellTimeout));
                var point = PointsFile.Read(settings.PointsFile, result.GetValue(task));
                ChildProcesses.StopChildrenOnSignals();
                Console.WriteLine($"sweep-point: {point.Folder} of {settings.Notebook}");
                var status = await new PointRunner(settings).RunAsync(point);
                Console.WriteLine($"sweep-point: {point.Folder}: {status.Status} ({status.Seconds:0.0} s){(status.Error is null ? "" : " — " + status.Error)}");
                return status.Status == PointStatus.Ok ? 0 : 1;
            }
            catch (Exception e) when (e is FormatException or InvalidDataException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    private static SweepSettings Settings(string notebook, string output, string? profile, string[] fixedParameters, double cellTimeout)
    {
        if (!File.Exists(notebook)) throw new FormatException($"{notebook}: no such notebook");
        if (File.Exists(output)) throw new FormatException($"--out {output}: is a file, not a folder");
        var timeout = CommandInputs.CellTimeout(cellTimeout);
        var parsed = new List<(string, string)>();
        foreach (var text in fixedParameters)
        {
            var equals = text.IndexOf('=');
            if (equals <= 0) throw new FormatException($"--param {text}: expected NAME=VALUE");
            parsed.Add((text[..equals], text[(equals + 1)..]));
        }
        return new SweepSettings(Path.GetFullPath(notebook), Path.GetFullPath(output), profile, parsed, timeout);
    }

    private static void CheckExecutorOptions(bool slurm, int? jobs, SlurmOptions options, SweepSettings settings)
    {
        if (slurm)
        {
            if (jobs is not null) throw new FormatException("--jobs applies to --executor local; under Slurm use --max-parallel");
            if (options.MaxParallel is < 1) throw new FormatException("--max-parallel must be at least 1");
            if (options.CpusPerTask is < 1) throw new FormatException("--cpus-per-task must be at least 1");
            // #SBATCH lines end at whitespace, and sbatch expands % in --output.
            if (settings.OutputFolder.Any(c => char.IsWhiteSpace(c) || c == '%'))
                throw new FormatException($"--out {settings.OutputFolder}: under --executor slurm the folder's path may not contain spaces or '%'");
            foreach (var line in options.SbatchLines())
                if (line.Any(char.IsWhiteSpace)) throw new FormatException($"{line}: sbatch options may not contain spaces");
            return;
        }
        if (jobs is < 1) throw new FormatException("--jobs must be at least 1");
        var slurmOnly = new (string Name, object? Value)[]
        {
            ("--max-parallel", options.MaxParallel), ("--partition", options.Partition), ("--time", options.Time),
            ("--cpus-per-task", options.CpusPerTask), ("--mem", options.Mem), ("--gres", options.Gres),
        };
        if (slurmOnly.FirstOrDefault(o => o.Value is not null).Name is { } given)
            throw new FormatException($"{given} applies to --executor slurm only");
    }

    /// <summary>Every point's parameters must inject into the notebook before anything runs: a typo in a name or a
    /// value that does not convert is bad input, not a grid full of failed runs.</summary>
    private static void CheckParameters(SweepSettings settings, SweepGrid grid)
    {
        if (settings.FixedParameters.FirstOrDefault(f => grid.Parameters.Any(g => g.Name == f.Name)).Name is { } both)
            throw new FormatException($"{both} is given both as --param and as --grid");
        if (settings.Profile is not null && grid.Parameters.Any(g => g.Name == NotebookParameters.ProfileName))
            throw new FormatException($"--profile and --grid {NotebookParameters.ProfileName} both set the profile; give one");
        // Each override is checked on its own, so every value once (not every point) covers the grid.
        NotebookParameters.Inject(NotebookDocument.Load(settings.Notebook), settings.FixedParameters, settings.Profile);
        foreach (var (name, values) in grid.Parameters)
            foreach (var value in values)
            {
                try
                {
                    NotebookParameters.Inject(NotebookDocument.Load(settings.Notebook), [(name, value)], null);
                }
                catch (BadInputException e)
                {
                    throw new FormatException($"--grid {name}, value {value}: {e.Message}");
                }
            }
    }

    /// <summary>The points to run. A folder that already holds a sweep needs --resume, and then must hold the same
    /// notebook, profile and fixed parameters; leftovers of unfinished attempts are removed.</summary>
    private static List<SweepPoint> Plan(SweepSettings settings, SweepGrid grid, bool resume)
    {
        var folder = settings.OutputFolder;
        var existing = Directory.Exists(folder) && (File.Exists(settings.PointsFile) || grid.Points.Any(p => Directory.Exists(settings.PointFolder(p))));
        if (existing && !resume)
            throw new FormatException($"--out {folder} already holds a sweep; pass --resume to run its missing and failed points, or choose another --out");
        var pending = new List<SweepPoint>();
        foreach (var point in grid.Points)
        {
            PointStatus? status;
            try { status = PointStatus.Read(settings.PointFolder(point)); }
            catch (InvalidDataException) { status = null; }
            if (status is not null)
            {
                var fixedNow = settings.FixedParameters.ToDictionary(p => p.Name, p => p.Value);
                if (status.Notebook != settings.Notebook || status.Profile != settings.Profile
                    || !status.FixedParameters.OrderBy(p => p.Key).SequenceEqual(fixedNow.OrderBy(p => p.Key)))
                    throw new FormatException($"--out {folder}: point {point.Folder} was run with notebook {status.Notebook}, profile {status.Profile ?? "(none)"}, "
                        + $"--param {string.Join(" ", status.FixedParameters.Select(p => $"{p.Key}={p.Value}"))}; --resume must repeat those, or choose another --out");
                if (status.Status == PointStatus.Ok) continue;
            }
            pending.Add(point);
        }
        // Leftovers of every point, finished or not: an interrupted attempt of a point that later finished leaves one too.
        if (Directory.Exists(folder))
            foreach (var point in grid.Points)
                foreach (var leftover in Directory.GetDirectories(folder, $".{point.Folder}.tmp-*").Concat(Directory.GetDirectories(folder, $".{point.Folder}.old-*")))
                    Directory.Delete(leftover, recursive: true);
        return pending;
    }

    private static async Task<int> RunAsync(SweepSettings settings, SweepGrid grid, List<SweepPoint> pending, bool slurm, int jobs, SlurmOptions slurmOptions)
    {
        Directory.CreateDirectory(settings.OutputFolder);
        PointsFile.Write(settings.PointsFile, grid);
        var done = grid.Points.Count - pending.Count;
        Console.WriteLine($"sweep: {settings.Notebook}: {grid.Points.Count} points, {pending.Count} to run" + (done > 0 ? $" ({done} already done)" : "")
            + (slurm ? " as a Slurm array job" : $", {jobs} at a time"));
        var progress = new SweepProgress(pending.Count, Console.Out);
        if (pending.Count > 0)
        {
            if (slurm) await SlurmExecutor.RunAsync(settings, grid, pending, slurmOptions, progress);
            else await LocalExecutor.RunAsync(settings, pending, jobs, progress);
        }

        var missingHint = slurm
            ? $"its array task was stopped or its node died; see {Path.Combine(settings.OutputFolder, SlurmExecutor.LogFolder)}/"
            : "its run was stopped";
        var points = SweepTable.Gather(settings, grid, missingHint);
        var table = SweepTable.ToDataFrame(grid, points);
        SweepTable.WriteCsv(table, Path.Combine(settings.OutputFolder, SweepCsv));
        SweepReport.Write(Path.Combine(settings.OutputFolder, SweepHtml), settings, grid, points, table);

        var unfinished = points.Where(p => p.Status != PointStatus.Ok).ToList();
        foreach (var point in unfinished) Console.Error.WriteLine($"{point.Status}: {point.Point.Folder}: {point.Error}");
        Console.WriteLine($"sweep: {points.Count - unfinished.Count} of {points.Count} points ok"
            + (unfinished.Count > 0 ? $", {unfinished.Count} failed or unfinished (rerun them with --resume)" : "")
            + $"; table {Path.Combine(settings.OutputFolder, SweepCsv)}, report {Path.Combine(settings.OutputFolder, SweepHtml)}");
        return unfinished.Count > 0 ? 1 : 0;
    }
}

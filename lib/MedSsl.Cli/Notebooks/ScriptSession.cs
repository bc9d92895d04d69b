using System.Diagnostics;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Scripting;
using MedSsl.Training;

namespace MedSsl.Cli.Notebooks;

/// <summary>How one cell ended.</summary>
internal enum CellOutcome { Succeeded, Failed, Interrupted, TimedOut }

/// <summary>
/// The one cell-execution engine of <c>medssl run</c> and the C# (MedSsl) kernel: one C# scripting state shared by
/// a notebook's cells. Each cell's magics are checked (<see cref="CellMagics"/>), its <c>#r "x.dll"</c> files
/// (resolved from <paramref name="baseFolder"/>) load into the default load context, and it compiles under its own
/// file name so errors carry the cell's line numbers. Outputs go to the sink the caller passes per cell.
/// Stopping is cooperative: an interrupt or timeout cancels <see cref="NotebookGlobals.Cancellation"/> (and
/// <see cref="RunCancellation.Current"/>); code that never looks at it keeps running.
/// </summary>
internal sealed class ScriptSession(string baseFolder)
{
    private static readonly string[] Imports =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Text", "System.Threading.Tasks",
            typeof(DisplayExtensions).Namespace!];

    private readonly NotebookGlobals globals = new();
    private readonly DefaultContextReferences references = new();
    private readonly List<string> packageAssemblies = []; // restored by #r "nuget: …", referenced by every later cell
    private ScriptState<object?>? state;
    private CancellationTokenSource? running;

    private ScriptOptions Options(string cellName) => ScriptOptions.Default
        .WithReferences(typeof(object).Assembly, typeof(Enumerable).Assembly, typeof(Console).Assembly,
            typeof(List<>).Assembly, typeof(System.Text.Json.JsonSerializer).Assembly, typeof(NotebookGlobals).Assembly)
        .AddReferences(packageAssemblies.ToArray())
        .WithImports(Imports)
        .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(baseFolder).WithSearchPaths(baseFolder))
        .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(baseFolder))
        .WithFilePath(cellName)
        .WithFileEncoding(Encoding.UTF8)
        .WithEmitDebugInformation(true);

    /// <summary>Console output of the cells goes to the cell's sink, not to this process's terminal.</summary>
    public void CaptureConsole()
    {
        Console.SetOut(globals.Outputs.Writer("stdout"));
        Console.SetError(globals.Outputs.Writer("stderr"));
        // No terminal is behind a cell: reading input ends at once instead of hanging the cell.
        Console.SetIn(TextReader.Null);
    }

    /// <summary>Runs one cell's <paramref name="source"/>; waits at most <paramref name="timeout"/>
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: no limit). A timed-out cell may still be running when this returns.</summary>
    public CellOutcome Run(string source, string cellName, int executionCount, ICellOutputSink sink, TimeSpan timeout)
    {
        globals.MakeCurrent();
        globals.Outputs.Begin(sink);
        var cell = CellMagics.Prepare(source);
        if (cell.Problem is { } problem)
        {
            sink.Error("UnsupportedCell", $"{cellName}: {problem}", [$"{cellName}: {problem}"]);
            return CellOutcome.Failed;
        }
        var code = cell.Code;
        if (cell.ListMagics)
            sink.Stream("stdout", "Magics in MedSsl notebooks:\n" + string.Concat(CellMagics.Supported.Select(m => $"  {m.Magic,-28} {m.Does}\n")));
        var cancellation = new CancellationTokenSource();
        globals.Cancellation = cancellation.Token;
        RunCancellation.Current = cancellation.Token;
        // A training in this cell shows its progress as one line of the cell that updates in place.
        TrainingProgressDisplay.NotebookLine = () =>
        {
            var line = globals.display("");
            return text => line.Update(text);
        };
        Volatile.Write(ref running, cancellation);
        var watch = Stopwatch.StartNew();
        // An async body that throws OperationCanceledException ends Canceled, and waiting on it throws a new exception
        // without the cell's stack: the one thrown is kept here, for the interrupted line.
        Exception? stopped = null;
        var compiled = false; // an interrupt while compiling has no line to name

        var task = Task.Run(async () =>
        {
            try
            {
                if (cell.Packages is { Count: > 0 } packages) AddPackages(packages, cancellation.Token);
                var script = Continue(code, cellName);
                references.Load(script.GetCompilation());
                script.Compile(cancellation.Token);
                compiled = true;
                state = state is null
                    ? await script.RunAsync(globals, cancellation.Token)
                    : await script.RunFromAsync(state, cancellation.Token);
            }
            catch (OperationCanceledException e)
            {
                stopped = e;
                throw;
            }
            finally
            {
                DisposeCellValues();
            }
        });
        try
        {
            if (!task.Wait(timeout))
            {
                cancellation.Cancel();
                sink.Error("TimeoutException", $"the cell ran longer than the cell timeout ({timeout.TotalSeconds:0.#} s) and was stopped",
                    [$"{cellName}: stopped after {timeout.TotalSeconds:0.#} s (--cell-timeout); later cells cannot run in this process"]);
                return CellOutcome.TimedOut;
            }
        }
        catch (AggregateException e)
        {
            var exception = e.InnerException ?? e;
            if (exception is OperationCanceledException && cancellation.IsCancellationRequested)
            {
                var (where, what) = compiled
                    ? (CellLocation(stopped ?? exception, cellName), "interrupted")
                    : (cellName, "interrupted while compiling, before its code ran");
                sink.Error("Interrupted", $"{where}: {what}", [$"{where}: {what}; the state of earlier cells is kept"]);
                return CellOutcome.Interrupted;
            }
            var (name, value, traceback) = Describe(exception, cellName);
            sink.Error(name, value, traceback);
            return CellOutcome.Failed;
        }
        finally
        {
            Volatile.Write(ref running, null);
        }
        // x.Display() as the last expression has shown x already; its handle is not shown as well.
        if (HasTrailingExpression(code) && state!.ReturnValue is { } result and not DisplayedValue)
            sink.Result(OutputFormatter.Format(result, []), executionCount);
        // As Polyglot Notebooks' #!time prints it.
        if (cell.Time) sink.Stream("stdout", $"Wall time: {watch.Elapsed.TotalMilliseconds:0.####}ms\n");
        return CellOutcome.Succeeded;
    }

    private void AddPackages(IReadOnlyList<NugetPackage> packages, CancellationToken cancellation)
    {
        List<string> assemblies;
        try
        {
            assemblies = NugetRestore.Restore(packages, baseFolder, cancellation);
        }
        catch (NugetRestoreException e)
        {
            throw new NugetRestoreException($"line {packages[0].Line}: {e.Message}");
        }
        lock (packageAssemblies) packageAssemblies.AddRange(assemblies.Except(packageAssemblies));
        references.LoadFiles(assemblies);
    }

    /// <summary>Disposes the values of the cell's top-level <c>using var</c> declarations, last declared first.</summary>
    private void DisposeCellValues()
    {
        var values = globals.CellDisposables.ToArray();
        globals.CellDisposables.Clear();
        for (var i = values.Length - 1; i >= 0; i--) values[i]?.Dispose();
    }

    /// <summary>The running cell's stop request (None between cells).</summary>
    public CancellationToken CurrentCancellation => Volatile.Read(ref running)?.Token ?? CancellationToken.None;

    /// <summary>Asks the running cell, if any, to stop (thread-safe; called from the kernel's control thread).</summary>
    public void Interrupt() => Volatile.Read(ref running)?.Cancel();

    /// <summary>Compiles, runs and continues a throwaway script in a state of its own, so the JIT work of a first
    /// compilation, emit and continuation is done before the first cell.</summary>
    public async Task WarmUp()
    {
        var warm = await CSharpScript.RunAsync<object?>("var warm = 1;", Options("warm-up"), new NotebookGlobals(), typeof(NotebookGlobals));
        await warm.ContinueWithAsync<object?>("warm + 1", Options("warm-up"));
    }

    /// <summary>What <paramref name="code"/> would compile to after the cells run so far (for completion).</summary>
    public Compilation Analyse(string code) => Continue(code, "completion").GetCompilation();

    private Script<object?> Continue(string code, string cellName) => state is null
        ? CSharpScript.Create<object?>(code, Options(cellName), typeof(NotebookGlobals), references.Loader)
        : state.Script.ContinueWith<object?>(code, Options(cellName));

    /// <summary>A cell whose last statement is an expression without a semicolon shows that value (Jupyter's rule).</summary>
    private static bool HasTrailingExpression(string code)
    {
        var root = CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(kind: SourceCodeKind.Script)).GetRoot();
        return root.ChildNodes().LastOrDefault() is GlobalStatementSyntax { Statement: ExpressionStatementSyntax statement }
            && statement.SemicolonToken.IsMissing;
    }

    /// <summary>"cell N, line L" from the first stack frame inside the cell (debug information is emitted per cell).</summary>
    private static string CellLocation(Exception exception, string cellName)
    {
        var frames = new StackTrace(exception, fNeedFileInfo: true).GetFrames();
        // Roslyn roots the file name at the base folder.
        var line = frames.FirstOrDefault(f => Path.GetFileName(f.GetFileName()) == cellName)?.GetFileLineNumber();
        return line is > 0 ? $"{cellName}, line {line}" : cellName;
    }

    private (string Name, string Value, List<string> Traceback) Describe(Exception exception, string cellName)
    {
        if (exception is NugetRestoreException restore)
            return ("NuGetRestoreError", $"{cellName}, {restore.Message}", [$"{cellName}, {restore.Message}"]);
        if (exception is CompilationErrorException compilation)
        {
            var errors = compilation.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            var lines = errors.Select(d => $"{cellName}, line {d.Location.GetLineSpan().StartLinePosition.Line + 1}: {d.Id}: {d.GetMessage()}").ToList();
            return ("CompilationError", lines.FirstOrDefault() ?? compilation.Message, lines);
        }
        var where = CellLocation(exception, cellName);
        var trace = new List<string> { $"{where}: {exception.GetType().Name}: {exception.Message}" };
        trace.AddRange((exception.StackTrace ?? "").Split('\n').Select(l => l.TrimEnd().Replace(Path.Combine(baseFolder, cellName), cellName))
            .TakeWhile(l => !l.Contains("MedSsl.Cli.Notebooks.ScriptSession"))
            .Where(l => l.Length > 0 && !l.StartsWith("--- End of stack trace", StringComparison.Ordinal)
                && !l.Contains("Microsoft.CodeAnalysis.Scripting") && !l.Contains("System.Runtime.CompilerServices")));
        if (exception.InnerException is { } inner) trace.Add($"inner: {inner.GetType().Name}: {inner.Message}");
        return (exception.GetType().Name, $"{where}: {exception.Message}", trace);
    }
}

using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Scripting;

namespace MedSsl.Cli.Notebooks;

/// <summary>How one cell ended.</summary>
internal enum CellOutcome { Succeeded, Failed, TimedOut }

/// <summary>
/// One C# scripting state shared by a notebook's cells, like a kernel. <c>#r "x.dll"</c> resolves from the notebook's
/// folder. Each cell compiles under its own file name so errors carry the cell's line numbers.
/// Running code cannot be cancelled: a cell past its timeout is abandoned and the caller must end the process.
/// </summary>
internal sealed class ScriptSession(string notebookFolder, TimeSpan cellTimeout)
{
    private static readonly string[] Imports =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Text", "System.Threading.Tasks"];

    private readonly NotebookGlobals globals = new();
    private ScriptState<object?>? state;

    private ScriptOptions Options(string cellName) => ScriptOptions.Default
        .WithReferences(typeof(object).Assembly, typeof(Enumerable).Assembly, typeof(Console).Assembly,
            typeof(List<>).Assembly, typeof(System.Text.Json.JsonSerializer).Assembly, typeof(NotebookGlobals).Assembly)
        .WithImports(Imports)
        .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(notebookFolder).WithSearchPaths(notebookFolder))
        .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(notebookFolder))
        .WithFilePath(cellName)
        .WithFileEncoding(Encoding.UTF8)
        .WithEmitDebugInformation(true);

    /// <summary>Runs <paramref name="code"/>; its outputs go into <paramref name="outputs"/>.</summary>
    public CellOutcome Run(string code, string cellName, JsonArray outputs, int executionCount)
    {
        globals.Outputs.Begin(outputs);
        var task = Task.Run(async () =>
        {
            var options = Options(cellName);
            state = state is null
                ? await CSharpScript.RunAsync(code, options, globals, typeof(NotebookGlobals))
                : await state.ContinueWithAsync(code, options);
        });
        try
        {
            if (!task.Wait(cellTimeout))
            {
                globals.Outputs.Add(Error("TimeoutException", $"the cell ran longer than the cell timeout ({cellTimeout.TotalSeconds:0.#} s) and was stopped",
                    [$"{cellName}: stopped after {cellTimeout.TotalSeconds:0.#} s (--cell-timeout); later cells cannot run in this process"]));
                return CellOutcome.TimedOut;
            }
        }
        catch (AggregateException e)
        {
            globals.Outputs.Add(ErrorOutput(e.InnerException ?? e, cellName));
            return CellOutcome.Failed;
        }
        if (HasTrailingExpression(code) && state!.ReturnValue is { } value)
        {
            globals.Outputs.Add(new JsonObject
            {
                ["output_type"] = "execute_result",
                ["execution_count"] = executionCount,
                ["data"] = OutputFormatter.Format(value, []),
                ["metadata"] = new JsonObject(),
            });
        }
        return CellOutcome.Succeeded;
    }

    /// <summary>Console output of the cells goes to the notebook, not to this process's terminal.</summary>
    public void CaptureConsole()
    {
        Console.SetOut(globals.Outputs.Writer("stdout"));
        Console.SetError(globals.Outputs.Writer("stderr"));
    }

    /// <summary>A cell whose last statement is an expression without a semicolon shows that value (Jupyter's rule).</summary>
    private static bool HasTrailingExpression(string code)
    {
        var root = CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(kind: SourceCodeKind.Script)).GetRoot();
        return root.ChildNodes().LastOrDefault() is GlobalStatementSyntax { Statement: ExpressionStatementSyntax statement }
            && statement.SemicolonToken.IsMissing;
    }

    private JsonObject ErrorOutput(Exception exception, string cellName)
    {
        if (exception is CompilationErrorException compilation)
        {
            var errors = compilation.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            var lines = errors.Select(d => $"{cellName}, line {d.Location.GetLineSpan().StartLinePosition.Line + 1}: {d.Id}: {d.GetMessage()}").ToList();
            return Error("CompilationError", lines.FirstOrDefault() ?? compilation.Message, lines);
        }
        // Frames inside the cell carry its file name and line (debug information is emitted for every cell).
        var frames = new StackTrace(exception, fNeedFileInfo: true).GetFrames();
        // Roslyn roots the file name at the notebook's folder.
        var line = frames.FirstOrDefault(f => Path.GetFileName(f.GetFileName()) == cellName)?.GetFileLineNumber();
        var where = line is > 0 ? $"{cellName}, line {line}" : cellName;
        var trace = new List<string> { $"{where}: {exception.GetType().Name}: {exception.Message}" };
        trace.AddRange((exception.StackTrace ?? "").Split('\n').Select(l => l.TrimEnd().Replace(Path.Combine(notebookFolder, cellName), cellName))
            .TakeWhile(l => !l.Contains("MedSsl.Cli.Notebooks.ScriptSession"))
            .Where(l => l.Length > 0 && !l.StartsWith("--- End of stack trace", StringComparison.Ordinal)
                && !l.Contains("Microsoft.CodeAnalysis.Scripting") && !l.Contains("System.Runtime.CompilerServices")));
        if (exception.InnerException is { } inner) trace.Add($"inner: {inner.GetType().Name}: {inner.Message}");
        return Error(exception.GetType().Name, $"{where}: {exception.Message}", trace);
    }

    private static JsonObject Error(string name, string value, IEnumerable<string> traceback) => new()
    {
        ["output_type"] = "error",
        ["ename"] = name,
        ["evalue"] = value,
        ["traceback"] = new JsonArray(traceback.Select(t => (JsonNode?)t).ToArray()),
    };
}

using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace MedSsl.Cli.Notebooks;

/// <summary>A NuGet package a cell asked for with <c>#r "nuget: Name, Version"</c> (no version: the latest stable).</summary>
internal sealed record NugetPackage(string Name, string? Version, int Line);

/// <summary>A cell ready to compile: <see cref="Code"/> with the magic lines blanked (so line numbers stay true), what
/// they asked for, and <see cref="Problem"/> when the cell cannot run.</summary>
internal sealed record PreparedCell(string Code, string? Problem, bool Time = false, bool ListMagics = false,
    IReadOnlyList<NugetPackage>? Packages = null);

/// <summary>
/// Polyglot Notebooks' magic commands and what Roslyn scripting cannot take as written. Roslyn silently ignores a
/// <c>#!</c> first line and rejects one elsewhere with an unhelpful error, so the magics are read here: <c>#!csharp</c>,
/// <c>#!time</c>, <c>#!lsmagic</c> and <c>#r "nuget: …"</c> are served (the session restores the packages); any other
/// magic fails its cell with what to do instead. A top-level <c>using var x = …;</c> (a Roslyn scripting parse error,
/// CS1002) becomes <c>var x = …;</c> whose value is disposed when the cell ends, as C# does at the end of the
/// enclosing scope (the variable stays visible to later cells, disposed).
/// </summary>
internal static partial class CellMagics
{
    /// <summary>What <c>#!lsmagic</c> prints.</summary>
    public static readonly IReadOnlyList<(string Magic, string Does)> Supported =
    [
        ("#!csharp", "first line only: the cell is C# (the only language here)"),
        ("#!time", "before the code: prints the wall time of the rest of the cell"),
        ("#!lsmagic", "lists these magics"),
        ("#r \"path.dll\"", "references an assembly (relative to the notebook's folder)"),
        ("#r \"nuget: Name, Version\"", "restores a NuGet package (and its dependencies) from the NuGet sources of the notebook's folder"),
        ("#load \"file.csx\"", "runs a C# script file in the session"),
    ];

    public static PreparedCell Prepare(string source)
    {
        var lines = source.Split('\n');
        bool time = false, list = false, code = false;
        var packages = new List<NugetPackage>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.StartsWith("#!", StringComparison.Ordinal))
            {
                var magic = line.Split(' ', 2)[0];
                switch (magic)
                {
                    case "#!csharp" or "#!c#" or "#!C#" when i == 0: break;
                    case "#!time" when !code: time = true; break;
                    case "#!lsmagic": list = true; break;
                    case "#!time":
                        return new(source, $"line {i + 1}: '#!time' times the rest of the cell, so it goes before the cell's code (first lines).");
                    default:
                        return new(source, $"line {i + 1}: the magic command '{magic}' is not supported in MedSsl notebooks (medssl run and the C# (MedSsl) kernel). " + Advice(magic));
                }
                lines[i] = new string(' ', lines[i].Length); // positions stay: completion and inspect read the same code
                continue;
            }
            var reference = NugetReference().Match(line);
            if (reference.Success)
            {
                var parts = reference.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries);
                if (parts.Length > 2 || parts[0].Length == 0 || !PackageId().IsMatch(parts[0]))
                    return new(source, $"line {i + 1}: write a NuGet reference as #r \"nuget: Name, Version\" (or #r \"nuget: Name\" for the latest stable version).");
                packages.Add(new NugetPackage(parts[0], parts.Length == 2 && parts[1].Length > 0 ? parts[1] : null, i + 1));
                lines[i] = new string(' ', lines[i].Length); // positions stay: completion and inspect read the same code
                continue;
            }
            if (line.Length > 0 && !line.StartsWith("//", StringComparison.Ordinal) && !line.StartsWith("#r ", StringComparison.Ordinal)
                && !line.StartsWith("#load ", StringComparison.Ordinal)) code = true;
        }
        return new(RewriteTopLevelUsingDeclarations(string.Join('\n', lines)), null, time, list, packages);
    }

    /// <summary>Turns each top-level <c>using [var|Type] name = …;</c> into the plain declaration followed, on the same
    /// line, by <c>DisposeWhenCellEnds(name);</c> (a <see cref="NotebookGlobals"/> method); <c>using</c> declarations
    /// inside blocks and methods compile as they are and are left alone.</summary>
    internal static string RewriteTopLevelUsingDeclarations(string code)
    {
        var matches = UsingDeclaration().Matches(code);
        if (matches.Count == 0) return code;
        var options = new CSharpParseOptions(kind: Microsoft.CodeAnalysis.SourceCodeKind.Script);
        var registrations = new List<(int At, string Call)>();
        foreach (Match match in matches)
        {
            var keyword = match.Groups["using"];
            // Blank the keyword (same length: positions and lines stay) and see whether a top-level declaration remains.
            var candidate = code[..keyword.Index] + new string(' ', keyword.Length) + code[(keyword.Index + keyword.Length)..];
            var root = CSharpSyntaxTree.ParseText(candidate, options).GetRoot();
            // A script's top-level variables parse as fields of the submission.
            if (root.FindToken(match.Groups["type"].Index).Parent?.FirstAncestorOrSelf<FieldDeclarationSyntax>()
                is { Parent: CompilationUnitSyntax } declaration && declaration.SpanStart == match.Groups["type"].Index
                && !declaration.SemicolonToken.IsMissing)
            {
                code = candidate;
                registrations.Add((declaration.Span.End,
                    string.Concat(declaration.Declaration.Variables.Select(v => $" DisposeWhenCellEnds({v.Identifier.ValueText});"))));
            }
        }
        foreach (var (at, call) in registrations.OrderByDescending(r => r.At)) code = code.Insert(at, call);
        return code;
    }

    private static string Advice(string magic) => magic switch
    {
        "#!fsharp" or "#!pwsh" or "#!javascript" or "#!sql" or "#!kql" or "#!html" or "#!markdown" or "#!mermaid" =>
            "Only C# code cells run; use a markdown cell for prose, or HTML(\"...\") / display(...) for rich output.",
        "#!set" or "#!share" or "#!value" => "Keep values in C# variables; parameters go in the cell tagged 'parameters'.",
        _ => "Supported magics (#!lsmagic): " + string.Join(", ", Supported.Select(s => s.Magic)) + ".",
    };

    [GeneratedRegex("""^#r\s+"nuget:\s*([^"]*)"\s*$""", RegexOptions.IgnoreCase)]
    private static partial Regex NugetReference();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")]
    private static partial Regex PackageId();

    /// <summary><c>using</c> at a line's start or after a statement, followed by a type and a name before <c>=</c> (an
    /// alias directive, <c>using A = B;</c>, has only one name).</summary>
    [GeneratedRegex(@"(?<=(?:^|[;{}])[ \t]*)(?<using>using)[ \t]+(?<type>(?!static\b)[A-Za-z_][\w.]*(?:<[^=;()]*>)?(?:\[\])*\??)[ \t]+[A-Za-z_]\w*[ \t]*=", RegexOptions.Multiline)]
    private static partial Regex UsingDeclaration();
}

using System.Text.RegularExpressions;

namespace MedSsl.Cli.Notebooks;

/// <summary>
/// Polyglot Notebooks' magic commands. Roslyn scripting silently ignores a <c>#!</c> first line and rejects one
/// elsewhere with an unhelpful error, and <c>#r "nuget:..."</c> would fail to resolve, so each is checked here and
/// a cell that uses one fails with what to do instead.
/// </summary>
internal static partial class CellMagics
{
    /// <summary>The code to compile — the accepted <c>#!csharp</c> line blanked so line numbers stay true — or the
    /// reason the cell cannot run.</summary>
    public static (string Code, string? Problem) Prepare(string source)
    {
        var lines = source.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.StartsWith("#!", StringComparison.Ordinal))
            {
                var magic = line.Split(' ', 2)[0];
                if (i == 0 && magic is "#!csharp" or "#!c#" or "#!C#")
                {
                    lines[i] = "";
                    continue;
                }
                return (source, $"line {i + 1}: the magic command '{magic}' is not supported in MedSsl notebooks (medssl run and the C# (MedSsl) kernel). " + Advice(magic));
            }
            var reference = NugetReference().Match(line);
            if (reference.Success)
                return (source, $"line {i + 1}: '#r \"nuget:...\"' is not supported in MedSsl notebooks (they run offline). " +
                    "Add the package to lib/MedSsl.Lib/MedSsl.Lib.csproj instead; the build copies it next to " +
                    "artifacts/lib/MedSsl.Lib.dll, which the notebook loads with #r \"../artifacts/lib/MedSsl.Lib.dll\".");
        }
        return (string.Join('\n', lines), null);
    }

    private static string Advice(string magic) => magic switch
    {
        "#!time" => "Time the code yourself: var watch = System.Diagnostics.Stopwatch.StartNew(); ... Console.WriteLine(watch.Elapsed);",
        "#!fsharp" or "#!pwsh" or "#!javascript" or "#!sql" or "#!kql" or "#!html" or "#!markdown" or "#!mermaid" =>
            "Only C# code cells run; use a markdown cell for prose, or HTML(\"...\") / display(...) for rich output.",
        "#!set" or "#!share" or "#!value" => "Keep values in C# variables; parameters go in the cell tagged 'parameters'.",
        _ => "Only C# is executed (a first-line #!csharp is accepted); remove the magic line.",
    };

    [GeneratedRegex("""^#r\s+"nuget:""", RegexOptions.IgnoreCase)]
    private static partial Regex NugetReference();
}

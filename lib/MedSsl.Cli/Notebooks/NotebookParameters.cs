using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace MedSsl.Cli.Notebooks;

/// <summary>
/// papermill's convention: the cell tagged <c>parameters</c> declares defaults; overrides go in a new cell tagged
/// <c>injected-parameters</c> right after it, assigning values converted to each parameter's declared type.
/// </summary>
internal static class NotebookParameters
{
    /// <summary>The well-known parameter <c>--profile</c> sets: "quick" (CI smoke run), "workshop" (class-sized) or "full" (the paper's shape).</summary>
    public const string ProfileName = "Profile";

    /// <summary>Inserts the injected cell. Unknown names and unconvertible values are bad input. A
    /// <c>--profile</c> for a notebook that declares no <c>Profile</c> is reported, not fatal: such a notebook has one size.</summary>
    public static IReadOnlyList<string> Inject(NotebookDocument notebook, IReadOnlyList<(string Name, string Value)> overrides, string? profile)
    {
        var notes = new List<string>();
        var index = notebook.Cells.FindIndex(c => NotebookDocument.Tags(c).Contains("parameters"));
        var declared = index < 0 ? new Dictionary<string, string>() : Declarations(NotebookDocument.Source(notebook.Cells[index]));
        var all = overrides.ToList();
        if (profile is not null && !all.Any(o => o.Name == ProfileName))
        {
            if (declared.ContainsKey(ProfileName)) all.Add((ProfileName, profile));
            else notes.Add($"the notebook declares no '{ProfileName}' parameter; --profile {profile} has no effect");
        }
        if (all.Count == 0) return notes;
        if (index < 0)
            throw new BadInputException(notebook.Path, $"--param {all[0].Name} given but no cell is tagged 'parameters'");
        var lines = new List<string> { "// Parameters injected by medssl run" };
        foreach (var (name, value) in all)
        {
            if (!declared.TryGetValue(name, out var type))
                throw new BadInputException(notebook.Path, $"--param {name}: the parameters cell declares no '{name}' (it declares: {string.Join(", ", declared.Keys)})");
            lines.Add($"{name} = {Literal(notebook.Path, name, type, value)};");
        }
        notebook.Cells.Insert(index + 1, new JsonObject
        {
            ["cell_type"] = "code",
            ["id"] = "injected-parameters",
            ["execution_count"] = null,
            ["metadata"] = new JsonObject
            {
                ["tags"] = new JsonArray("injected-parameters"),
                ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" },
                ["dotnet_interactive"] = new JsonObject { ["language"] = "csharp" },
            },
            ["outputs"] = new JsonArray(),
            ["source"] = NotebookDocument.SourceLines(string.Join("\n", lines)),
        });
        return notes;
    }

    /// <summary>Top-level variables of a parameters cell and their C# types (<c>var</c> takes the literal's type).</summary>
    public static Dictionary<string, string> Declarations(string source)
    {
        var root = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(kind: SourceCodeKind.Script)).GetRoot();
        var result = new Dictionary<string, string>();
        foreach (var declaration in root.DescendantNodes().OfType<VariableDeclarationSyntax>())
        {
            if (declaration.Parent is not (FieldDeclarationSyntax or LocalDeclarationStatementSyntax { Parent: GlobalStatementSyntax })) continue;
            foreach (var variable in declaration.Variables)
            {
                var type = declaration.Type.IsVar ? LiteralType(variable.Initializer?.Value) : declaration.Type.ToString();
                if (type is not null) result[variable.Identifier.Text] = type;
            }
        }
        return result;
    }

    private static string? LiteralType(ExpressionSyntax? value) => value switch
    {
        LiteralExpressionSyntax literal => literal.Token.Value switch
        {
            string => "string", bool => "bool", int => "int", long => "long", uint => "uint", ulong => "ulong",
            float => "float", double => "double", decimal => "decimal", _ => null,
        },
        PrefixUnaryExpressionSyntax { Operand: var operand } => LiteralType(operand),
        _ => null,
    };

    /// <summary>NaN and infinities have no C# literal; a parameter that needs one is a mistake anyway.</summary>
    private static double Finite(double value) => double.IsFinite(value) ? value : throw new FormatException();

    private static string Literal(string path, string name, string type, string value)
    {
        var invariant = CultureInfo.InvariantCulture;
        try
        {
            return type switch
            {
                "string" or "String" or "System.String" => SymbolDisplay.FormatLiteral(value, quote: true),
                "bool" or "Boolean" => bool.Parse(value) ? "true" : "false",
                "int" or "Int32" => int.Parse(value, invariant).ToString(invariant),
                "long" or "Int64" => long.Parse(value, invariant).ToString(invariant) + "L",
                "uint" => uint.Parse(value, invariant).ToString(invariant) + "U",
                "ulong" => ulong.Parse(value, invariant).ToString(invariant) + "UL",
                "double" or "Double" => Finite(double.Parse(value, invariant)).ToString("R", invariant) + "d",
                "float" or "Single" => ((float)Finite(float.Parse(value, invariant))).ToString("R", invariant) + "f",
                "decimal" => decimal.Parse(value, invariant).ToString(invariant) + "m",
                _ => throw new BadInputException(path, $"--param {name}: parameters of type '{type}' cannot be set from the command line (use string, bool or a number type)"),
            };
        }
        catch (FormatException)
        {
            throw new BadInputException(path, $"--param {name}={value}: not a valid {type}");
        }
        catch (OverflowException)
        {
            throw new BadInputException(path, $"--param {name}={value}: out of range for {type}");
        }
    }
}

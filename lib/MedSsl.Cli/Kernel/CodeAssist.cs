using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using MedSsl.Cli.Notebooks;

namespace MedSsl.Cli.Kernel;

/// <summary>is_complete and complete for the kernel, from Roslyn's parser and semantic model of the code as it would
/// compile after the cells run so far (so earlier variables and <c>#r</c> types complete).</summary>
internal static class CodeAssist
{
    private static readonly CSharpParseOptions ScriptParse = new(kind: SourceCodeKind.Script);

    /// <summary>"complete" or "incomplete" (an open brace, a statement without its end): what a console front end
    /// needs to decide between running and a continuation line.</summary>
    public static string IsComplete(string code) =>
        SyntaxFactory.IsCompleteSubmission(CSharpSyntaxTree.ParseText(code, ScriptParse)) ? "complete" : "incomplete";

    /// <summary>Names that can stand at <paramref name="cursor"/> (a UTF-16 index): members after a dot, otherwise
    /// whatever is in scope; filtered by the identifier being typed, which spans [Start, End).</summary>
    public static (List<string> Matches, int Start, int End) Complete(ScriptSession session, string code, int cursor)
    {
        cursor = Math.Clamp(cursor, 0, code.Length);
        var start = cursor;
        while (start > 0 && (char.IsLetterOrDigit(code[start - 1]) || code[start - 1] == '_')) start--;
        var prefix = code[start..cursor];
        var compilation = session.Analyse(code);
        var tree = compilation.SyntaxTrees.Single();
        var model = compilation.GetSemanticModel(tree);
        IEnumerable<ISymbol> symbols;
        if (start > 0 && code[start - 1] == '.'
            && tree.GetRoot().FindToken(start - 1).Parent is MemberAccessExpressionSyntax { Expression: var target })
        {
            if (model.GetSymbolInfo(target).Symbol is INamespaceOrTypeSymbol container)
                symbols = model.LookupSymbols(start, container).Where(s => s.IsStatic || s is INamespaceOrTypeSymbol);
            else if (model.GetTypeInfo(target).Type is { } type)
                symbols = model.LookupSymbols(start, type, includeReducedExtensionMethods: true).Where(s => !s.IsStatic || s is IMethodSymbol { ReducedFrom: not null });
            else
                symbols = [];
        }
        else
        {
            symbols = model.LookupSymbols(start);
        }
        var matches = symbols.Where(s => s.CanBeReferencedByName && s.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(s => s.Name).Distinct().Order(StringComparer.OrdinalIgnoreCase).ToList();
        return (matches, start, cursor);
    }
}

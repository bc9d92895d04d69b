using System.Xml.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using MedSsl.Cli.Notebooks;

namespace MedSsl.Cli.Kernel;

/// <summary>is_complete, complete and inspect for the kernel, from Roslyn's parser and semantic model of the code as it
/// would compile after the cells run so far (so earlier variables and <c>#r</c> types complete), with the magics read
/// as a cell's run reads them (<see cref="CellMagics"/>).</summary>
internal static class CodeAssist
{
    private static readonly CSharpParseOptions ScriptParse = new(kind: SourceCodeKind.Script);

    /// <summary>"incomplete" (an open brace, a statement without its end: a console front end asks for another line),
    /// "invalid" (complete but it cannot parse, or a magic the cell refuses: run it to see the error), else "complete".</summary>
    public static string IsComplete(string code)
    {
        var cell = CellMagics.Prepare(code);
        if (cell.Problem is not null) return "invalid";
        var tree = CSharpSyntaxTree.ParseText(cell.Code, ScriptParse);
        if (!SyntaxFactory.IsCompleteSubmission(tree)) return "incomplete";
        return tree.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error) ? "invalid" : "complete";
    }

    /// <summary>Names that can stand at <paramref name="cursor"/> (a UTF-16 index): members after a dot, otherwise
    /// whatever is in scope; filtered by the identifier being typed, which spans [Start, End).</summary>
    public static (List<string> Matches, int Start, int End) Complete(ScriptSession session, string code, int cursor)
    {
        cursor = Math.Clamp(cursor, 0, code.Length);
        var start = cursor;
        while (start > 0 && (char.IsLetterOrDigit(code[start - 1]) || code[start - 1] == '_')) start--;
        var prefix = code[start..cursor];
        var compilation = session.Analyse(Prepared(code));
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

    /// <summary>The code as a cell's run compiles it (magic lines blanked: positions stay), or as typed when the cell
    /// would be refused.</summary>
    private static string Prepared(string code) => CellMagics.Prepare(code) is { Problem: null } cell && cell.Code.Length == code.Length ? cell.Code : code;

    private static readonly SymbolDisplayFormat Signature = SymbolDisplayFormat.MinimallyQualifiedFormat
        .AddMemberOptions(SymbolDisplayMemberOptions.IncludeContainingType)
        .AddParameterOptions(SymbolDisplayParameterOptions.IncludeDefaultValue);

    /// <summary>Shift+Tab help for the symbol at <paramref name="cursor"/> (in or just after a name, or inside a call's
    /// parentheses): its signature (every overload of a method group) and its XML doc summary; null when there is none.</summary>
    public static string? Inspect(ScriptSession session, string code, int cursor)
    {
        cursor = Math.Clamp(cursor, 0, code.Length);
        var compilation = session.Analyse(Prepared(code));
        var tree = compilation.SyntaxTrees.Single();
        var model = compilation.GetSemanticModel(tree);
        var root = tree.GetRoot();
        var token = root.FindToken(Math.Max(0, cursor - 1));
        if (!token.IsKind(SyntaxKind.IdentifierToken) && cursor < code.Length && root.FindToken(cursor) is var next
            && next.IsKind(SyntaxKind.IdentifierToken)) token = next;
        SyntaxNode? node = token.Parent;
        // Inside a call's parentheses: the method called.
        if (!token.IsKind(SyntaxKind.IdentifierToken) && token.Parent?.FirstAncestorOrSelf<ArgumentListSyntax>()?.Parent is { } call)
            node = call switch
            {
                InvocationExpressionSyntax invocation => invocation.Expression,
                _ => call,
            };
        if (node is null) return null;
        var symbols = new List<ISymbol>();
        if (model.GetDeclaredSymbol(node) is { } declared) symbols.Add(declared);
        else
        {
            var info = model.GetSymbolInfo(node);
            if (info.Symbol is { } symbol) symbols.Add(symbol);
            else symbols.AddRange(info.CandidateSymbols.Length > 0 ? info.CandidateSymbols : model.GetMemberGroup(node));
        }
        if (symbols.Count == 0) return null;
        var position = node.SpanStart;
        var signatures = symbols.Take(8).Select(s => s is IFieldSymbol { ContainingType.IsScriptClass: true } or ILocalSymbol
            ? s.ToMinimalDisplayString(model, position, SymbolDisplayFormat.MinimallyQualifiedFormat)
            : s.ToMinimalDisplayString(model, position, Signature)).ToList();
        if (symbols.Count > 8) signatures.Add($"(+{symbols.Count - 8} more overloads)");
        var summary = symbols.Select(s => Documentation.Summary(s, compilation)).FirstOrDefault(d => d is not null);
        return string.Join("\n", signatures) + (summary is null ? "" : "\n\n" + summary);
    }

    /// <summary>XML doc summaries: the symbol's own (a cell's <c>///</c>), else the XML file beside its assembly (the
    /// library builds MedSsl.Lib.xml; NuGet packages ship theirs), else, for the platform, the reference pack's.</summary>
    private static class Documentation
    {
        private static readonly Dictionary<string, Dictionary<string, XElement>?> Files = [];

        public static string? Summary(ISymbol symbol, Compilation compilation)
        {
            var id = (symbol is IMethodSymbol { ReducedFrom: { } extension } ? extension : symbol.OriginalDefinition).GetDocumentationCommentId();
            if (id is null) return null;
            if (symbol.GetDocumentationCommentXml() is { Length: > 0 } own && Parse(own)?.Element("summary") is { } ownSummary)
                return Text(ownSummary);
            if (symbol.ContainingAssembly is not { } assembly || compilation.GetMetadataReference(assembly) is not PortableExecutableReference { FilePath: { } path })
                return null;
            foreach (var file in Candidates(path, assembly.Name))
                if (Members(file)?.GetValueOrDefault(id)?.Element("summary") is { } summary) return Text(summary);
            return null;
        }

        private static IEnumerable<string> Candidates(string assemblyPath, string assemblyName)
        {
            yield return Path.ChangeExtension(assemblyPath, ".xml");
            // The platform's implementation assemblies ship without docs; the reference pack of the same major version has them.
            var dotnetRoot = Path.GetDirectoryName(Environment.ProcessPath);
            var packs = dotnetRoot is null ? null : Path.Combine(dotnetRoot, "packs", "Microsoft.NETCore.App.Ref");
            if (packs is null || !Directory.Exists(packs)) yield break;
            var major = Environment.Version.Major;
            var pack = Directory.EnumerateDirectories(packs, $"{major}.*").OrderByDescending(d => Version.TryParse(Path.GetFileName(d).Split('-')[0], out var v) ? v : new Version()).FirstOrDefault();
            if (pack is null) yield break;
            var reference = Path.Combine(pack, "ref", $"net{major}.{Environment.Version.Minor}");
            yield return Path.Combine(reference, assemblyName + ".xml");
            yield return Path.Combine(reference, "System.Runtime.xml"); // CoreLib's types are documented there
        }

        private static Dictionary<string, XElement>? Members(string file)
        {
            if (Files.TryGetValue(file, out var members)) return members;
            members = File.Exists(file)
                ? XDocument.Load(file).Descendants("member").Where(m => m.Attribute("name") is not null)
                    .GroupBy(m => m.Attribute("name")!.Value).ToDictionary(g => g.Key, g => g.First())
                : null;
            Files[file] = members;
            return members;
        }

        private static XElement? Parse(string xml)
        {
            try { return XElement.Parse(xml); }
            catch (System.Xml.XmlException) { return null; }
        }

        /// <summary>The element's text with <c>&lt;see cref&gt;</c> and <c>&lt;paramref&gt;</c> as names, whitespace folded.</summary>
        private static string Text(XElement element)
        {
            var parts = element.Nodes().Select(n => n switch
            {
                XText text => text.Value,
                XElement { Name.LocalName: "see" or "seealso" } see => see.Attribute("cref")?.Value is { } cref
                    ? cref[(cref.IndexOf(':') + 1)..].Split('(')[0].Split('.').Last() : see.Attribute("langword")?.Value ?? see.Value,
                XElement { Name.LocalName: "paramref" or "typeparamref" } reference => reference.Attribute("name")?.Value ?? "",
                XElement other => Text(other),
                _ => "",
            });
            return string.Join(' ', string.Concat(parts).Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
        }
    }
}

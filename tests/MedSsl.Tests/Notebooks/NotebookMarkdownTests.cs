using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Notebooks;

/// <summary>Findings that cannot go stale: a notebook's markdown explains the method, the protocol and what to look at,
/// and every number that depends on a run is computed by a cell. Parameter values and the paper's own numbers (in a
/// sentence that attributes them: "the paper", "et al.") may stay in prose, as may equations and code.</summary>
public partial class NotebookMarkdownTests
{
    public static TheoryData<string> Notebooks() =>
        [.. Directory.GetFiles(Path.Combine(Medssl.RepoRoot, "notebooks"), "*.ipynb").Select(Path.GetFileName).Order()!];

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void MarkdownHoldsNoRunDependentNumber(string notebook)
    {
        var document = JsonNode.Parse(File.ReadAllText(Path.Combine(Medssl.RepoRoot, "notebooks", notebook)))!;
        var found = document["cells"]!.AsArray()
            .Where(c => c!["cell_type"]!.GetValue<string>() == "markdown")
            .SelectMany(c => RunDependentNumbers(Source(c!)))
            .ToList();
        Assert.True(found.Count == 0, $"{notebook}: numbers in markdown that a cell should compute:{Environment.NewLine}" +
            string.Join(Environment.NewLine, found.Select(f => $"  \"{f}\"")));
    }

    [Fact]
    public void TheCheckFindsTypedResultsAndPassesEquationsParametersAndThePapersNumbers()
    {
        Assert.Equal(["PICA averages a weighted F1 of 0.609"], RunDependentNumbers("PICA averages a weighted F1 of 0.609. It uses λ = 2."));
        Assert.Equal(["The means differ: a paired difference of −0.013 (p = 0.27)"], RunDependentNumbers("The means differ: a paired difference of −0.013 (p = 0.27)."));
        Assert.Empty(RunDependentNumbers("The loss is $\\mathcal{L} = 0.5 \\cdot x$ and `lr = 1e-3`, `σ = 0.2`."));
        Assert.Empty(RunDependentNumbers("The paper's Table 1 has L_SD 64.7 vs PICA 60.4."));
        Assert.Empty(RunDependentNumbers("Enguehard et al. report 99.8 % for 8 points."));
        Assert.Empty(RunDependentNumbers("Quick: 600 images of 16×16, 2 seeds, 95 % intervals."));
        Assert.Empty(RunDependentNumbers("$$q_{ij} = 1.5$$ then text."));
    }

    /// <summary>Sentences of <paramref name="markdown"/> with a decimal number (or a p-value) outside math and code
    /// that do not attribute it to a paper.</summary>
    public static IReadOnlyList<string> RunDependentNumbers(string markdown)
    {
        var prose = MathOrCode().Replace(markdown, " ");
        return [.. Sentence().Split(prose)
            .Select(s => Regex.Replace(s, @"\s+", " ").Trim().TrimEnd('.'))
            .Where(s => (Decimal().IsMatch(s) || PValue().IsMatch(s)) && !Attributed().IsMatch(s))];
    }

    private static string Source(JsonNode cell) => cell["source"] is JsonArray lines
        ? string.Concat(lines.Select(l => l!.GetValue<string>())) : cell["source"]!.GetValue<string>();

    [GeneratedRegex(@"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", RegexOptions.Singleline)]
    private static partial Regex MathOrCode();

    [GeneratedRegex(@"(?<=[.!?;])\s+(?=[A-Z(*_\-])|\n\s*\n|\n\s*[-*] ")]
    private static partial Regex Sentence();

    [GeneratedRegex(@"(?<![\w.§])[-+−]?\d+\.\d+")]
    private static partial Regex Decimal();

    [GeneratedRegex(@"\bp\s*[=<>≈]\s*[\d.]", RegexOptions.IgnoreCase)]
    private static partial Regex PValue();

    [GeneratedRegex(@"\bpaper|et al\.|\bthe authors\b|\breports?\b", RegexOptions.IgnoreCase)]
    private static partial Regex Attributed();
}

using System.Text.Json.Nodes;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Notebooks;

/// <summary>A notebook run headless by <c>medssl run … --profile quick</c> into a fresh folder, as CI runs it, checked to
/// have succeeded and to be a valid notebook; its results.json parsed. OpenMP waits passively, as the CPU budgets are
/// measured: spinning libtorch threads on a crowded machine burn the CPU the other processes need.</summary>
internal sealed class QuickProfileRun
{
    private QuickProfileRun(string output, string stem)
    {
        Output = output;
        Stem = stem;
        Results = JsonNode.Parse(File.ReadAllText(PathOf(".results.json")))!;
    }

    public string Output { get; }
    public string Stem { get; }
    public JsonNode Results { get; }

    /// <summary>Runs <c>notebooks/&lt;stem&gt;.ipynb</c>; <paramref name="limit"/> is wall time on a shared machine.</summary>
    public static QuickProfileRun Of(string stem, TimeSpan limit)
    {
        var output = Medssl.TemporaryFolder();
        var run = Medssl.RunWithin(limit, new Dictionary<string, string> { ["OMP_WAIT_POLICY"] = "PASSIVE" }, "run",
            Path.Combine(Medssl.RepoRoot, "notebooks", stem + ".ipynb"), "--out", output, "--profile", "quick");
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Medssl.AssertValidNotebook(Path.Combine(output, stem + ".ipynb"));
        return new QuickProfileRun(output, stem);
    }

    /// <summary>The file the run wrote beside its notebook, e.g. <c>.runs.csv</c>.</summary>
    public string PathOf(string suffix) => Path.Combine(Output, Stem + suffix);

    /// <summary>The non-empty lines of a CSV the run wrote (the header first).</summary>
    public string[] CsvLines(string suffix) => [.. File.ReadAllLines(PathOf(suffix)).Where(l => l.Length > 0)];
}

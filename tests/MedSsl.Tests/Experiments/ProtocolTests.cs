using System.Text.Json.Nodes;
using MedSsl.Data;
using MedSsl.Experiments;
using MedSsl.Reports;
using MedSsl.Tests.Support;
using MedSsl.Training;

namespace MedSsl.Tests.Experiments;

/// <summary>The protocol runner and claims on fabricated rows: no training, milliseconds.</summary>
public class ProtocolTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("medssl-protocol-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private sealed record Row(int Seed, string Method, double Fraction, double F1) : ISeededRow;

    private static Claim<Row> BetterThanBaseline(ClaimDirection direction = ClaimDirection.Higher) =>
        new("new ≥ baseline", "Someone et al. 2020, §3", "F1", r => r.F1, r => r.Method == "new", r => r.Method == "baseline", direction);

    private static List<Row> Rows(params (int Seed, double New, double Baseline)[] pairs) =>
        [.. pairs.SelectMany(p => new[] { new Row(p.Seed, "new", 0.1, p.New), new Row(p.Seed, "baseline", 0.1, p.Baseline) })];

    [Fact]
    public void AClaimPairsBySeedAndGivesTheTIntervalOfTheDifferences()
    {
        // Differences 0.1, 0.2, 0.3 (seed 9 has no baseline and is left out): mean 0.2, s = 0.1, n = 3.
        var rows = Rows((0, 0.6, 0.5), (1, 0.7, 0.5), (2, 0.8, 0.5));
        rows.Add(new Row(9, "new", 0.1, 0.99));
        var result = BetterThanBaseline().Evaluate(rows);
        Assert.Equal(3, result.Count);
        Assert.Equal([0, 1, 2], result.Pairs.Select(p => p.Seed));
        Assert.Equal(0.2, result.Difference, 12);
        // Hand values: t(0.975, 2) = 4.302653, t(0.8, 2) = 1.060660; half-width 4.302653 · 0.1 / √3.
        Assert.Equal(0.2 - 4.302653 * 0.1 / Math.Sqrt(3), result.Interval[0], 5);
        Assert.Equal(0.2 + 4.302653 * 0.1 / Math.Sqrt(3), result.Interval[1], 5);
        Assert.Equal((4.302653 + 1.060660) * 0.1 / Math.Sqrt(3), result.Detectable, 5);
        Assert.Equal(Verdict.Inconclusive, result.Verdict);
        Assert.Contains("inconclusive; 3 seeds detect a difference of 0.310 or more", result.Sentence());
    }

    [Fact]
    public void TheVerdictFollowsTheIntervalAndTheClaimedDirection()
    {
        var better = Rows((0, 0.60, 0.50), (1, 0.62, 0.50), (2, 0.61, 0.50), (3, 0.63, 0.50), (4, 0.59, 0.50));
        Assert.Equal(Verdict.Supported, BetterThanBaseline().Evaluate(better).Verdict);
        Assert.Equal(Verdict.Contradicted, BetterThanBaseline(ClaimDirection.Lower).Evaluate(better).Verdict);
        var worse = Rows((0, 0.40, 0.50), (1, 0.42, 0.50), (2, 0.41, 0.50));
        Assert.Equal(Verdict.Contradicted, BetterThanBaseline().Evaluate(worse).Verdict);
        Assert.Contains("contradicted", BetterThanBaseline().Evaluate(worse).Sentence());
        Assert.Equal(Verdict.Supported, BetterThanBaseline(ClaimDirection.Lower).Evaluate(worse).Verdict);
    }

    [Fact]
    public void FewerThanTwoPairsAreInconclusiveWithoutAnInterval()
    {
        var one = BetterThanBaseline().Evaluate(Rows((0, 0.9, 0.1)));
        Assert.Equal((1, Verdict.Inconclusive), (one.Count, one.Verdict));
        Assert.Equal(0.8, one.Difference, 12);
        Assert.True(double.IsNaN(one.Interval[0]) && double.IsNaN(one.Detectable));
        Assert.Contains("needs at least 2 seeds", one.Sentence());
        Assert.Equal(0, BetterThanBaseline().Evaluate([]).Count);
    }

    [Fact]
    public void AmbiguousPairsAreANamedErrorUntilPairByTellsThemApart()
    {
        List<Row> rows = [new(0, "new", 0.1, 0.6), new(0, "new", 0.5, 0.7), new(0, "baseline", 0.1, 0.5), new(0, "baseline", 0.5, 0.4),
            new(1, "new", 0.1, 0.65), new(1, "new", 0.5, 0.75), new(1, "baseline", 0.1, 0.5), new(1, "baseline", 0.5, 0.45)];
        var error = Assert.Throws<InvalidOperationException>(() => BetterThanBaseline().Evaluate(rows));
        Assert.Contains("claim \"new ≥ baseline\": two treatment rows share the pairing key", error.Message);
        var byFraction = BetterThanBaseline() with { PairBy = r => r.Fraction };
        var result = byFraction.Evaluate(rows);
        Assert.Equal(4, result.Count);
        Assert.Equal((0.1 + 0.3 + 0.15 + 0.3) / 4, result.Difference, 12);
        var nan = Rows((0, double.NaN, 0.5), (1, 0.6, 0.5));
        Assert.Contains("NaN (seed 0)", Assert.Throws<ArgumentException>(() => BetterThanBaseline().Evaluate(nan)).Message);
    }

    private sealed class FakeRun(List<string> log, string name) : IDisposable
    {
        public string Name { get; } = name;
        public void Dispose() => log.Add("dispose " + Name);
    }

    private sealed class FakeProtocol(List<string> log, int seeds, string? failAt = null) : Protocol<string, FakeRun, Row>
    {
        public override SeedPlan Seeds => SeedPlan.Evaluation(seeds);
        public override IReadOnlyList<string> Grid => ["baseline", "new"];

        public override void BeginSeed(int seed) => log.Add($"begin {seed}");
        public override void EndSeed(int seed) => log.Add($"end {seed}");

        public override FakeRun Train(int seed, string setting, Trainer trainer)
        {
            Assert.Equal(RunCancellation.Current, trainer.Cancellation);
            if ($"{setting} {seed}" == failAt) throw new InvalidDataException("training failed");
            return new FakeRun(log, $"{setting} {seed}");
        }

        public override IEnumerable<Row> Evaluate(int seed, string setting, FakeRun run) =>
            [new Row(seed, setting, 0.1, setting == "new" ? 0.6 + 0.01 * (seed - 1000) : 0.5)];

        public override IEnumerable<Claim<Row>> Claims => [BetterThanBaseline()];

        public override bool IsExample(int seed, string setting) => seed == 1001 && setting == "new";
    }

    [Fact]
    public void TheRunnerRunsEverySeedAndSettingKeepsTheExampleAndDisposesTheRest()
    {
        var log = new List<string>();
        using (var result = ProtocolRunner.Run(new FakeProtocol(log, seeds: 3), new SilentProgress()))
        {
            Assert.Equal(6, result.Rows.Count);
            Assert.Equal([1000, 1001, 1002], result.Seeds.Seeds);
            Assert.True(result.Seeds.Fresh);
            Assert.Equal("new 1001", result.Example("new").Name);
            Assert.Throws<KeyNotFoundException>(() => result.Example("baseline"));
            Assert.Equal(["begin 1000", "dispose baseline 1000", "dispose new 1000", "end 1000", "begin 1001", "dispose baseline 1001", "end 1001",
                "begin 1002", "dispose baseline 1002", "dispose new 1002", "end 1002"], log);
            var claim = Assert.Single(result.Claims.Results);
            Assert.Equal(3, claim.Count);
            Assert.Equal(0.11, claim.Difference, 12);
            Assert.Equal(Verdict.Supported, claim.Verdict);
        }
        Assert.Equal("dispose new 1001", log[^1]);
    }

    [Fact]
    public void AFailedRunEndsItsSeedAndDisposesTheKeptExamples()
    {
        var log = new List<string>();
        Assert.Throws<InvalidDataException>(() => ProtocolRunner.Run(new FakeProtocol(log, seeds: 3, failAt: "baseline 1002"), new SilentProgress()));
        Assert.Equal(["begin 1002", "end 1002", "dispose new 1001"], log[^3..]);
    }

    [Fact]
    public void ACancelledRunStopsBeforeTheNextRun()
    {
        var log = new List<string>();
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => ProtocolRunner.Run(new FakeProtocol(log, seeds: 2), new SilentProgress(), cancel.Token));
        Assert.Equal(["begin 1000", "end 1000"], log);
    }

    [Fact]
    public void SaveWritesTheClaimsAndSeedsIntoTheContextsFolderAndNothingInteractively()
    {
        using var result = ProtocolRunner.Run(new FakeProtocol([], seeds: 2), new SilentProgress());
        Assert.Null(result.Save(new { f1 = 0.5 }, RunContext.Interactive));
        var path = result.Save(new { f1 = 0.5 }, new RunContext(dir, "nb"));
        Assert.Equal(Path.Combine(dir, "nb.results.json"), path);
        var json = JsonNode.Parse(File.ReadAllText(path!))!;
        Assert.Equal(0.5, json["f1"]!.GetValue<double>());
        Assert.Equal([1000, 1001], json["seeds"]!.AsArray().Select(s => s!.GetValue<int>()));
        Assert.True(json["fresh_seeds"]!.GetValue<bool>());
        var claim = json["claims"]!.AsArray().Single()!;
        Assert.Equal("new ≥ baseline", claim["text"]!.GetValue<string>());
        Assert.Equal("F1", claim["measure"]!.GetValue<string>());
        Assert.Equal(2, claim["n"]!.GetValue<int>());
        Assert.Equal("Supported", claim["verdict"]!.GetValue<string>());
        Assert.Equal(0.105, claim["difference"]!.GetValue<double>(), 12);
        Assert.Equal(2, claim["interval"]!.AsArray().Count);
        Assert.Equal(2, claim["pairs"]!.AsArray().Count);
        Assert.True(File.Exists(Path.Combine(dir, "nb.runs.csv")));

        // One seed: no interval, written as null.
        using var one = ProtocolRunner.Run(new FakeProtocol([], seeds: 1), new SilentProgress());
        var single = JsonNode.Parse(File.ReadAllText(one.Save(new { f1 = 0.5 }, new RunContext(dir, "one"))!))!["claims"]![0]!;
        Assert.Null(single["interval"]![0]);
        Assert.Null(single["detectable"]);
        Assert.Equal("Inconclusive", single["verdict"]!.GetValue<string>());
    }

    [Fact]
    public void ASecondProtocolAppendsItsClaimsSeedsValuesAndRowsToTheSameResults()
    {
        using var first = ProtocolRunner.Run(new FakeProtocol([], seeds: 2), new SilentProgress());
        using var second = ProtocolRunner.Run(new FakeProtocol([], seeds: 3), new SilentProgress());
        var context = new RunContext(dir, "nb");
        first.Save(new { f1 = 0.5 }, context);
        Assert.Null(ResultsFile.Append("more", new { more_f1 = 0.7 }, new Study<Row>("more", second.Rows), second.Claims, second.Seeds, RunContext.Interactive));
        var path = ResultsFile.Append("more", new { more_f1 = 0.7 }, new Study<Row>("more", second.Rows), second.Claims, second.Seeds, context);
        var json = JsonNode.Parse(File.ReadAllText(path!))!;
        Assert.Equal([1000, 1001], json["seeds"]!.AsArray().Select(s => s!.GetValue<int>()));
        Assert.Equal([1000, 1001, 1002], json["more_seeds"]!.AsArray().Select(s => s!.GetValue<int>()));
        Assert.Equal([2, 3], json["claims"]!.AsArray().Select(c => c!["n"]!.GetValue<int>()));
        Assert.Equal((0.5, 0.7), (json["f1"]!.GetValue<double>(), json["more_f1"]!.GetValue<double>()));
        Assert.Equal(second.Rows.Count + 1, File.ReadAllLines(Path.Combine(dir, "nb.more.csv")).Count(l => l.Length > 0));
    }

    [Fact]
    public void ClaimsShowAsATableAndAsPairedDifferences()
    {
        var table = ClaimTable.Evaluate([BetterThanBaseline() with { PaperDifference = 0.04 }], Rows((0, 0.6, 0.5), (1, 0.7, 0.5)));
        var bundle = DisplayFormatters.Format(table);
        var html = bundle["text/html"]!.GetValue<string>();
        Assert.Contains("Someone et al. 2020, &#167;3", html);
        Assert.Contains(">inconclusive<", html);
        Assert.Contains("+0.040", html);
        Assert.StartsWith("- new ≥ baseline (Someone et al. 2020, §3): +0.150", bundle["text/plain"]!.GetValue<string>());
        var chart = JsonNode.Parse(DisplayFormatters.Format(Charts.PairedDifferences(table))[DisplayFormatters.PlotlyMimeType]!.ToJsonString())!;
        var traces = chart["data"]!.AsArray();
        Assert.Equal([0.1, 0.2], traces[0]!["x"]!.AsArray().Select(x => Math.Round(x!.GetValue<double>(), 12)));
        Assert.Contains(traces, t => t!["name"]!.GetValue<string>() == "the paper's difference");
        Assert.Throws<ArgumentException>(() => Charts.PairedDifferences(new ClaimTable([])));
        var findings = DisplayFormatters.Format(table.Findings("sizes <closer> to uniform"));
        Assert.StartsWith("<ul class=\"medssl-findings\"><li>new ≥ baseline", findings["text/html"]!.GetValue<string>());
        Assert.EndsWith("<li>sizes &lt;closer&gt; to uniform</li></ul>", findings["text/html"]!.GetValue<string>());
        Assert.EndsWith("- sizes <closer> to uniform", findings["text/plain"]!.GetValue<string>());
    }

    [Fact]
    public void ProfilesParseAndPickTheirOwnValue()
    {
        Assert.Equal(RunProfile.Workshop, RunProfiles.Parse(" Workshop "));
        Assert.Equal([2, 5, 20], Enum.GetValues<RunProfile>().Select(p => p.Pick(quick: 2, workshop: 5, full: 20)));
        Assert.Equal("workshop", RunProfile.Workshop.Name());
        Assert.Contains("\"workshop\"", Assert.Throws<ArgumentException>(() => RunProfiles.Parse("medium")).Message);
        Assert.Contains("fresh evaluation seeds (1000–1004)", SeedPlan.Evaluation(5).Description);
        Assert.Throws<ArgumentOutOfRangeException>(() => SeedPlan.Exploration(0));
        Assert.Equal(1003, SeedPlan.Evaluation(5).RequireExample(1003));
        Assert.Contains("Seed 7 is not one of this profile's seeds (1000–1004)",
            Assert.Throws<ArgumentException>(() => SeedPlan.Evaluation(5).RequireExample(7)).Message);
    }

    [Fact]
    public void ARunContextNamesArtefactsBesideTheResults()
    {
        var context = new RunContext(Path.Combine(dir, "sub"), "02-x");
        Assert.Equal(Path.Combine(dir, "sub", "02-x.results.json"), context.ResultsPath);
        Assert.Equal(Path.Combine(dir, "sub", "02-x.backbone.safetensors"), context.ArtefactPath("backbone.safetensors"));
        Assert.True(Directory.Exists(Path.Combine(dir, "sub")));
        Assert.Null(RunContext.Interactive.ArtefactPath("backbone.safetensors"));
        Assert.Contains("without folders", Assert.Throws<ArgumentException>(() => context.ArtefactPath("../x")).Message);
    }
}

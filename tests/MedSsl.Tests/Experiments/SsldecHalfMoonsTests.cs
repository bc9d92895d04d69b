using MedSsl.Data;
using MedSsl.Experiments;

namespace MedSsl.Tests.Experiments;

/// <summary>SSLDEC's half-moons protocol in the quick profile, judged by statistics over its seeds (not by any one seed):
/// with the paper's well-spread labels SSLDEC is near-perfect; with randomly drawn labels (the protocol) most runs are,
/// it beats supervised-only training on average, and its own loss flags the run that failed, without labels.</summary>
public class SsldecHalfMoonsTests
{
    private static readonly Lazy<HalfMoonsStudy> Quick = new(() => SsldecHalfMoons.RunStudy(RunProfile.Quick));

    [Fact]
    public void WellSpreadLabelsGiveAMeanAccuracyOfAtLeast099()
    {
        var headline = Quick.Value.Headline;
        Assert.True(headline.AccuracySsldecWellSpread >= 0.99, $"well-spread mean {headline.AccuracySsldecWellSpread:F3}");
    }

    [Fact]
    public void RandomLabelsGiveAMedianOfAtLeast097AndBeatSupervisedOnAverage()
    {
        var headline = Quick.Value.Headline;
        Assert.True(headline.AccuracySsldecMedian >= 0.97, $"random-label median {headline.AccuracySsldecMedian:F3}");
        Assert.True(headline.AccuracySsldec > headline.AccuracySupervised, $"SSLDEC {headline.AccuracySsldec:F3} vs supervised {headline.AccuracySupervised:F3}");
    }

    [Fact]
    public void TheWorstRandomRunHasTheHighestFinalClusteringLoss()
    {
        Assert.True(Quick.Value.Headline.WorstRunHasHighestLoss,
            string.Join("; ", Quick.Value.Headline.PerSeed.Select(s => $"seed {s.Seed}: {s.AccuracySsldec:F3}, KL {s.ClusteringLossSsldec:F4}")));
    }

    [Fact]
    public void TheStudyHasEveryRowItsSummaryItsClaimsAndTheExampleRunsItsNumbersCameFrom()
    {
        var study = Quick.Value;
        Assert.Equal(SeedPlan.Evaluation(SsldecHalfMoons.SeedCount(RunProfile.Quick)).Seeds, study.Seeds.Seeds);
        Assert.Equal(study.Seeds.Count * 2 * 2, study.Rows.Count);
        Assert.Equal(4, study.Summary.Rows.Count);
        foreach (var model in Enum.GetValues<HalfMoonsModel>())
        {
            var row = study.Rows.Single(r => r.Seed == study.Seeds.Seeds[0] && r.Placement == LabelPlacement.Random && r.Model == model);
            Assert.Equal(row, study.Example(model).Row());
        }
        // The claims pair each seed's SSLDEC run with its supervised run: their differences are the rows' differences.
        var random = study.Claims.Results[0];
        Assert.Equal(study.Seeds.Count, random.Count);
        Assert.Equal(study.Headline.AccuracySsldec - study.Headline.AccuracySupervised, random.Difference, 12);
        Assert.All(study.Claims.Results, c => Assert.True(c.Verdict == Verdict.Inconclusive || c.Interval[0] * c.Interval[1] > 0));
        var folder = Directory.CreateTempSubdirectory("medssl-study-").FullName;
        study.Save(new RunContext(folder, "04"));
        var csv = File.ReadAllLines(Path.Combine(folder, "04.runs.csv"));
        Assert.Equal("Seed,Placement,Model,Accuracy,ClusteringLoss", csv[0]);
        Assert.Equal(study.Rows.Count + 1, csv.Count(l => l.Length > 0));
        Assert.Contains("\"claims\"", File.ReadAllText(Path.Combine(folder, "04.results.json")));
    }

    [Fact]
    public void AnExampleSeedOutsideThePlanIsANamedError() =>
        Assert.Contains("Seed 3 is not one of the quick profile's seeds (1000–1004)",
            Assert.Throws<ArgumentException>(() => new HalfMoonsProtocol(RunProfile.Quick, exampleSeed: 3)).Message);
}

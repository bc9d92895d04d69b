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
    public void TheStudyHasEveryRowItsSummaryAndTheExampleRunItsNumbersCameFrom()
    {
        var study = Quick.Value;
        Assert.Equal(SsldecHalfMoons.SeedCount(RunProfile.Quick) * 2 * 2, study.Rows.Count);
        Assert.Equal(4, study.Summary.Rows.Count);
        var example = study.Rows.Single(r => r.Seed == 0 && r.Placement == LabelPlacement.Random && r.Model == HalfMoonsModel.Ssldec);
        Assert.Equal(example.Accuracy, study.Example.Accuracy(HalfMoonsModel.Ssldec));
        var path = Path.Combine(Directory.CreateTempSubdirectory("medssl-study-").FullName, "04.results.json");
        study.Save(path);
        Assert.True(File.Exists(path));
        var csv = File.ReadAllLines(Path.Combine(Path.GetDirectoryName(path)!, "04.runs.csv"));
        Assert.Equal("Seed,Placement,Model,Accuracy,ClusteringLoss", csv[0]);
        Assert.Equal(study.Rows.Count + 1, csv.Count(l => l.Length > 0));
    }
}

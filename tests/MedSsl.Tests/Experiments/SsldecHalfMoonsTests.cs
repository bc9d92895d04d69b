using MedSsl.Data;
using MedSsl.Experiments;
using MedSsl.Reports;
using MedSsl.Methods;

namespace MedSsl.Tests.Experiments;

/// <summary>SSLDEC's half-moons protocol, judged by properties of the code that hold for any seed (not by statistics of
/// particular seeds): the grid and the rows, the pairing of the claims, the example runs, the saved files. The runs are
/// shortened (20 rounds) so the properties are checked in seconds; the verdicts are the notebook's.</summary>
public class SsldecHalfMoonsTests
{
    private static readonly Lazy<HalfMoonsStudy> Short = new(() =>
        SsldecHalfMoons.RunStudy(RunProfile.Quick, options: SsldecOptions.HalfMoons(0) with { Rounds = 20 }));

    [Fact]
    public void EverySeedRunsTheWholeGridAndTheRowsAreValid()
    {
        var study = Short.Value;
        var protocol = new HalfMoonsProtocol(study.Seeds, study.Seeds.Seeds[0]);
        Assert.Equal([1000, 1001, 1002], study.Seeds.Seeds);
        Assert.Equal(study.Seeds.Count * protocol.Grid.Count, study.Rows.Count);
        Assert.Equal(protocol.Grid.Count, study.Summary.Rows.Count);
        Assert.All(study.Rows, r => Assert.InRange(r.Accuracy, 0.0, 1.0));
        Assert.All(study.Rows, r => Assert.True(r.ClusteringLoss >= 0));
        // Only the models with rounds report what the rounds trained on; pseudo-labelling always includes the 8 labels.
        Assert.All(study.Rows, r => Assert.Equal(r.Model is HalfMoonsModel.SupervisedOnly or HalfMoonsModel.SupervisedJitter, double.IsNaN(r.RoundFraction)));
        Assert.All(study.Rows.Where(r => r.Model == HalfMoonsModel.PseudoLabel), r => Assert.InRange(r.RoundFraction, 8.0 / SsldecHalfMoons.Points, 1.0));
    }

    [Fact]
    public void TheClaimsPairEachSeedsModelsAndTheirDifferencesAreTheRowsDifferences()
    {
        var study = Short.Value;
        var h = study.Headline;
        Assert.Equal(5, study.Claims.Results.Count);
        Assert.All(study.Claims.Results, c => Assert.Equal(study.Seeds.Count, c.Count));
        Assert.Equal(h.AccuracySsldec - h.AccuracySupervisedJitter, study.Claims.Results[0].Difference, 12);
        Assert.Equal(h.AccuracySsldecWellSpread - h.AccuracySupervisedJitterWellSpread, study.Claims.Results[1].Difference, 12);
        Assert.Equal(h.AccuracySsldec - h.AccuracySupervised, study.Claims.Results[2].Difference, 12);
        Assert.Equal(h.AccuracySsldec - h.AccuracyPseudoLabel, study.Claims.Results[3].Difference, 12);
        Assert.All(study.Claims.Results, c => Assert.True(c.Verdict == Verdict.Inconclusive || c.Interval[0] * c.Interval[1] > 0));
        var ssldec = study.Accuracies(HalfMoonsModel.Ssldec);
        Assert.InRange(h.AccuracySsldecMedian, ssldec.Min(), ssldec.Max());
        var worst = study.Rows.Where(r => r.Model == HalfMoonsModel.Ssldec && r.Placement == LabelPlacement.Random).MinBy(r => r.Accuracy)!;
        Assert.Equal(study.Rows.Where(r => r.Model == HalfMoonsModel.Ssldec && r.Placement == LabelPlacement.Random).Max(r => r.ClusteringLoss) == worst.ClusteringLoss,
            h.WorstRunHasHighestLoss);
    }

    [Fact]
    public void TheExampleRunsAreTheModelsTheRowsCameFromAndTheFilesHoldEveryRow()
    {
        var study = Short.Value;
        foreach (var model in Enum.GetValues<HalfMoonsModel>())
            Assert.Equal(study.Rows.Single(r => r.Seed == study.Seeds.Seeds[0] && r.Placement == LabelPlacement.Random && r.Model == model), study.Example(model).Row());
        var folder = Directory.CreateTempSubdirectory("medssl-study-").FullName;
        study.Save(new RunContext(folder, "04"));
        var csv = File.ReadAllLines(Path.Combine(folder, "04.runs.csv"));
        Assert.Equal("Seed,Placement,Model,Accuracy,ClusteringLoss,RoundFraction", csv[0]);
        Assert.Equal(study.Rows.Count + 1, csv.Count(l => l.Length > 0));
        Assert.Contains("\"claims\"", File.ReadAllText(Path.Combine(folder, "04.results.json")));
    }

    [Fact]
    public void TheModelsOfASeedDifferOnlyWhereTheProtocolSaysSo()
    {
        // The jitter is a fresh object per call: compare everything else, and the jitter's σ.
        var preset = SsldecOptions.HalfMoons(5) with { Augment = null };
        SsldecOptions Of(HalfMoonsModel model) => SsldecHalfMoons.Options(5, model) with { Augment = null };
        Assert.Equal(preset with { AugmentLabelled = true }, Of(HalfMoonsModel.SupervisedJitter));
        Assert.Equal(preset with { Targets = RoundTargets.PseudoLabels }, Of(HalfMoonsModel.PseudoLabel));
        Assert.Equal(preset, Of(HalfMoonsModel.Ssldec));
        Assert.Equal(preset, Of(HalfMoonsModel.SupervisedOnly));
        Assert.All(Enum.GetValues<HalfMoonsModel>(), m => Assert.Equal(0.2, Assert.IsType<MedSsl.Data.Augmentation.GaussianJitter>(SsldecHalfMoons.Options(5, m).Augment).Sigma));
    }

    [Fact]
    public void AnExampleSeedOutsideThePlanIsANamedError() =>
        Assert.Contains("Seed 3 is not one of this profile's seeds (1000–1002)",
            Assert.Throws<ArgumentException>(() => SsldecHalfMoons.RunStudy(RunProfile.Quick, exampleSeed: 3)).Message);
}

using MedSsl.Data;
using MedSsl.Data.Synthetic;
using MedSsl.Experiments;
using MedSsl.Models;
using MedSsl.Training;

namespace MedSsl.Tests.Experiments;

/// <summary>Notebook 02's protocol without training: its grid, its claims on fabricated rows, the labelled subsets, and
/// the named errors of its parameters (Backbone, Seed).</summary>
public sealed class FixMatchStudyTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("medssl-fixmatch-").FullName;
    private static readonly ImageDataset Data = SyntheticUltrasound.Make(120, 0, 16, [0.2, 0.5, 0.1, 0.2]);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static FixMatchProtocol Protocol(ResNet backbone) =>
        new(FixMatchStudySettings.For(RunProfile.Quick), Data, backbone, SeedPlan.FirstFresh);

    [Fact]
    public void TheGridTrainsEveryModelAtEveryFractionAndTheLabelledOnlyAblationAtTheSmallest()
    {
        using var backbone = PicaStudy.NewBackbone(RunProfile.Quick, 0);
        var protocol = Protocol(backbone);
        var fractions = FixMatchStudySettings.For(RunProfile.Quick).LabelFractions;
        Assert.Equal(fractions.Length * 5 + 1, protocol.Grid.Count);
        Assert.Equal(protocol.Grid.Count, protocol.Grid.Distinct().Count());
        Assert.Equal([fractions.Min()], protocol.Grid.Where(s => s.Model == StudyModel.TwoHeadLabelledOnly).Select(s => s.LabelFraction));
        Assert.DoesNotContain(protocol.Grid, s => s.Model == StudyModel.OneHead && s.Init == Initialisation.Random);
        Assert.Contains(protocol.ExampleSetting, protocol.Grid);
        Assert.True(protocol.IsExample(SeedPlan.FirstFresh, protocol.ExampleSetting));
        Assert.False(protocol.IsExample(SeedPlan.FirstFresh + 1, protocol.ExampleSetting));
    }

    [Fact]
    public void TheClaimsPairBySeedAtTheSmallestFractionOnly()
    {
        using var backbone = PicaStudy.NewBackbone(RunProfile.Quick, 0);
        var protocol = Protocol(backbone);
        FixMatchRow Row(StudyModel model, Initialisation init, double fraction, int seed, double f1, double wrong = 0.1) =>
            new(FixMatchRuns.HeadName(model), FixMatchRuns.InitName(init), fraction, seed, f1, f1, 10, null, 0.5, 0.5 - wrong, wrong, 0);
        var rows = new List<FixMatchRow>();
        foreach (var seed in new[] { 1000, 1001, 1002, 1003 })
        {
            var noise = 0.01 * (seed % 3);
            // At 10 %: Two-Head beats One-Head by 0.1 (± noise) and gives fewer wrong pseudo-labels; at 100 % it loses by
            // 0.3, which the claim must not see.
            rows.Add(Row(StudyModel.TwoHead, Initialisation.DeepClustering, 0.1, seed, 0.7 + noise, wrong: 0.05));
            rows.Add(Row(StudyModel.OneHead, Initialisation.DeepClustering, 0.1, seed, 0.6, wrong: 0.2));
            rows.Add(Row(StudyModel.TwoHead, Initialisation.DeepClustering, 1.0, seed, 0.5));
            rows.Add(Row(StudyModel.OneHead, Initialisation.DeepClustering, 1.0, seed, 0.8));
        }
        var claims = ClaimTable.Evaluate(protocol.Claims, rows).Results;
        var heads = claims.Single(c => c.Text == "Two-Head ≥ One-Head");
        Assert.Equal(4, heads.Count);
        Assert.Equal(0.1 + 0.01 * (1 + 2 + 0 + 1) / 4.0, heads.Difference, 12);
        Assert.Equal(Verdict.Supported, heads.Verdict);
        var wrong = claims.Single(c => c.Measure == "wrong pseudo-labels per unlabelled image");
        Assert.Equal(-0.15, wrong.Difference, 12);
        Assert.Equal(Verdict.Inconclusive, claims.Single(c => c.Text.StartsWith("Deep-clustering initialisation ≥ random (Two-Head)")).Verdict);
        Assert.Equal(0, claims.Single(c => c.Text.StartsWith("Deep-clustering initialisation ≥ random (Two-Head)")).Count);
    }

    [Fact]
    public void LabelledSubsetsAreWholeExamsNestedOverFractions()
    {
        var labelled = Data.Where(DataSplit.Labelled);
        var small = FixMatchRuns.LabelledSubset(labelled, 0.3, 5);
        var large = FixMatchRuns.LabelledSubset(labelled, 0.7, 5);
        Assert.Subset(large.ToHashSet(), small.ToHashSet());
        Assert.True(small.Length >= 0.3 * labelled.Count - 1e-9);
        foreach (var subset in new[] { small, large })
        {
            var exams = subset.Select(labelled.ExamId).ToHashSet();
            Assert.Equal(Enumerable.Range(0, labelled.Count).Count(i => exams.Contains(labelled.ExamId(i))), subset.Length);
        }
        Assert.Equal(labelled.Count, FixMatchRuns.LabelledSubset(labelled, 1.0, 5).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => FixMatchRuns.LabelledSubset(labelled, 0, 5));
    }

    [Fact]
    public void AMissingOrMisshapenBackboneFileIsANamedError()
    {
        var missing = Assert.Throws<ArgumentException>(() => FixMatchStudy.DeepClusteringBackbone(Path.Combine(dir, "none.safetensors"), Data, RunProfile.Quick, 0));
        Assert.StartsWith("Backbone = ", missing.Message);
        var other = Path.Combine(dir, "other.safetensors");
        using (var wrong = new ResNet(1, [4, 8])) wrong.SaveSafetensors(other);
        var misshapen = Assert.Throws<ArgumentException>(() => FixMatchStudy.DeepClusteringBackbone(other, Data, RunProfile.Quick, 0));
        Assert.StartsWith("Backbone = ", misshapen.Message);
        var good = Path.Combine(dir, "good.safetensors");
        using (var saved = PicaStudy.NewBackbone(RunProfile.Quick, 3)) saved.SaveSafetensors(good);
        var (loaded, source) = FixMatchStudy.DeepClusteringBackbone(good, Data, RunProfile.Quick, 0);
        using (loaded) Assert.Contains(good, source);
    }

    [Fact]
    public void AnEmptyBackbonePretrainsPicaWithLsdAndHandsOverItsBackbone()
    {
        using var fresh = PicaStudy.NewBackbone(RunProfile.Quick, seed: 4);
        var (trained, source) = FixMatchStudy.DeepClusteringBackbone("", Data, RunProfile.Quick, seed: 4);
        using (trained)
        {
            Assert.StartsWith($"PICA + L_SD pre-trained here on the {Data.IndicesOf(DataSplit.Unlabelled).Length} unlabelled images (quick profile, seed 4, ", source);
            Assert.Equal(fresh.FeatureDim, trained.FeatureDim);
            var before = fresh.parameters().Select(p => p.detach().clone()).ToList();
            var after = trained.parameters().ToList();
            Assert.Equal(before.Count, after.Count);
            Assert.Contains(before.Zip(after), pair => !pair.First.allclose(pair.Second));
            using var images = Data.Batch([0, 1]).Images;
            Assert.Equal([2L, trained.FeatureDim], trained.call(images).shape);
        }
    }

    [Fact]
    public void AnExampleSeedOutsideThePlanIsANamedErrorBeforeAnyTraining()
    {
        var error = Assert.Throws<ArgumentException>(() => FixMatchStudy.RunStudy(RunProfile.Quick, "", exampleSeed: 0));
        Assert.Contains("Seed 0 is not one of this profile's seeds", error.Message);
    }
}

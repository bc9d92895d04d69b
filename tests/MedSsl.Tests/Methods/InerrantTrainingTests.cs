using MedSsl.Data;
using MedSsl.Data.Loaders;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
using MedSsl.Tests.Runner;
using MedSsl.Tests.Support;
using MedSsl.Training;

namespace MedSsl.Tests.Methods;

/// <summary>The one-call INERRANT API on the CT sample's NIfTI files (a few steps): it trains what the method's own
/// calls train, its report against the method's per-organ Dice, and the named errors.</summary>
public class InerrantTrainingTests
{
    private static readonly string Ct = Path.Combine(Medssl.RepoRoot, "data-samples", "ct");
    private static readonly VolumeDataset Partial = VolumeFolder.Load(Path.Combine(Ct, "volumes_alpha30.csv"));
    private static readonly VolumeDataset Complete = VolumeFolder.Load(Path.Combine(Ct, "volumes.csv"));

    private static InerrantTrainingOptions Tiny(InerrantVariant variant) => new()
    {
        Variant = variant, Seed = 3,
        Method = new InerrantOptions { Widths = [4, 8], BatchSize = 4, SegmentationSteps = 3, RelabelingSteps = 2, FineTuneSteps = 2, ConfidenceSteps = 2 },
    };

    private static TrainedInerrant Train(VolumeDataset data, InerrantTrainingOptions options)
    {
        using var trainer = new Trainer { Progress = new SilentProgress() };
        return InerrantTraining.Train(data, options, trainer);
    }

    [Fact]
    public void The_api_trains_what_the_methods_own_calls_train()
    {
        using var trained = Train(Partial, Tiny(InerrantVariant.LearnedConfidence));
        Assert.Equal([1, 2], trained.Rounds.Select(r => r.Step));
        Assert.Equal(3 + 2 * (2 + 2), trained.History.Count);   // the initial steps, then per relabeling step confidence + fine-tuning

        using var direct = Inerrant.Create(Partial.OrganNames.Count, Tiny(InerrantVariant.LearnedConfidence).Method with { Seed = 3 });
        using var trainer = new Trainer { Progress = new SilentProgress() };
        using var set = InerrantTrainingSet.From(Partial, ambiguityMaps: true);
        direct.FitInitial(set, trainer);
        var rounds = direct.Relabel(set, trainer, ConfidenceMeasure.Learned);
        Assert.Equal(trainer.History.SelectMany(s => s.Losses), trained.History.SelectMany(s => s.Losses));
        Assert.Equal(rounds.Select(r => (r.Relabeled, r.Precision, r.Recall)), trained.Rounds.Select(r => (r.Relabeled, r.Precision, r.Recall)));
    }

    [Fact]
    public void The_report_is_the_methods_per_organ_dice_on_complete_masks()
    {
        using var trained = Train(Partial, Tiny(InerrantVariant.AmbiguityMaps));
        Assert.Empty(trained.Rounds);
        var report = trained.Report(Complete);
        var dice = trained.Model.OrganDice(Complete);
        Assert.Equal(["background", .. Complete.OrganNames], report.Classes.Select(c => c.Name));
        Assert.All(dice.Zip(report.Classes.Skip(1)), p => Assert.Equal(p.First, p.Second.Dice, 12));
        Assert.Equal(dice.Average(), report.MeanDice, 12);
        Assert.Equal(Complete[0].Mask.Length, trained.Predict(Complete, 0).Length);
    }

    [Fact]
    public void The_naive_baseline_reads_missing_organs_as_background_and_so_trains_differently()
    {
        using var naive = Train(Partial, Tiny(InerrantVariant.Naive));
        using var inerrant0 = Train(Partial, Tiny(InerrantVariant.AmbiguityMaps));
        Assert.Empty(naive.Rounds);
        Assert.Equal(3, naive.History.Count);
        Assert.NotEqual(inerrant0.History[0].Losses["bce"], naive.History[0].Losses["bce"]);
    }

    [Fact]
    public void Unsuitable_input_is_a_named_error()
    {
        using var trained = Train(Partial, Tiny(InerrantVariant.Naive));
        var e = Assert.Throws<ArgumentException>(() => trained.Report(Partial));
        var (v, k) = Enumerable.Range(0, Partial.Count).SelectMany(v => Enumerable.Range(0, Partial.OrganNames.Count).Select(k => (v, k))).First(p => !Partial.IsAnnotated(p.v, p.k));
        Assert.StartsWith($"volume {Partial[v].Id} does not annotate {Partial.OrganNames[k]}: score on completely annotated volumes", e.Message);

        var options = Tiny(InerrantVariant.Mcp);
        e = Assert.Throws<ArgumentException>(() => Train(Partial, options with { Method = options.Method with { RelabelingSteps = 0 } }));
        Assert.StartsWith("Mcp relabels: Method.RelabelingSteps must be at least 1 (it is 0)", e.Message);
    }
}

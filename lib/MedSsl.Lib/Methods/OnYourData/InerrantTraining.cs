using MedSsl.Data;
using MedSsl.Training;

namespace MedSsl.Methods.OnYourData;

/// <summary>What becomes of the organs a volume does not annotate (Petit et al. 2021, §3, Tables 4–5).</summary>
public enum InerrantVariant
{
    /// <summary>Read as background: the naive baseline.</summary>
    Naive,
    /// <summary>Left out of the loss by the ambiguity maps (eq. 2), never relabeled: INERRANT⁰.</summary>
    AmbiguityMaps,
    /// <summary>INERRANT⁰, then T relabeling steps ranked by the maximum class probability (SMILE's confidence).</summary>
    Mcp,
    /// <summary>INERRANT⁰, then T relabeling steps ranked by the learned confidence network (eq. 3; §3.2): INERRANT.</summary>
    LearnedConfidence,
}

/// <summary>Everything one INERRANT training needs besides the volumes. The defaults are notebook 03's quick profile: the
/// paper's schedule shape (Adam decaying exponentially, §4.1.3) from 3e-3 to 3e-4 (the paper's 1e-4 leaves most organs
/// unlearnt in a few hundred CPU steps; docs/methods/inerrant.md), 200 initial steps, then T = 3 relabeling steps of 30
/// confidence and 25 fine-tuning steps (fine-tuning at 1e-3), on a U-Net of widths 8-16-32-64.</summary>
public sealed record InerrantTrainingOptions
{
    public InerrantVariant Variant { get; init; } = InerrantVariant.LearnedConfidence;
    /// <summary>The network, steps, rates and relabeling schedule; its Seed is set from <see cref="Seed"/>.</summary>
    public InerrantOptions Method { get; init; } = new()
    {
        LearningRate = 3e-3, FinalLearningRate = 3e-4, FineTuneLearningRate = 1e-3, SegmentationSteps = 200, FineTuneSteps = 25, ConfidenceSteps = 30,
    };
    /// <summary>Draws the initial weights and the batch order.</summary>
    public int Seed { get; init; }
}

/// <summary>A trained INERRANT model on a user's volumes (<see cref="InerrantTraining.Train"/>): label maps per volume,
/// a report on completely annotated volumes, what each relabeling step added, and the training history.</summary>
public sealed class TrainedInerrant : IDisposable
{
    internal TrainedInerrant(InerrantVariant variant, Inerrant model, IReadOnlyList<string> organNames, IReadOnlyList<RelabelingRound> rounds,
        IReadOnlyList<StepRecord> history) =>
        (Variant, Model, OrganNames, Rounds, History) = (variant, model, organNames, rounds, history);

    public InerrantVariant Variant { get; }
    public Inerrant Model { get; }
    public IReadOnlyList<string> OrganNames { get; }
    /// <summary>Per relabeling step: γ_t, the pixels relabeled so far and their precision and recall against the complete
    /// masks (which the training never reads), the confidence's failure prediction on the candidates. Empty for the naive
    /// baseline and INERRANT⁰.</summary>
    public IReadOnlyList<RelabelingRound> Rounds { get; }
    /// <summary>The loss terms of every step of every phase.</summary>
    public IReadOnlyList<StepRecord> History { get; }

    /// <summary>The predicted label map of volume <paramref name="volume"/> of <paramref name="data"/> (slice-major, as
    /// <see cref="CtVolume.Mask"/>; 0 background, k + 1 organ k).</summary>
    public byte[] Predict(VolumeDataset data, int volume) => Model.PredictVolume(data, volume);

    /// <summary>Per organ the mean over the volumes of its 3-D Dice (1 on a volume where the organ is neither true nor
    /// predicted), against complete masks: every organ of every volume of <paramref name="data"/> must be annotated.</summary>
    public SegmentationReport Report(VolumeDataset data, string name = "test")
    {
        if (data.OrganNames.Count != OrganNames.Count)
            throw new ArgumentException($"the volumes have {data.OrganNames.Count} organs, the model was trained on {OrganNames.Count}", nameof(data));
        for (var v = 0; v < data.Count; v++)
            for (var k = 0; k < data.OrganNames.Count; k++)
                if (!data.IsAnnotated(v, k))
                    throw new ArgumentException($"volume {data[v].Id} does not annotate {data.OrganNames[k]}: score on completely annotated volumes " +
                        "(a manifest whose organ columns are all 1, e.g. volumes.csv)", nameof(data));
        return SegmentationReport.Compute(name, [.. Enumerable.Range(0, data.Count).Select(v => Predict(data, v))],
            [.. Enumerable.Range(0, data.Count).Select(v => data[v].Mask)], ["background", .. OrganNames]) with { Items = "volumes" };
    }

    /// <summary>The loss term <paramref name="term"/> (<c>bce</c> of the segmentation phases, <c>confidence_mse</c>) per step, averaged
    /// over windows of <paramref name="window"/> steps.</summary>
    public (double[] Steps, double[] Values) Curve(string term, int window = 10) => LossCurve.Windowed(History, term, window);

    public void Dispose() => Model.Dispose();
}

/// <summary>INERRANT (Petit et al. 2021) on a user's partially annotated volumes in one call
/// (<see cref="Data.Loaders.VolumeFolder.Load"/>: each manifest row says which organs its mask annotates; the others are
/// present but unlabelled). Every volume trains; score on other, completely annotated volumes with
/// <see cref="TrainedInerrant.Report"/>.</summary>
public static class InerrantTraining
{
    /// <summary>Trains <see cref="InerrantTrainingOptions.Variant"/>. Progress and cancellation come from
    /// <paramref name="trainer"/> (default: a progress line in the notebook).</summary>
    public static TrainedInerrant Train(VolumeDataset data, InerrantTrainingOptions? options = null, Trainer? trainer = null)
    {
        options ??= new InerrantTrainingOptions();
        if (data.Count == 0) throw new ArgumentException("INERRANT needs at least one volume", nameof(data));
        var method = options.Method with { Seed = options.Seed };
        var relabels = options.Variant is InerrantVariant.Mcp or InerrantVariant.LearnedConfidence;
        if (relabels && method.RelabelingSteps < 1)
            throw new ArgumentException($"{options.Variant} relabels: Method.RelabelingSteps must be at least 1 (it is {method.RelabelingSteps})", nameof(options));
        using var lease = new TrainerLease(trainer);
        var model = Inerrant.Create(data.OrganNames.Count, method);
        try
        {
            using var set = InerrantTrainingSet.From(data, ambiguityMaps: options.Variant != InerrantVariant.Naive);
            model.FitInitial(set, lease.Trainer, options.Variant == InerrantVariant.Naive ? "naive" : "INERRANT⁰");
            IReadOnlyList<RelabelingRound> rounds = relabels
                ? model.Relabel(set, lease.Trainer, options.Variant == InerrantVariant.Mcp ? ConfidenceMeasure.Mcp : ConfidenceMeasure.Learned)
                : [];
            return new TrainedInerrant(options.Variant, model, data.OrganNames, rounds, lease.Steps());
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}

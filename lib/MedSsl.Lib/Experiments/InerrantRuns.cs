using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Reports;
using MedSsl.Training;
using Plotly.NET;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Experiments;

/// <summary>The models compared at a proportion α (Petit et al. 2021, §4.2, Tables 4–7).</summary>
public static class InerrantMethods
{
    /// <summary>Missing organs taken as background (every label used).</summary>
    public const string Naive = "naive";
    /// <summary>Ambiguity maps, no relabeling.</summary>
    public const string Inerrant0 = "inerrant0";
    /// <summary>INERRANT⁰ trained on for the relabeling variants' T fine-tuning phases, without pseudo-labels: the control
    /// that trains as long as they do.</summary>
    public const string Inerrant0Long = "inerrant0_long";
    /// <summary>Every predicted pixel of a missing organ relabeled at once (Table 5's pseudo-label baseline, [2]).</summary>
    public const string OneShot = "pseudo_labels_once";
    /// <summary>T relabeling steps ranked by MCP (SMILE's confidence).</summary>
    public const string Mcp = "inerrant_mcp";
    /// <summary>T relabeling steps ranked by the learned confidence (INERRANT).</summary>
    public const string Learned = "inerrant_learned";

    public static readonly IReadOnlyList<string> All = [Naive, Inerrant0, Inerrant0Long, OneShot, Mcp, Learned];
}

/// <summary>One measured value of one run, in long form: the final Dice per organ (and its mean over organs, organ
/// <see cref="AllOrgans"/>), the test Dice after each relabeling step, relabeling precision/recall per step, the
/// failure-prediction scores of the confidence at step 1, the confidence network's loss at the start and end of each
/// confidence training. One CSV holds them all; claims select by method, measure, organ and step.</summary>
public sealed record InerrantRow(
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("alpha")] double Alpha,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("measure")] string Measure,
    [property: JsonPropertyName("organ")] string Organ,
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("value")] double Value) : ISeededRow
{
    public const string AllOrgans = "mean";

    /// <summary>Whether this row is <paramref name="measure"/> of <paramref name="method"/> (mean over organs, step 0
    /// unless given).</summary>
    public bool Is(string method, string measure, int step = 0, string organ = AllOrgans) =>
        Method == method && Measure == measure && Step == step && Organ == organ;
}

/// <summary>The measures of <see cref="InerrantRow"/>.</summary>
public static class InerrantMeasures
{
    /// <summary>Test Dice of the final model (per organ, and the mean over organs).</summary>
    public const string Dice = "dice";
    /// <summary>Test Dice (mean over organs) after fine-tuning step t (Table 7's final DSC per step).</summary>
    public const string DiceAfterStep = "dice_after_step";
    public const string Precision = "relabel_precision";
    public const string Recall = "relabel_recall";
    public const string Relabeled = "relabeled_pixels";
    /// <summary>Failure prediction of the ranking confidence on step 1's candidates (Table 6).</summary>
    public const string Auc = "failure_auc";
    public const string ApSuccess = "ap_success";
    public const string ApError = "ap_error";
    /// <summary>Mean confidence loss (eq. 3) over the first and the last tenth of a confidence training's steps.</summary>
    public const string ConfidenceLossStart = "confidence_loss_start";
    public const string ConfidenceLossEnd = "confidence_loss_end";
}

/// <summary>The data one seed draws: training volumes (partially annotated per α by <see cref="VolumeDataset.WithLabelledProportion"/>)
/// and completely annotated test volumes.</summary>
public sealed record InerrantSeedData(VolumeDataset Train, VolumeDataset Test);

/// <summary>One (seed, α) of the protocol: the trained models, the rows measured while training (per relabeling
/// step), the confidence network's loss curve and, for the example run, the slice of Figures 5 and 6.</summary>
public sealed class InerrantRun(int seed, double alpha, InerrantSeedData data) : IDisposable
{
    private readonly Dictionary<string, Inerrant> models = [];
    private readonly List<InerrantRow> rows = [];

    public int Seed { get; } = seed;
    public double Alpha { get; } = alpha;
    public InerrantSeedData Data { get; } = data;
    public IReadOnlyDictionary<string, Inerrant> Models => models;
    public IReadOnlyList<InerrantRow> TrainingRows => rows;
    /// <summary>The learned variant's confidence loss at every step, round after round.</summary>
    public List<(int Round, int Step, double Loss)> ConfidenceLosses { get; } = [];
    public InerrantExample? Example { get; set; }

    /// <summary>Trains a fresh model (the seed's initial weights) on <paramref name="partial"/>: INERRANT⁰ with the
    /// ambiguity maps, the naive baseline without.</summary>
    public Inerrant FitInitial(string method, VolumeDataset partial, bool ambiguityMaps, InerrantOptions options, Trainer trainer)
    {
        using var set = InerrantTrainingSet.From(partial, ambiguityMaps);
        var model = Inerrant.Create(partial.OrganNames.Count, options);
        models[method] = model;
        model.FitInitial(set, trainer, $"{method}");
        return model;
    }

    /// <summary>A copy of <paramref name="start"/> continued by <paramref name="continueWith"/> on the same partial
    /// labels (no pseudo-labels yet); the test Dice is recorded after each fine-tuning step.</summary>
    public void Continue(string method, Inerrant start, VolumeDataset partial,
        Func<Inerrant, InerrantTrainingSet, Action<int>, IReadOnlyList<RelabelingRound>> continueWith)
    {
        using var set = InerrantTrainingSet.From(partial, ambiguityMaps: true);
        var model = start.Copy();
        models[method] = model;
        var rounds = continueWith(model, set, step => Add(method, InerrantMeasures.DiceAfterStep, step, InerrantStudy.MeanDice(model, Data.Test)));
        foreach (var round in rounds)
        {
            Add(method, InerrantMeasures.Precision, round.Step, round.Precision);
            Add(method, InerrantMeasures.Recall, round.Step, round.Recall);
            Add(method, InerrantMeasures.Relabeled, round.Step, round.Relabeled);
            var ranking = method == InerrantMethods.Learned ? round.Learned : round.Mcp;
            if (ranking is not null)
            {
                Add(method, InerrantMeasures.Auc, round.Step, ranking.Auc);
                Add(method, InerrantMeasures.ApSuccess, round.Step, ranking.ApSuccess);
                Add(method, InerrantMeasures.ApError, round.Step, ranking.ApError);
            }
            if (round.ConfidenceLosses.Count == 0) continue;
            var tenth = Math.Max(1, round.ConfidenceLosses.Count / 10);
            Add(method, InerrantMeasures.ConfidenceLossStart, round.Step, round.ConfidenceLosses.Take(tenth).Average());
            Add(method, InerrantMeasures.ConfidenceLossEnd, round.Step, round.ConfidenceLosses.TakeLast(tenth).Average());
            ConfidenceLosses.AddRange(round.ConfidenceLosses.Select((loss, i) => (round.Step, i + 1, loss)));
        }
    }

    private void Add(string method, string measure, int step, double value) =>
        rows.Add(new InerrantRow(Seed, Alpha, method, measure, InerrantRow.AllOrgans, step, value));

    /// <summary>The loss of the confidence network (eq. 3) at every step of the example run's confidence trainings.</summary>
    public GenericChart ConfidenceLossFigure() => ConfidenceLosses.Count == 0
        ? throw new InvalidOperationException("this run trained no confidence network")
        : Charts.Line([.. Enumerable.Range(1, ConfidenceLosses.Count).Select(i => (double)i)], [.. ConfidenceLosses.Select(l => l.Loss)],
            "L_conf", $"Confidence loss (eq. 3), {ConfidenceLosses.Max(l => l.Round)} trainings of {ConfidenceLosses.Count(l => l.Round == 1)} steps each",
            "step (all relabeling rounds)", "mean squared error to TCP");

    public void Dispose()
    {
        foreach (var model in models.Values) model.Dispose();
    }
}

/// <summary>Dice on whole volumes and the slice of Figures 5 and 6.</summary>
public static partial class InerrantStudy
{
    /// <summary>Dice per organ on each test volume (3-D, the class map of §3.1.1), averaged over the test volumes.</summary>
    public static double[] OrganDice(Inerrant model, VolumeDataset test)
    {
        var organs = test.OrganNames.Count;
        var sums = new double[organs];
        for (var v = 0; v < test.Count; v++)
        {
            var predicted = PredictVolume(model, test, v);
            for (var k = 0; k < organs; k++) sums[k] += Segmentation.Dice(predicted, test[v].Mask, (byte)(k + 1));
        }
        return [.. sums.Select(s => s / test.Count)];
    }

    public static double MeanDice(Inerrant model, VolumeDataset test) => OrganDice(model, test).Average();

    /// <summary>The predicted label map of a whole volume, slice-major like <see cref="CtVolume.Mask"/>.</summary>
    public static byte[] PredictVolume(Inerrant model, VolumeDataset data, int volume)
    {
        using var scope = torch.NewDisposeScope();
        var (images, _, _) = data.Slices([.. Enumerable.Range(0, data[volume].Depth).Select(s => (volume, s))]);
        using var classes = Inerrant.ClassMap(model.Predict(images));
        return [.. classes.data<long>().ToArray().Select(c => (byte)c)];
    }
}

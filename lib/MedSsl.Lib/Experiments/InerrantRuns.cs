using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Methods;
using MedSsl.Reports;
using MedSsl.Training;
using TorchSharp;
using static MedSsl.Experiments.InerrantMeasures;

namespace MedSsl.Experiments;

/// <summary>The models compared at a proportion α (Petit et al. 2021, §4.2–4.3, Tables 4–7).</summary>
public static class InerrantMethods
{
    /// <summary>Missing organs taken as background (every label used).</summary>
    public const string Naive = "naive";
    /// <summary>Ambiguity maps, no relabeling.</summary>
    public const string Inerrant0 = "inerrant0";
    /// <summary>INERRANT⁰ trained on for the relabeling variants' T fine-tuning phases without pseudo-labels.</summary>
    public const string Inerrant0Long = "inerrant0_long";
    /// <summary>Every predicted pixel of a missing organ relabeled at once (Table 5's pseudo-label baseline, [2]).</summary>
    public const string OneShot = "pseudo_labels_once";
    /// <summary>T relabeling steps ranked by MCP (SMILE's confidence).</summary>
    public const string Mcp = "inerrant_mcp";
    /// <summary>T relabeling steps ranked by the learned confidence, its U-Net duplicate fine-tuned (INERRANT, §4.3.1).</summary>
    public const string Learned = "inerrant_learned";
    /// <summary>The same with the duplicate frozen (ConfidNet's transfer configuration): only the head learns.</summary>
    public const string LearnedFrozen = "inerrant_learned_frozen";

    public static readonly IReadOnlyList<string> All = [Naive, Inerrant0, Inerrant0Long, OneShot, Mcp, Learned, LearnedFrozen];
}

/// <summary>One measured value of one run, in long form (one CSV holds them all; claims select by method, measure,
/// organ and step).</summary>
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

    /// <summary>Whether this row is <paramref name="measure"/> of <paramref name="method"/> at <paramref name="alpha"/>
    /// (mean over organs, step 0 unless given).</summary>
    public bool Is(double alpha, string method, string measure, int step = 0) =>
        Alpha == alpha && Method == method && Measure == measure && Step == step && Organ == AllOrgans;
}

/// <summary>The measures of <see cref="InerrantRow"/>; "step" is the relabeling step t unless said otherwise.</summary>
public static class InerrantMeasures
{
    /// <summary>Test Dice of the final model (step 0; per organ, and the mean over organs).</summary>
    public const string Dice = "dice";
    /// <summary>Test Dice after each fine-tuning step (Table 7).</summary>
    public const string DiceAfterStep = "dice_after_step";
    public const string Precision = "relabel_precision";
    public const string Recall = "relabel_recall";
    public const string Relabeled = "relabeled_pixels";
    /// <summary>The candidates the failure-prediction scores rank (pixels predicted as a missing organ, not yet relabeled).</summary>
    public const string Candidates = "candidates";
    /// <summary>Failure prediction of the ranking confidence on the step's candidates (Table 6).</summary>
    public const string Auc = "failure_auc";
    public const string ApSuccess = "ap_success";
    public const string ApError = "ap_error";
    /// <summary>Failure prediction on every pixel the step-1 model predicts as an organ on the test volumes (ConfidNet's
    /// protocol), and the number of those pixels.</summary>
    public const string TestAuc = "test_failure_auc";
    public const string TestApError = "test_ap_error";
    public const string TestPredictions = "test_predictions";
    /// <summary>The confidence loss (eq. 3) at every step of the T confidence trainings ("step" counts them all, 1 …
    /// T × steps), and its mean over the first and the last tenth of each training (step t).</summary>
    public const string ConfidenceLoss = "confidence_loss";
    public const string ConfidenceLossStart = "confidence_loss_start";
    public const string ConfidenceLossEnd = "confidence_loss_end";
}

/// <summary>One (seed, α) of the protocol: the trained models, the rows measured while training and, for the example
/// run, the slice of Figures 5 and 6.</summary>
/// <param name="partial">the seed's training volumes, partially annotated at α</param>
/// <param name="test">the seed's completely annotated test volumes</param>
public sealed class InerrantRun(int seed, double alpha, VolumeDataset partial, VolumeDataset test) : IDisposable
{
    private readonly Dictionary<string, Inerrant> models = [];
    private readonly List<InerrantRow> rows = [];

    public IReadOnlyDictionary<string, Inerrant> Models => models;
    public IReadOnlyList<InerrantRow> TrainingRows => rows;
    public InerrantExample? Example { get; private set; }

    /// <summary>Trains a fresh model (the seed's initial weights) on the partial labels: INERRANT⁰ with the ambiguity maps,
    /// the naive baseline without.</summary>
    public Inerrant FitInitial(string method, bool ambiguityMaps, InerrantOptions options, Trainer trainer)
    {
        using var set = InerrantTrainingSet.From(partial, ambiguityMaps);
        var model = Inerrant.Create(partial.OrganNames.Count, options);
        models[method] = model;
        model.FitInitial(set, trainer, method);
        return model;
    }

    /// <summary>A copy of <paramref name="start"/> (with <paramref name="options"/> where given) continued by
    /// <paramref name="continueWith"/> on the same partial labels; the test Dice is recorded after each fine-tuning step,
    /// then what each relabeling round measured.</summary>
    public void Continue(string method, Inerrant start, Func<Inerrant, InerrantTrainingSet, Action<int>, IReadOnlyList<RelabelingRound>> continueWith,
        InerrantOptions? options = null)
    {
        using var set = InerrantTrainingSet.From(partial, ambiguityMaps: true);
        var model = start.Copy(options);
        models[method] = model;
        var rounds = continueWith(model, set, step => Add(method, step, (DiceAfterStep, model.OrganDice(test).Average())));
        var lossStep = 0;   // the confidence loss's steps are numbered across the T trainings
        foreach (var round in rounds)
        {
            Add(method, round.Step, (Precision, round.Precision), (Recall, round.Recall), (Relabeled, round.Relabeled));
            if (round.Candidates > 0) Add(method, round.Step, (Candidates, round.Candidates));
            // The ranking confidence's scores: the learned one's where a network ranked (they exist exactly when MCP's do), else MCP's.
            if ((round.Learned ?? round.Mcp) is { } ranking)
                Add(method, round.Step, (Auc, ranking.Auc), (ApSuccess, ranking.ApSuccess), (ApError, ranking.ApError));
            var losses = round.ConfidenceLosses;
            if (losses.Count == 0) continue;
            var tenth = Math.Max(1, losses.Count / 10);
            Add(method, round.Step, (ConfidenceLossStart, losses.Take(tenth).Average()), (ConfidenceLossEnd, losses.TakeLast(tenth).Average()));
            foreach (var loss in losses) Add(method, ++lossStep, (ConfidenceLoss, loss));
        }
    }

    /// <summary>Algorithm 2 from a copy of <paramref name="start"/>, ranked by <paramref name="measure"/>. At step 1 (the
    /// model is still INERRANT⁰'s copy, its confidence network just trained) failure prediction is also scored on the
    /// test volumes' predictions; the <paramref name="example"/> run captures the slice of Figures 5 and 6.</summary>
    public void Relabel(string method, Inerrant start, ConfidenceMeasure measure, Trainer trainer, InerrantOptions? options = null, bool example = false) =>
        Continue(method, start, (model, set, afterFineTune) =>
        {
            var capture = example ? InerrantFigures.ExampleCapture(model, set, alpha, e => Example = e) : null;
            return model.Relabel(set, trainer, measure, (step, current) =>
            {
                if (step == 1) ScoreOnTest(method, model, measure);
                capture?.Invoke(step, current);
            }, afterFineTune);
        }, options);

    private void ScoreOnTest(string method, Inerrant model, ConfidenceMeasure measure)
    {
        using var scope = torch.NewDisposeScope();
        var (scores, predictions) = model.ScoreFailures(test.Slices(test.AllSlices()).Images, test.CompleteMasks(), measure);
        Add(method, 1, (TestPredictions, predictions));
        if (scores is not null) Add(method, 1, (TestAuc, scores.Auc), (TestApError, scores.ApError));
    }

    private void Add(string method, int step, params (string Measure, double Value)[] values)
    {
        foreach (var (measure, value) in values) rows.Add(new InerrantRow(seed, alpha, method, measure, InerrantRow.AllOrgans, step, value));
    }

    public void Dispose()
    {
        foreach (var model in models.Values) model.Dispose();
    }
}

using MedSsl.Experiments;
using MedSsl.Methods;
using Plotly.NET;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Reports;

/// <summary>Notebook 03's figures: Table 4's Dice, Figure 4's per-organ boxes, Table 6's failure prediction, Table 7's
/// Dice per step, the confidence loss per seed, and Figures 5 and 6 from the example run's slice.</summary>
public static class InerrantFigures
{
    /// <summary>Mean Dice over organs per method against α, mean over seeds with its 95 % interval (Table 4).</summary>
    public static GenericChart DiceFigure(this InerrantResult study) => Charts.MeanWithCi(study.MeanDice.Select(r => (r.Method, r.Alpha, r.Value)),
        "Mean Dice on the completely annotated test volumes", "proportion of annotated organs α", "mean Dice over organs");

    /// <summary>Dice of every organ over seeds at the example's α for naive, INERRANT⁰ and INERRANT (Figure 4's per-patient boxes).</summary>
    public static GenericChart PerOrganFigure(this InerrantResult study) => Charts.BoxWithCi(study.Rows
            .Where(r => r.Measure == InerrantMeasures.Dice && r.Organ != InerrantRow.AllOrgans && r.Alpha == study.ExampleAlpha
                && r.Method is InerrantMethods.Naive or InerrantMethods.Inerrant0 or InerrantMethods.Learned)
            .OrderBy(r => r.Organ, StringComparer.Ordinal).ThenBy(r => InerrantMethods.All.ToList().IndexOf(r.Method))
            .Select(r => ($"{r.Organ} · {r.Method}", r.Value)),
        $"Dice per organ over seeds, α = {study.ExampleAlpha:P0}", "Dice (test)");

    /// <summary>Failure-prediction AUC of MCP and of the fine-tuned and frozen learned confidence, on step 1's candidates
    /// (Table 6) and on the test predictions, every seed a point.</summary>
    public static GenericChart FailureFigure(this InerrantResult study) => Charts.BoxWithCi(study.Rows
            .Where(r => r.Step == 1 && r.Measure is InerrantMeasures.Auc or InerrantMeasures.TestAuc
                && r.Method is InerrantMethods.Mcp or InerrantMethods.Learned or InerrantMethods.LearnedFrozen)
            .OrderBy(r => r.Measure, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal)
            .Select(r => ($"{r.Method}, {(r.Measure == InerrantMeasures.Auc ? "step-1 candidates" : "test predictions")}, α {r.Alpha:P0}", r.Value)),
        "Failure prediction of the step-1 confidences (Table 6)", "AUC (correct vs wrong predictions)");

    /// <summary>Test Dice after each relabeling step (step 0: INERRANT⁰), mean over seeds with its interval (Table 7).</summary>
    public static GenericChart StepFigure(this InerrantResult study)
    {
        var steps = study.Rows.Where(r => r.Alpha == study.ExampleAlpha && r.Measure == InerrantMeasures.DiceAfterStep).ToList();
        var start = study.MeanDice.Where(r => r.Alpha == study.ExampleAlpha && r.Method == InerrantMethods.Inerrant0).ToList();
        return Charts.MeanWithCi(steps.Select(r => (r.Method, (double)r.Step, r.Value))
                .Concat(steps.Select(s => s.Method).Distinct().SelectMany(m => start.Select(r => (m, 0.0, r.Value)))),
            $"Test Dice after each fine-tuning step, α = {study.ExampleAlpha:P0}", "step t (0: INERRANT⁰)", "mean Dice over organs");
    }

    /// <summary>The confidence loss (eq. 3) at every step of the T confidence trainings, one line per seed and
    /// configuration (duplicate fine-tuned or frozen), at the example's α.</summary>
    public static GenericChart ConfidenceLossFigure(this InerrantResult study)
    {
        var lines = study.Rows.Where(r => r.Alpha == study.ExampleAlpha && r.Measure == InerrantMeasures.ConfidenceLoss)
            .GroupBy(r => (r.Method, r.Seed)).OrderBy(g => g.Key.Method, StringComparer.Ordinal).ThenBy(g => g.Key.Seed)
            .Select(g => ($"{(g.Key.Method == InerrantMethods.Learned ? "fine-tuned" : "frozen")}, seed {g.Key.Seed}",
                (IReadOnlyList<double>)[.. g.Select(r => (double)r.Step)], (IReadOnlyList<double>)[.. g.Select(r => r.Value)])).ToList();
        return lines.Count == 0 ? throw new InvalidOperationException("no confidence network was trained at this α") : Charts.Lines(lines,
            $"Confidence loss (eq. 3), {study.Scale.Options.RelabelingSteps} trainings of {study.Scale.Options.ConfidenceSteps} steps, α = {study.ExampleAlpha:P0}",
            "step (all relabeling rounds)", "mean squared error to TCP");
    }

    /// <summary>The organ drawn in Figures 5 and 6 when it is missing in some training volume (the paper shows the stomach).</summary>
    public const string ExampleOrgan = "stomach";

    /// <summary>Captures the figures' slice: the first training volume missing <see cref="ExampleOrgan"/> (or any organ),
    /// at its slice with the most pixels of that organ.</summary>
    public static Action<int, InerrantTrainingSet> ExampleCapture(Inerrant model, InerrantTrainingSet set, double alpha, Action<InerrantExample> done)
    {
        var organNames = set.Data.OrganNames;
        var pairs = Enumerable.Range(0, set.Data.Count).SelectMany(v => set.MissingOrgans(v).Select(k => (Volume: v, Organ: k))).ToList();
        if (pairs.Count == 0) return (_, _) => { };
        var (volume, organ) = pairs.FirstOrDefault(p => organNames[p.Organ] == ExampleOrgan, pairs[0]);
        var (first, depth) = set.SlicesOf(volume);
        int h = (int)set.Images.size(2), w = (int)set.Images.size(3), plane = h * w;
        var slice = Enumerable.Range(0, depth).MaxBy(s => Enumerable.Range(0, plane).Count(p => set.Complete[(first + s) * plane + p] == organ + 1));
        InerrantExample? example = null;
        return (step, current) =>
        {
            using var scope = torch.NewDisposeScope();
            if (step == 1)
            {
                // The state step 1 ranked: INERRANT⁰'s prediction and both confidences on the chosen slice.
                var image = current.Images.narrow(0, first + slice, 1);
                var volumeImages = current.Images.narrow(0, first, depth);
                var probabilities = model.Predict(volumeImages);
                var classes = Inerrant.ClassMap(probabilities);
                var known = current.Known.narrow(0, first, depth);
                var mcp = Inerrant.MaximumClassProbability(probabilities);
                var learned = model.PredictConfidence(volumeImages);
                var byMcp = Inerrant.SelectPseudoLabels(classes, mcp, known, [organ], Inerrant.Gamma(1, model.Options.RelabelingSteps, model.Options.GammaMax));
                example = new InerrantExample
                {
                    Organ = organNames[organ], VolumeId = set.Data[volume].Id, Slice = slice, Alpha = alpha,
                    Image = Plane(image[0, 0], h, w, v => v),
                    Truth = Plane(torch.tensor(set.Complete.AsSpan((first + slice) * plane, plane).ToArray()).reshape(h, w).eq(organ + 1), h, w),
                    Predicted = Plane(classes[slice].eq(organ + 1), h, w),
                    Mcp = Plane(mcp[slice, organ], h, w, v => v),
                    Learned = Plane(learned[slice, organ], h, w, v => v),
                    SelectedMcp = Plane(byMcp[slice, organ], h, w),
                    SelectedLearned = Plane(current.Relabeled[first + slice, organ].gt(0), h, w),
                };
                done(example);
            }
            example?.Steps.Add(Plane(current.Relabeled[first + slice, organ].gt(0), h, w));
        };
    }

    private static float[,] Plane(Tensor map, int h, int w, Func<float, float> f)
    {
        var values = map.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var result = new float[h, w];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++) result[y, x] = f(values[y * w + x]);
        return result;
    }

    private static bool[,] Plane(Tensor mask, int h, int w)
    {
        var values = mask.to(ScalarType.Bool).contiguous().data<bool>().ToArray();
        var result = new bool[h, w];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++) result[y, x] = values[y * w + x];
        return result;
    }
}

/// <summary>One slice of the example run for Figures 5 and 6: a training volume whose organ was not annotated, the
/// slice where that organ is largest, INERRANT⁰'s prediction and both confidences on it at the first relabeling
/// step, and the organ's pseudo-labels after each step (learned confidence).</summary>
public sealed class InerrantExample
{
    public required string Organ { get; init; }
    public required string VolumeId { get; init; }
    public required int Slice { get; init; }
    public required double Alpha { get; init; }
    public required float[,] Image { get; init; }
    /// <summary>The organ's complete mask on the slice (never seen in training).</summary>
    public required bool[,] Truth { get; init; }
    /// <summary>Pixels INERRANT⁰ predicts as the organ (the relabeling candidates).</summary>
    public required bool[,] Predicted { get; init; }
    public required float[,] Mcp { get; init; }
    public required float[,] Learned { get; init; }
    /// <summary>Pixels step 1 relabels when ranked by MCP, and by the learned confidence.</summary>
    public required bool[,] SelectedMcp { get; init; }
    public required bool[,] SelectedLearned { get; init; }
    /// <summary>The organ's pseudo-labels after each step t = 1 … T (learned confidence).</summary>
    public List<bool[,]> Steps { get; } = [];

    /// <summary>Figure 5: the slice with the organ's true mask; MCP and the learned confidence drawn from 0.5 (black) to
    /// 1 (white) as in the paper; INERRANT⁰'s prediction and the pixels step 1 relabels with each confidence, true
    /// positives in blue (class 1) and false positives in red (class 2).</summary>
    public GenericChart ConfidenceFigure()
    {
        static float[,] Scale(float[,] c) => Map(c, v => Math.Clamp((v - 0.5f) * 2, 0, 1));
        return Charts.ImageGrid(
            [Image, Scale(Mcp), Scale(Learned), Image, Image, Image],
            [Classes(Truth, Truth), null, null, Classes(Predicted, Truth), Classes(SelectedMcp, Truth), Classes(SelectedLearned, Truth)],
            [$"{Organ} (truth, missing in {VolumeId})", "MCP, 0.5 → 1", "learned confidence, 0.5 → 1",
             "INERRANT⁰: TP blue, FP red", "relabeled by MCP", "relabeled by learned conf."], columns: 3);
    }

    /// <summary>Figure 6: the organ's pseudo-labels after each step (TP blue, FP red), beside its truth.</summary>
    public GenericChart RelabelingFigure() => Charts.ImageGrid(
        [Image, .. Steps.Select(_ => Image)],
        [Classes(Truth, Truth), .. Steps.Select(s => (float[,]?)Classes(s, Truth))],
        [$"{Organ} (truth)", .. Steps.Select((_, t) => $"after step {t + 1}")], columns: Steps.Count + 1);

    /// <summary>1 where selected and true (TP), 2 where selected and false (FP), 0 elsewhere.</summary>
    private static float[,] Classes(bool[,] selected, bool[,] truth)
    {
        var result = new float[selected.GetLength(0), selected.GetLength(1)];
        for (var y = 0; y < result.GetLength(0); y++)
            for (var x = 0; x < result.GetLength(1); x++) result[y, x] = !selected[y, x] ? 0 : truth[y, x] ? 1 : 2;
        return result;
    }

    private static float[,] Map(float[,] values, Func<float, float> f)
    {
        var result = new float[values.GetLength(0), values.GetLength(1)];
        for (var y = 0; y < result.GetLength(0); y++)
            for (var x = 0; x < result.GetLength(1); x++) result[y, x] = f(values[y, x]);
        return result;
    }
}

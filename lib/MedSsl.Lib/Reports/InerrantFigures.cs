using MedSsl.Methods;
using Plotly.NET;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Reports;

/// <summary>Figures 5 and 6 of Petit et al. (2021): the slice of the example run they are drawn from.</summary>
public static class InerrantFigures
{
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

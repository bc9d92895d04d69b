using System.Globalization;
using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Reports;
using Plotly.NET;
using MedSsl.Training;
using Microsoft.Data.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Experiments;

/// <summary>The four models compared at every proportion α (Petit et al. 2021, §4.2, Tables 2–4 and 6).</summary>
public static class InerrantMethods
{
    /// <summary>Missing organs taken as background (every label used).</summary>
    public const string Naive = "naive";
    /// <summary>Ambiguity maps, no relabeling.</summary>
    public const string Inerrant0 = "inerrant0";
    /// <summary>INERRANT⁰ then T relabeling steps ranked by MCP (SMILE's confidence).</summary>
    public const string Mcp = "inerrant_mcp";
    /// <summary>INERRANT⁰ then T relabeling steps ranked by the learned confidence (INERRANT).</summary>
    public const string Learned = "inerrant_learned";

    public static readonly IReadOnlyList<string> All = [Naive, Inerrant0, Mcp, Learned];
}

/// <summary>Dice of one organ on the completely annotated test volumes (mean over them) for one model.</summary>
public sealed record InerrantDiceRow(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("alpha")] double Alpha,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("organ")] string Organ,
    [property: JsonPropertyName("dice")] double Dice);

/// <summary>One confidence measure's failure prediction on the first relabeling step's candidates of one seed (the
/// pixels INERRANT⁰ predicts as a missing organ; both relabeling variants start from the same candidates).</summary>
public sealed record InerrantConfidenceSeedRow(double Alpha, int Seed, string Measure, double Auc, double ApSuccess, double ApError);

/// <summary>Pseudo-labels after relabeling step t of one seed, for one variant: how many, precision, recall.</summary>
public sealed record InerrantRelabelingSeedRow(double Alpha, int Seed, string Method, int Step, double Gamma, long Relabeled, double Precision, double Recall);

/// <summary>Mean Dice over the organs of one trained model.</summary>
public sealed record InerrantSeedMean(string Method, double Alpha, int Seed, double Dice);

/// <summary>Table 6 row: a measure's mean failure-prediction quality over the seeds at one α.</summary>
public sealed record InerrantConfidenceRow(
    [property: JsonPropertyName("alpha")] double Alpha,
    [property: JsonPropertyName("measure")] string Measure,
    [property: JsonPropertyName("auc")] double Auc,
    [property: JsonPropertyName("ap_success")] double ApSuccess,
    [property: JsonPropertyName("ap_error")] double ApError);

/// <summary>Table 7 row: INERRANT's (learned confidence) pseudo-labels after step t, mean over the seeds.</summary>
public sealed record InerrantRelabelingRow(
    [property: JsonPropertyName("alpha")] double Alpha,
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("precision")] double Precision,
    [property: JsonPropertyName("recall")] double Recall);

/// <summary>The values results.json reports, under exactly the names issue 14 gives.</summary>
public sealed record InerrantHeadline(
    [property: JsonPropertyName("dice")] IReadOnlyList<InerrantDiceRow> Dice,
    [property: JsonPropertyName("dice_mean")] IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> DiceMean,
    [property: JsonPropertyName("confidence")] IReadOnlyList<InerrantConfidenceRow> Confidence,
    [property: JsonPropertyName("relabeling")] IReadOnlyList<InerrantRelabelingRow> Relabeling);

/// <summary>The sizes of one run of the protocol (a profile picks them).</summary>
public sealed record InerrantProtocol
{
    public required int[] Seeds { get; init; }
    /// <summary>Proportions of annotated organs, the nested D(10 %) ⊂ D(30 %) ⊂ D(50 %) ⊂ D(70 %) of §4.1.2.</summary>
    public double[] Alphas { get; init; } = [0.1, 0.3, 0.5, 0.7];
    public required int TrainVolumes { get; init; }
    public required int TestVolumes { get; init; }
    public required int Depth { get; init; }
    public required int Size { get; init; }
    public required InerrantOptions Options { get; init; }
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

    /// <summary>Figure 5: the slice with the organ's true mask; INERRANT⁰'s prediction; MCP and the learned confidence
    /// drawn from 0.5 (black) to 1 (white) as in the paper; and the pixels step 1 relabels with each, true positives
    /// in blue (class 1) and false positives in red (class 2).</summary>
    public GenericChart ConfidenceFigure()
    {
        static float[,] Scale(float[,] c) => Map(c, v => Math.Clamp((v - 0.5f) * 2, 0, 1));
        return Charts.ImageGrid(
            [Image, Scale(Mcp), Scale(Learned), Image, Image, Image],
            [Classes(Truth, Truth), null, null, Classes(Predicted, Truth), Classes(SelectedMcp, Truth), Classes(SelectedLearned, Truth)],
            [$"{Organ} (truth, missing in {VolumeId})", "MCP, 0.5 → 1", "learned confidence, 0.5 → 1",
             "INERRANT⁰: TP blue, FP red", "relabeled by MCP", "relabeled by learned conf."], columns: 3);
    }

    /// <summary>Figure 6: the organ's pseudo-labels after each relabeling step (TP blue, FP red), beside its truth.</summary>
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

/// <summary>The protocol's results: the Dice rows (one Study, saved as the CSV beside results.json), the confidence
/// and relabeling rows per seed, the example for the figures, the tables of the paper and the headline.</summary>
public sealed class InerrantStudy(InerrantProtocol protocol, Study<InerrantDiceRow> dice, IReadOnlyList<InerrantConfidenceSeedRow> confidence,
    IReadOnlyList<InerrantRelabelingSeedRow> relabeling, InerrantExample? example, TimeSpan elapsed)
{
    public InerrantProtocol Protocol { get; } = protocol;
    public Study<InerrantDiceRow> Dice { get; } = dice;
    public IReadOnlyList<InerrantConfidenceSeedRow> Confidence { get; } = confidence;
    public IReadOnlyList<InerrantRelabelingSeedRow> Relabeling { get; } = relabeling;
    public InerrantExample? Example { get; } = example;
    public TimeSpan Elapsed { get; } = elapsed;

    /// <summary>Mean Dice over organs and seeds, per method and α, with the 95 % CI over seeds (Tables 2–4).</summary>
    public DataFrame DiceSummary => new Study<InerrantSeedMean>("per_seed", PerSeedMeans())
        .Summarize(r => new { r.Method, r.Alpha }, [("dice", r => r.Dice)]);

    /// <summary>Mean Dice over organs against the proportion of annotated organs, per method, with the 95 % CI over
    /// seeds (Tables 2–4 as a figure).</summary>
    public GenericChart DiceFigure() => Charts.MeanWithCi(PerSeedMeans().Select(r => (r.Method, r.Alpha, r.Dice)),
        "Mean Dice on the completely annotated test volumes", "proportion of annotated organs α", "mean Dice over organs");

    /// <summary>Mean Dice over seeds of every organ (columns) for every method and α (rows), as in Table 9.</summary>
    public GenericChart PerOrganFigure()
    {
        var organs = Dice.Rows.Select(r => r.Organ).Distinct().ToList();
        var groups = Dice.Rows.GroupBy(r => (r.Alpha, r.Method)).OrderBy(g => g.Key.Alpha)
            .ThenBy(g => InerrantMethods.All.ToList().IndexOf(g.Key.Method)).ToList();
        var z = new double[groups.Count, organs.Count];
        for (var i = 0; i < groups.Count; i++)
            for (var k = 0; k < organs.Count; k++) z[i, k] = groups[i].Where(r => r.Organ == organs[k]).Average(r => r.Dice);
        return Charts.Heatmap(z, organs, [.. groups.Select(g => $"α {AlphaKey(g.Key.Alpha)}, {g.Key.Method}")], "Dice per organ (mean over seeds)");
    }

    /// <summary>Mean Dice over seeds per method, α and organ (Table 9).</summary>
    public DataFrame DicePerOrgan => Dice.Summarize(r => new { r.Method, r.Alpha, r.Organ }, [("dice", r => r.Dice)]);

    /// <summary>Table 6's layout: per α and measure, mean AUC, AP_success, AP_error over the seeds, with the final
    /// Dice of the variant that relabels with that measure.</summary>
    public DataFrame ConfidenceTable
    {
        get
        {
            var rows = Headline.Confidence;
            var finalDice = Headline.DiceMean;
            return new DataFrame(
                new DoubleDataFrameColumn("alpha", rows.Select(r => r.Alpha)),
                new StringDataFrameColumn("measure", rows.Select(r => r.Measure)),
                new DoubleDataFrameColumn("auc", rows.Select(r => r.Auc)),
                new DoubleDataFrameColumn("ap_success", rows.Select(r => r.ApSuccess)),
                new DoubleDataFrameColumn("ap_error", rows.Select(r => r.ApError)),
                new DoubleDataFrameColumn("final_dice", rows.Select(r => finalDice[r.Measure == "mcp" ? InerrantMethods.Mcp : InerrantMethods.Learned][AlphaKey(r.Alpha)])));
        }
    }

    /// <summary>Table 7's layout for both variants: per α and step, the share of predicted positives relabeled (γ_t),
    /// the pseudo-labels' precision and recall (mean over seeds); step 0 is INERRANT⁰ with the final Dice of each step's
    /// model known only for the last one (the model the Dice rows evaluate).</summary>
    public DataFrame RelabelingTable => new Study<InerrantRelabelingSeedRow>("relabeling", Relabeling)
        .Summarize(r => new { r.Alpha, r.Method, r.Step, r.Gamma }, [("precision", r => r.Precision), ("recall", r => r.Recall), ("relabeled", r => r.Relabeled)]);

    public InerrantHeadline Headline
    {
        get
        {
            var diceMean = InerrantMethods.All.Where(m => Dice.Rows.Any(r => r.Method == m)).ToDictionary(m => m,
                m => (IReadOnlyDictionary<string, double>)Dice.Rows.Where(r => r.Method == m).GroupBy(r => r.Alpha).OrderBy(g => g.Key)
                    .ToDictionary(g => AlphaKey(g.Key), g => g.Average(r => r.Dice)));
            var confidence = Confidence.GroupBy(r => (r.Alpha, r.Measure)).OrderBy(g => g.Key.Alpha).ThenBy(g => g.Key.Measure)
                .Select(g => new InerrantConfidenceRow(g.Key.Alpha, g.Key.Measure, g.Average(r => r.Auc), g.Average(r => r.ApSuccess), g.Average(r => r.ApError)))
                .ToList();
            var relabeling = Relabeling.Where(r => r.Method == InerrantMethods.Learned).GroupBy(r => (r.Alpha, r.Step))
                .OrderBy(g => g.Key.Alpha).ThenBy(g => g.Key.Step)
                .Select(g => new InerrantRelabelingRow(g.Key.Alpha, g.Key.Step, g.Average(r => r.Precision), g.Average(r => r.Recall))).ToList();
            return new InerrantHeadline(Dice.Rows, diceMean, confidence, relabeling);
        }
    }

    /// <summary>Mean Dice over organs for each (method, α, seed): the unit the claims are tested on.</summary>
    public IReadOnlyList<InerrantSeedMean> PerSeedMeans() =>
        [.. Dice.Rows.GroupBy(r => (r.Method, r.Alpha, r.Seed)).Select(g => new InerrantSeedMean(g.Key.Method, g.Key.Alpha, g.Key.Seed, g.Average(r => r.Dice)))];

    /// <summary>results.json (the headline) and the CSV of every Dice row beside it.</summary>
    public string? Save(string? path = null) => Reports.ResultsFile.Save(Headline, Dice, path);

    /// <summary>α as the key of dice_mean: "0.1", "0.3", ….</summary>
    public static string AlphaKey(double alpha) => alpha.ToString("0.##", CultureInfo.InvariantCulture);
}

/// <summary>INERRANT on the synthetic CT volumes (Petit et al. 2021, §4): for every seed, training volumes with nested
/// partial annotations at each α and completely annotated test volumes; at each α the naive baseline and INERRANT⁰
/// train from the same initial weights, and both relabeling variants (MCP, learned confidence) continue from that
/// INERRANT⁰ model, as the paper's procedure allows.</summary>
public static class InerrantSynthetic
{
    /// <summary>The organ drawn in Figures 5 and 6 when it is missing in some training volume (the paper shows the stomach).</summary>
    public const string ExampleOrgan = "stomach";

    /// <summary>Quick: 1 seed, 6 training and 3 test volumes of 16×32×32, short training, frozen confidence backbone;
    /// full: 5 seeds, 12 and 6 volumes of 24×48×48, ~10× longer training, the paper's fine-tuned confidence backbone (docs/methods/inerrant.md has its time). Adam decays exponentially as in
    /// §4.1.3, from 3e-3 instead of 1e-4: at 1e-4 a few hundred CPU steps leave most organs unlearnt.</summary>
    public static InerrantProtocol Protocol(RunProfile profile) => profile == RunProfile.Quick
        ? new InerrantProtocol
        {
            Seeds = [0], TrainVolumes = 6, TestVolumes = 3, Depth = 16, Size = 32,
            // The confidence network's U-Net duplicate stays frozen (ConfidNet's configuration): fine-tuning it costs a
            // full backward pass per step, which the 5-minute budget spends on the segmentation network instead.
            Options = new InerrantOptions { SegmentationSteps = 220, FineTuneSteps = 30, ConfidenceSteps = 40, LearningRate = 3e-3, FinalLearningRate = 3e-4, FineTuneLearningRate = 1e-3, FineTuneConfidenceBackbone = false },
        }
        : new InerrantProtocol
        {
            Seeds = [0, 1, 2, 3, 4], TrainVolumes = 12, TestVolumes = 6, Depth = 24, Size = 48,
            Options = new InerrantOptions { SegmentationSteps = 2000, FineTuneSteps = 400, ConfidenceSteps = 400, LearningRate = 3e-3, FinalLearningRate = 3e-4, FineTuneLearningRate = 1e-3 },
        };

    public static InerrantStudy RunStudy(RunProfile profile, int exampleSeed = 0, double exampleAlpha = 0.3) =>
        RunStudy(Protocol(profile), exampleSeed, exampleAlpha);

    /// <summary>Every seed × α × method; the example figures come from (<paramref name="exampleSeed"/>,
    /// <paramref name="exampleAlpha"/>) when that pair is in the protocol.</summary>
    public static InerrantStudy RunStudy(InerrantProtocol protocol, int exampleSeed = 0, double exampleAlpha = 0.3, Trainer? trainer = null)
    {
        var started = DateTime.UtcNow;
        var dice = new List<InerrantDiceRow>();
        var confidence = new List<InerrantConfidenceSeedRow>();
        var relabeling = new List<InerrantRelabelingSeedRow>();
        InerrantExample? example = null;
        var owned = trainer is null;
        trainer ??= new Trainer();
        try
        {
            foreach (var seed in protocol.Seeds)
            {
                var train = SyntheticCt.Make(protocol.TrainVolumes, seed, protocol.Depth, protocol.Size);
                var test = SyntheticCt.Make(protocol.TestVolumes, 1_000_003 + seed, protocol.Depth, protocol.Size);
                var options = protocol.Options with { Seed = seed };
                foreach (var alpha in protocol.Alphas)
                {
                    var partial = train.WithLabelledProportion(alpha, seed);
                    var tag = $"seed {seed}, α {alpha:P0}";
                    using (var naiveSet = InerrantTrainingSet.From(partial, ambiguityMaps: false))
                    using (var naive = Inerrant.Create(train.OrganNames.Count, options))
                    {
                        naive.FitInitial(naiveSet, trainer, $"naive, {tag}");
                        dice.AddRange(Evaluate(naive, test, InerrantMethods.Naive, alpha, seed));
                    }
                    using var set = InerrantTrainingSet.From(partial, ambiguityMaps: true);
                    using var inerrant0 = Inerrant.Create(train.OrganNames.Count, options);
                    inerrant0.FitInitial(set, trainer, $"INERRANT⁰, {tag}");
                    dice.AddRange(Evaluate(inerrant0, test, InerrantMethods.Inerrant0, alpha, seed));
                    foreach (var measure in new[] { ConfidenceMeasure.Mcp, ConfidenceMeasure.Learned })
                    {
                        var method = measure == ConfidenceMeasure.Mcp ? InerrantMethods.Mcp : InerrantMethods.Learned;
                        using var variantSet = set.WithoutPseudoLabels();
                        using var variant = inerrant0.Copy();
                        var capture = measure == ConfidenceMeasure.Learned && seed == exampleSeed && Math.Abs(alpha - exampleAlpha) < 1e-9
                            ? ExampleCapture(variant, variantSet, alpha, e => example = e) : null;
                        var rounds = variant.Relabel(variantSet, trainer, measure, capture);
                        relabeling.AddRange(rounds.Select(r => new InerrantRelabelingSeedRow(alpha, seed, method, r.Step, r.Gamma, r.Relabeled, r.Precision, r.Recall)));
                        if (measure == ConfidenceMeasure.Learned && rounds[0] is { Mcp: { } mcp, Learned: { } learned })
                        {
                            confidence.Add(new InerrantConfidenceSeedRow(alpha, seed, "mcp", mcp.Auc, mcp.ApSuccess, mcp.ApError));
                            confidence.Add(new InerrantConfidenceSeedRow(alpha, seed, "learned", learned.Auc, learned.ApSuccess, learned.ApError));
                        }
                        dice.AddRange(Evaluate(variant, test, method, alpha, seed));
                    }
                }
            }
        }
        finally { if (owned) trainer.Dispose(); }
        return new InerrantStudy(protocol, new Study<InerrantDiceRow>("dice", dice), confidence, relabeling, example, DateTime.UtcNow - started);
    }

    /// <summary>Dice per organ on each test volume (3-D, the class map of §3.1.1), averaged over the test volumes.</summary>
    public static IEnumerable<InerrantDiceRow> Evaluate(Inerrant model, VolumeDataset test, string method, double alpha, int seed)
    {
        var organs = test.OrganNames.Count;
        var sums = new double[organs];
        for (var v = 0; v < test.Count; v++)
        {
            var predicted = PredictVolume(model, test, v);
            for (var k = 0; k < organs; k++) sums[k] += Segmentation.Dice(predicted, test[v].Mask, (byte)(k + 1));
        }
        return Enumerable.Range(0, organs).Select(k => new InerrantDiceRow(method, alpha, seed, test.OrganNames[k], sums[k] / test.Count));
    }

    /// <summary>The predicted label map of a whole volume, slice-major like <see cref="CtVolume.Mask"/>.</summary>
    public static byte[] PredictVolume(Inerrant model, VolumeDataset data, int volume)
    {
        using var scope = torch.NewDisposeScope();
        var (images, _, _) = data.Slices([.. Enumerable.Range(0, data[volume].Depth).Select(s => (volume, s))]);
        using var classes = Inerrant.ClassMap(model.Predict(images));
        return [.. classes.data<long>().ToArray().Select(c => (byte)c)];
    }

    /// <summary>Captures the figures' slice: the first training volume missing <see cref="ExampleOrgan"/> (or any organ),
    /// at its slice with the most pixels of that organ.</summary>
    private static Action<int, InerrantTrainingSet> ExampleCapture(Inerrant model, InerrantTrainingSet set, double alpha, Action<InerrantExample> done)
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

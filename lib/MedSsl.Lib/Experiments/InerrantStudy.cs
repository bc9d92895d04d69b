using MedSsl.Data;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Reports;
using MedSsl.Training;
using static MedSsl.Experiments.InerrantMeasures;
using static MedSsl.Experiments.InerrantMethods;

namespace MedSsl.Experiments;

/// <summary>The sizes of one run of the protocol (a profile picks them).</summary>
public sealed record InerrantScale
{
    public required SeedPlan Seeds { get; init; }
    /// <summary>Proportions α of annotated organs (nested, §4.1.2), the highest first.</summary>
    public required double[] Alphas { get; init; }
    /// <summary>The proportions at which the relabeling variants (and their control) run.</summary>
    public required double[] RelabelAlphas { get; init; }
    /// <summary>Whether the one-shot pseudo-label baseline of Table 5 runs beside the relabeling variants.</summary>
    public bool OneShotBaseline { get; init; } = true;
    public required int TrainVolumes { get; init; }
    public required int TestVolumes { get; init; }
    public required int Depth { get; init; }
    public required int Size { get; init; }
    public required InerrantOptions Options { get; init; }

    /// <summary>Quick (CI smoke): 1 seed, α 70 % and 30 %, relabeling at 70 %. Workshop: the same grid over 5 fresh
    /// seeds, trained longer. Full: the paper's four proportions, relabeling at each, 5 seeds, 48×48 slices. Adam decays
    /// exponentially as in §4.1.3 but from 3e-3 (the paper: 1e-4): at 1e-4 a few hundred CPU steps leave most organs
    /// unlearnt. The confidence network fine-tunes its duplicate of the U-Net, the paper's choice (§4.3.1).</summary>
    public static InerrantScale For(RunProfile profile) => profile.Pick(
        quick: new InerrantScale
        {
            Seeds = SeedPlan.Evaluation(1), Alphas = [0.7, 0.3], RelabelAlphas = [0.7], TrainVolumes = 6, TestVolumes = 3, Depth = 16, Size = 32,
            Options = new InerrantOptions { SegmentationSteps = 220, FineTuneSteps = 30, ConfidenceSteps = 40, LearningRate = 3e-3, FinalLearningRate = 3e-4, FineTuneLearningRate = 1e-3 },
        },
        workshop: new InerrantScale
        {
            // 450 + 3 × 50 steps instead of quick's 220 + 3 × 30; no one-shot baseline: 5 seeds within 900 CPU-s (one seed
            // at 500 steps measured 177 CPU-s, so 500 would reach ≈ 905 with the start-up).
            Seeds = SeedPlan.Evaluation(5), Alphas = [0.7, 0.3], RelabelAlphas = [0.7], OneShotBaseline = false, TrainVolumes = 6, TestVolumes = 3, Depth = 16, Size = 32,
            Options = new InerrantOptions { SegmentationSteps = 450, FineTuneSteps = 50, ConfidenceSteps = 60, LearningRate = 3e-3, FinalLearningRate = 3e-4, FineTuneLearningRate = 1e-3 },
        },
        full: new InerrantScale
        {
            Seeds = SeedPlan.Evaluation(5), Alphas = [0.7, 0.5, 0.3, 0.1], RelabelAlphas = [0.7, 0.5, 0.3, 0.1], TrainVolumes = 12, TestVolumes = 6, Depth = 24, Size = 48,
            Options = new InerrantOptions { SegmentationSteps = 2000, FineTuneSteps = 400, ConfidenceSteps = 400, LearningRate = 3e-3, FinalLearningRate = 3e-4, FineTuneLearningRate = 1e-3 },
        });
}

/// <summary>
/// INERRANT's protocol (Petit, Thome &amp; Soler 2021, §4) on synthetic abdominal CT volumes. For every seed: training
/// volumes, partially annotated at each proportion α with the nested D(10 %) ⊂ … ⊂ D(70 %) of §4.1.2, and completely
/// annotated test volumes. At each α, from the seed's initial weights and batch order:
/// <list type="bullet">
/// <item>the naive baseline (missing organs read as background) and INERRANT⁰ (ambiguity maps, eq. 2) — Tables 2–4;</item>
/// <item>from that INERRANT⁰ model, T = 3 relabeling steps of Algorithm 2 ranked by MCP (SMILE) and by the learned
/// confidence (eq. 3) — Table 6; the one-shot pseudo-label baseline of Table 5; and INERRANT⁰ trained on for the same
/// T fine-tuning phases without pseudo-labels, the control that separates relabeling from extra training (the paper
/// compares with INERRANT⁰ as trained). All four share the segmenter, the fine-tuning batch order and the step budget;
/// the confidence network draws its batches from its own random stream.</item>
/// </list>
/// Nothing is selected: T, γ_max and the step budgets are fixed in advance and the last step's model is evaluated.
/// </summary>
public sealed class InerrantProtocol(InerrantScale scale, int exampleSeed, double exampleAlpha) : Protocol<double, InerrantRun, InerrantRow>
{
    // Petit et al. 2021: Table 4 (multi-organ mean DSC) and Table 6 (TCIA pancreas: learned − MCP), as fractions.
    private static readonly Dictionary<double, double> PaperNaive = new() { [0.7] = 0.6685, [0.5] = 0.4532, [0.3] = 0.1951, [0.1] = 0.0282 };
    private static readonly Dictionary<double, double> PaperInerrant0 = new() { [0.7] = 0.8419, [0.5] = 0.8125, [0.3] = 0.7658, [0.1] = 0.6769 };
    private static readonly Dictionary<double, double> PaperInerrant = new() { [0.7] = 0.8536, [0.5] = 0.8443, [0.3] = 0.8260, [0.1] = 0.7349 };
    private static readonly Dictionary<double, double> PaperAucGain = new() { [0.7] = 0.0164, [0.5] = 0.0127, [0.3] = 0.0151, [0.1] = 0.0153 };
    private static readonly Dictionary<double, double> PaperApErrorGain = new() { [0.7] = 0.0318, [0.5] = 0.0219, [0.3] = 0.0251, [0.1] = 0.0265 };
    private static readonly Dictionary<double, double> PaperDiceGain = new() { [0.7] = 0.0155, [0.5] = 0.0041, [0.3] = 0.0138, [0.1] = 0.0153 };
    // Table 5 (TCIA pancreas): INERRANT − one-shot pseudo-labels [2].
    private static readonly Dictionary<double, double> PaperOverOneShot = new() { [0.7] = 0.0040, [0.5] = 0.0052, [0.3] = 0.0210, [0.1] = 0.0428 };

    private readonly Dictionary<int, InerrantSeedData> data = [];

    public InerrantScale Scale { get; } = scale;
    public override string Name => "runs";
    public override SeedPlan Seeds => Scale.Seeds;
    public override IReadOnlyList<double> Grid => Scale.Alphas;
    public override string Describe(double alpha) => $"α {alpha:P0}";
    public override bool IsExample(int seed, double alpha) => seed == exampleSeed && alpha == exampleAlpha;

    public override void BeginSeed(int seed) => data[seed] = new InerrantSeedData(
        SyntheticCt.Make(Scale.TrainVolumes, seed, Scale.Depth, Scale.Size),
        SyntheticCt.Make(Scale.TestVolumes, 1_000_003 + seed, Scale.Depth, Scale.Size));

    public override void EndSeed(int seed) => data.Remove(seed);

    public override InerrantRun Train(int seed, double alpha, Trainer trainer)
    {
        var run = new InerrantRun(seed, alpha, data[seed]);
        try
        {
            var partial = run.Data.Train.WithLabelledProportion(alpha, seed);
            var options = Scale.Options with { Seed = seed };
            run.FitInitial(Naive, partial, ambiguityMaps: false, options, trainer);
            var inerrant0 = run.FitInitial(Inerrant0, partial, ambiguityMaps: true, options, trainer);
            if (!Scale.RelabelAlphas.Contains(alpha)) return run;
            run.Continue(Inerrant0Long, inerrant0, partial, (m, set, after) => { m.FineTuneWithoutRelabeling(set, trainer, after); return []; });
            if (Scale.OneShotBaseline) run.Continue(OneShot, inerrant0, partial, (m, set, after) => m.RelabelOnce(set, trainer, after));
            run.Continue(Mcp, inerrant0, partial, (m, set, after) => m.Relabel(set, trainer, ConfidenceMeasure.Mcp, afterFineTune: after));
            run.Continue(Learned, inerrant0, partial, (m, set, after) => m.Relabel(set, trainer, ConfidenceMeasure.Learned,
                IsExample(seed, alpha) ? InerrantFigures.ExampleCapture(m, set, alpha, e => run.Example = e) : null, after));
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    /// <summary>The final models' test Dice per organ and its mean over organs, and the rows measured during training.</summary>
    public override IEnumerable<InerrantRow> Evaluate(int seed, double alpha, InerrantRun run)
    {
        var organs = run.Data.Test.OrganNames;
        foreach (var (method, model) in run.Models)
        {
            var dice = InerrantStudy.OrganDice(model, run.Data.Test);
            for (var k = 0; k < organs.Count; k++) yield return new InerrantRow(seed, alpha, method, Dice, organs[k], 0, dice[k]);
            yield return new InerrantRow(seed, alpha, method, Dice, InerrantRow.AllOrgans, 0, dice.Average());
        }
        foreach (var row in run.TrainingRows) yield return row;
    }

    public override IEnumerable<Claim<InerrantRow>> Claims
    {
        get
        {
            double high = Scale.Alphas.Max(), low = Scale.Alphas.Min();
            const string Table4 = "Petit et al. 2021, §4.2.3, Table 4";
            yield return new($"Naive collapses as annotations get scarcer: its Dice at α = {low:P0} is below α = {high:P0}", Table4, "mean Dice (test)",
                r => r.Value, r => r.Alpha == low && r.Is(Naive, Dice), r => r.Alpha == high && r.Is(Naive, Dice), ClaimDirection.Lower)
                { PaperDifference = PaperNaive[low] - PaperNaive[high] };
            foreach (var alpha in Scale.Alphas)
                yield return Compare($"INERRANT⁰ beats naive at α = {alpha:P0}", Table4, alpha, Inerrant0, Naive, Dice,
                    PaperInerrant0[alpha] - PaperNaive[alpha]);
            foreach (var alpha in Scale.RelabelAlphas)
            {
                var step = Scale.Options.RelabelingSteps;
                yield return Compare($"Relabeling (learned confidence) beats INERRANT⁰ trained as long, α = {alpha:P0}", Table4 + " (against INERRANT⁰ as trained)",
                    alpha, Learned, Inerrant0Long, Dice, PaperInerrant[alpha] - PaperInerrant0[alpha]);
                yield return Compare($"The learned confidence ranks step 1's candidates better than MCP (AUC), α = {alpha:P0}", "Petit et al. 2021, §4.3.1, Table 6",
                    alpha, Learned, Mcp, Auc, PaperAucGain[alpha], step: 1);
                yield return Compare($"The learned confidence detects errors better than MCP (AP_error), α = {alpha:P0}", "Petit et al. 2021, §4.3.1, Table 6",
                    alpha, Learned, Mcp, ApError, PaperApErrorGain[alpha], step: 1);
                yield return Compare($"Step 1's pseudo-labels are more precise with the learned confidence than with MCP, α = {alpha:P0}", "Petit et al. 2021, §4.3.1, Figure 5",
                    alpha, Learned, Mcp, Precision, null, step: 1);
                yield return Compare($"Relabeling with the learned confidence ends with a higher Dice than with MCP, α = {alpha:P0}", "Petit et al. 2021, §4.3.1, Table 6 (final DSC)",
                    alpha, Learned, Mcp, Dice, PaperDiceGain[alpha]);
                if (Scale.OneShotBaseline)
                    yield return Compare($"Curriculum relabeling (learned confidence) beats one-shot pseudo-labels, α = {alpha:P0}", "Petit et al. 2021, §4.2.4, Table 5",
                        alpha, Learned, OneShot, Dice, PaperOverOneShot[alpha]);
                yield return new($"The confidence network learns: its loss (eq. 3) falls during the first confidence training, α = {alpha:P0}",
                    "Corbière et al. 2019 (TCP regression); Petit et al. 2021, §3.2.2, eq. 3", "confidence loss, last vs first tenth of the steps",
                    r => r.Value, r => r.Alpha == alpha && r.Is(Learned, ConfidenceLossEnd, 1), r => r.Alpha == alpha && r.Is(Learned, ConfidenceLossStart, 1),
                    ClaimDirection.Lower);
            }
        }
    }

    private static Claim<InerrantRow> Compare(string text, string source, double alpha, string treatment, string control, string measure,
        double? paper, int step = 0) =>
        new(text, source, MeasureName(measure), r => r.Value, r => r.Alpha == alpha && r.Is(treatment, measure, step),
            r => r.Alpha == alpha && r.Is(control, measure, step)) { PaperDifference = paper };

    private static string MeasureName(string measure) => measure switch
    {
        Dice => "mean Dice over organs (test)",
        Auc => "failure-prediction AUC on step 1's candidates",
        ApError => "AP_error on step 1's candidates",
        Precision => "precision of step 1's pseudo-labels",
        _ => measure,
    };
}

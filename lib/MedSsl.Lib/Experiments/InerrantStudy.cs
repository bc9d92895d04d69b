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
    public required int TrainVolumes { get; init; }
    public required int TestVolumes { get; init; }
    public required int Depth { get; init; }
    public required int Size { get; init; }
    public required InerrantOptions Options { get; init; }

    /// <summary>Quick (CI smoke): 1 seed, α 70 % and 30 %, relabeling at 70 %. Workshop: the same grid over 5 fresh
    /// seeds, trained longer (383 s on one idle core without the one-shot baseline, which it then got back). Full: the paper's four proportions, relabeling at
    /// each, 5 seeds, 48×48 slices. Adam decays exponentially as in §4.1.3 but from 3e-3 (the paper: 1e-4): at 1e-4 a few
    /// hundred CPU steps leave most organs unlearnt. Step budgets were cut for cost alone when the frozen-duplicate arm
    /// was added (quick 220 / 30 / 40 → 200 / 25 / 30, workshop 450 / 50 / 60 → 430 / 45 / 45 initial / fine-tuning / confidence steps).</summary>
    public static InerrantScale For(RunProfile profile)
    {
        var quick = new InerrantScale
        {
            Seeds = SeedPlan.Evaluation(1), Alphas = [0.7, 0.3], RelabelAlphas = [0.7], TrainVolumes = 6, TestVolumes = 3, Depth = 16, Size = 32,
            Options = Rates with { SegmentationSteps = 200, FineTuneSteps = 25, ConfidenceSteps = 30 },
        };
        return profile.Pick(quick,
            workshop: quick with { Seeds = SeedPlan.Evaluation(5), Options = Rates with { SegmentationSteps = 430, FineTuneSteps = 45, ConfidenceSteps = 45 } },
            full: new InerrantScale
            {
                Seeds = SeedPlan.Evaluation(5), Alphas = [0.7, 0.5, 0.3, 0.1], RelabelAlphas = [0.7, 0.5, 0.3, 0.1], TrainVolumes = 12, TestVolumes = 6, Depth = 24, Size = 48,
                Options = Rates with { SegmentationSteps = 2000, FineTuneSteps = 400, ConfidenceSteps = 400 },
            });
    }

    /// <summary>Every profile's learning rates (see <see cref="For"/>).</summary>
    private static readonly InerrantOptions Rates = new() { LearningRate = 3e-3, FinalLearningRate = 3e-4, FineTuneLearningRate = 1e-3 };
}

/// <summary>
/// INERRANT's protocol (Petit, Thome &amp; Soler 2021, §4) on synthetic abdominal CT volumes. For every seed: training
/// volumes, partially annotated at each proportion α with the nested D(10 %) ⊂ … ⊂ D(70 %) of §4.1.2, and completely
/// annotated test volumes. At each α, from the seed's initial weights and batch order:
/// <list type="bullet">
/// <item>the naive baseline (missing organs read as background) and INERRANT⁰ (ambiguity maps, eq. 2) — Tables 2–4;</item>
/// <item>from that INERRANT⁰ model, T = 3 relabeling steps of Algorithm 2 ranked by MCP (SMILE) and by the learned
/// confidence (eq. 3) with its U-Net duplicate fine-tuned (the paper's choice, §3.2.2, §4.3.1) or frozen (ConfidNet's
/// transfer configuration) — Table 6; the one-shot pseudo-label baseline of Table 5; and INERRANT⁰ trained on for the
/// same T fine-tuning phases without pseudo-labels, the control that separates relabeling from extra training. All
/// share the segmenter, the fine-tuning batch order and the step budget; the confidence network draws its batches from
/// its own random stream.</item>
/// </list>
/// Failure prediction is scored on step 1's candidates (Table 6: the same pixels for every confidence) and, on more
/// pixels, on everything the step-1 model predicts as an organ in the test volumes (ConfidNet's protocol, Corbière et
/// al. 2019). Nothing is selected: T, γ_max and the step budgets are fixed in advance and the last model is evaluated.
/// </summary>
public sealed class InerrantProtocol(InerrantScale scale, int exampleSeed, double exampleAlpha) : Protocol<double, InerrantRun, InerrantRow>
{
    /// <summary>Petit et al. 2021 at one α, as fractions: Table 4's multi-organ mean DSC of naive, INERRANT⁰ and INERRANT;
    /// Table 6's gains of the learned confidence over MCP (TCIA pancreas: AUC, AP_error, final DSC); Table 5's INERRANT −
    /// one-shot pseudo-labels [2] (TCIA pancreas).</summary>
    private sealed record Reported(double Naive, double Inerrant0, double Inerrant, double AucGain, double ApErrorGain, double DiceGain, double OverOneShot);
    private static readonly Dictionary<double, Reported> Paper = new()
    {
        [0.7] = new(0.6685, 0.8419, 0.8536, 0.0164, 0.0318, 0.0155, 0.0040),
        [0.5] = new(0.4532, 0.8125, 0.8443, 0.0127, 0.0219, 0.0041, 0.0052),
        [0.3] = new(0.1951, 0.7658, 0.8260, 0.0151, 0.0251, 0.0138, 0.0210),
        [0.1] = new(0.0282, 0.6769, 0.7349, 0.0153, 0.0265, 0.0153, 0.0428),
    };
    private const string Table4 = "Petit et al. 2021, §4.2.3, Table 4", Table6 = "Petit et al. 2021, §4.3.1, Table 6";
    private const string FineTuned = "Petit et al. 2021, §3.2.2 and §4.3.1 (fine-tuning the duplicate \"gives better results\"; no numbers given)";

    /// <summary>A measure the claims compare: its rows' measure and step, and how the claims table names it.</summary>
    private sealed record Compared(string Measure, int Step, string Name);
    private static readonly Compared FinalDice = new(Dice, 0, "mean Dice over organs (test)");
    private static readonly Compared CandidateAuc = new(Auc, 1, "failure-prediction AUC on step 1's candidates");
    private static readonly Compared CandidateApError = new(ApError, 1, "AP_error on step 1's candidates");
    private static readonly Compared TestPredictionAuc = new(TestAuc, 1, "failure-prediction AUC on the test predictions (step-1 model)");
    private static readonly Compared TestPredictionApError = new(TestApError, 1, "AP_error on the test predictions (step-1 model)");
    private static readonly Compared FirstPrecision = new(Precision, 1, "precision of step 1's pseudo-labels");
    private static readonly Compared FirstConfidenceLoss = new(ConfidenceLossEnd, 1, "confidence loss, last tenth of the first training");

    private readonly Dictionary<int, (VolumeDataset Train, VolumeDataset Test)> data = [];

    public override SeedPlan Seeds => scale.Seeds;
    public override IReadOnlyList<double> Grid => scale.Alphas;
    public override string Describe(double alpha) => $"α {alpha:P0}";
    public override bool IsExample(int seed, double alpha) => seed == exampleSeed && alpha == exampleAlpha;

    public override void BeginSeed(int seed) => data[seed] = (SyntheticCt.Make(scale.TrainVolumes, seed, scale.Depth, scale.Size),
        SyntheticCt.Make(scale.TestVolumes, 1_000_003 + seed, scale.Depth, scale.Size));

    public override void EndSeed(int seed) => data.Remove(seed);

    public override InerrantRun Train(int seed, double alpha, Trainer trainer)
    {
        var run = new InerrantRun(seed, alpha, data[seed].Train.WithLabelledProportion(alpha, seed), data[seed].Test);
        try
        {
            var options = scale.Options with { Seed = seed };
            run.FitInitial(Naive, ambiguityMaps: false, options, trainer);
            var inerrant0 = run.FitInitial(Inerrant0, ambiguityMaps: true, options, trainer);
            if (!scale.RelabelAlphas.Contains(alpha)) return run;
            run.Continue(Inerrant0Long, inerrant0, (m, set, after) => { m.FineTuneWithoutRelabeling(set, trainer, after); return []; });
            run.Continue(OneShot, inerrant0, (m, set, after) => m.RelabelOnce(set, trainer, after));
            run.Relabel(Mcp, inerrant0, ConfidenceMeasure.Mcp, trainer);
            run.Relabel(Learned, inerrant0, ConfidenceMeasure.Learned, trainer, example: IsExample(seed, alpha));
            run.Relabel(LearnedFrozen, inerrant0, ConfidenceMeasure.Learned, trainer, options with { FineTuneConfidenceBackbone = false });
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
        var test = data[seed].Test;
        foreach (var (method, model) in run.Models)
        {
            var dice = model.OrganDice(test);
            for (var k = 0; k < dice.Length; k++) yield return new InerrantRow(seed, alpha, method, Dice, test.OrganNames[k], 0, dice[k]);
            yield return new InerrantRow(seed, alpha, method, Dice, InerrantRow.AllOrgans, 0, dice.Average());
        }
        foreach (var row in run.TrainingRows) yield return row;
    }

    public override IEnumerable<Claim<InerrantRow>> Claims
    {
        get
        {
            double high = scale.Alphas.Max(), low = scale.Alphas.Min();
            yield return new($"Naive collapses as annotations get scarcer: its Dice at α = {low:P0} is below α = {high:P0}", Table4, "mean Dice (test)",
                r => r.Value, r => r.Is(low, Naive, Dice), r => r.Is(high, Naive, Dice), ClaimDirection.Lower)
                { PaperDifference = Paper[low].Naive - Paper[high].Naive };
            foreach (var alpha in scale.Alphas)
                yield return Compare($"INERRANT⁰ beats naive at α = {alpha:P0}", Table4, alpha, Inerrant0, Naive, FinalDice, Paper[alpha].Inerrant0 - Paper[alpha].Naive);
            foreach (var alpha in scale.RelabelAlphas)
            {
                var (at, paper) = ($"α = {alpha:P0}", Paper[alpha]);
                yield return Compare($"Relabeling (learned confidence) beats INERRANT⁰ trained as long, {at}", Table4 + " (against INERRANT⁰ as trained)",
                    alpha, Learned, Inerrant0Long, FinalDice, paper.Inerrant - paper.Inerrant0);
                foreach (var claim in FailureClaims("The learned confidence", "MCP", Table6, alpha, Learned, Mcp, paper.AucGain, paper.ApErrorGain)) yield return claim;
                yield return Compare($"Step 1's pseudo-labels are more precise with the learned confidence than with MCP, {at}", "Petit et al. 2021, §4.3.1, Figure 5",
                    alpha, Learned, Mcp, FirstPrecision);
                yield return Compare($"Relabeling with the learned confidence ends with a higher Dice than with MCP, {at}", Table6 + " (final DSC)",
                    alpha, Learned, Mcp, FinalDice, paper.DiceGain);
                yield return Compare($"Curriculum relabeling (learned confidence) beats one-shot pseudo-labels, {at}", "Petit et al. 2021, §4.2.4, Table 5",
                    alpha, Learned, OneShot, FinalDice, paper.OverOneShot);
                yield return new($"The confidence network learns: its loss (eq. 3) falls during the first confidence training, {at}",
                    "Corbière et al. 2019 (TCP regression); Petit et al. 2021, §3.2.2, eq. 3", "confidence loss, last vs first tenth of the steps",
                    r => r.Value, r => r.Is(alpha, Learned, ConfidenceLossEnd, 1), r => r.Is(alpha, Learned, ConfidenceLossStart, 1), ClaimDirection.Lower);
                // Fine-tuned vs frozen duplicate: the same segmenter, batch orders, head initialisation and step budget.
                yield return Compare($"Fine-tuning the confidence network's duplicate fits TCP better than freezing it (end of the first training), {at}", FineTuned,
                    alpha, Learned, LearnedFrozen, FirstConfidenceLoss, direction: ClaimDirection.Lower);
                foreach (var claim in FailureClaims("The fine-tuned confidence network", "the frozen one", FineTuned, alpha, Learned, LearnedFrozen)) yield return claim;
                yield return Compare($"Relabeling with the fine-tuned confidence network ends with a higher Dice than with the frozen one, {at}", FineTuned,
                    alpha, Learned, LearnedFrozen, FinalDice);
            }
        }
    }

    /// <summary>Failure prediction, <paramref name="treatment"/> against <paramref name="control"/>: AUC and AP_error on
    /// step 1's candidates (Table 6) and on the test volumes' predictions.</summary>
    private static IEnumerable<Claim<InerrantRow>> FailureClaims(string better, string worse, string source, double alpha, string treatment, string control,
        double? paperAuc = null, double? paperApError = null)
    {
        var (at, onTest) = ($"α = {alpha:P0}", source + "; Corbière et al. 2019, §4 (test pixels)");
        return
        [
            Compare($"{better} ranks step 1's candidates better than {worse} (AUC), {at}", source, alpha, treatment, control, CandidateAuc, paperAuc),
            Compare($"{better} detects step 1's wrong candidates better than {worse} (AP_error), {at}", source, alpha, treatment, control, CandidateApError, paperApError),
            Compare($"{better} ranks the test predictions' failures better than {worse} (AUC), {at}", onTest, alpha, treatment, control, TestPredictionAuc),
            Compare($"{better} detects the test predictions' errors better than {worse} (AP_error), {at}", onTest, alpha, treatment, control, TestPredictionApError),
        ];
    }

    private static Claim<InerrantRow> Compare(string text, string source, double alpha, string treatment, string control, Compared measure,
        double? paper = null, ClaimDirection direction = ClaimDirection.Higher) =>
        new(text, source, measure.Name, r => r.Value, r => r.Is(alpha, treatment, measure.Measure, measure.Step),
            r => r.Is(alpha, control, measure.Measure, measure.Step), direction) { PaperDifference = paper };
}

/// <summary>The entry point notebook 03 calls.</summary>
public static class InerrantStudy
{
    /// <summary>Runs the protocol at <paramref name="scale"/> (<see cref="InerrantScale.For"/> a profile); the figures come
    /// from seed <paramref name="seed"/> at <paramref name="exampleAlpha"/>, which must be a seed of the scale's plan and a
    /// proportion it relabels at.</summary>
    public static InerrantResult RunStudy(InerrantScale scale, int seed, double exampleAlpha)
    {
        scale.Seeds.RequireExample(seed);
        if (!scale.RelabelAlphas.Contains(exampleAlpha))
            throw new ArgumentOutOfRangeException(nameof(exampleAlpha), exampleAlpha, $"ExampleAlpha must be a proportion the profile relabels at ({string.Join(", ", scale.RelabelAlphas)})");
        return new InerrantResult(scale, ProtocolRunner.Run(new InerrantProtocol(scale, seed, exampleAlpha)), exampleAlpha);
    }
}

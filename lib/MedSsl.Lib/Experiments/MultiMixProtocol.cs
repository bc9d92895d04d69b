using MedSsl.Data;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Training;

namespace MedSsl.Experiments;

/// <summary>One point of the grid: a model of §3.2 trained with <paramref name="Masks"/> labelled masks |D_l^s| and
/// <paramref name="Labels"/> labelled classes |D_l^c| (0 for the task the model does not learn).</summary>
public sealed record MultiMixSetting(MultiMixModel Model, int Masks, int Labels)
{
    public override string ToString() => $"{MultiMixRuns.Name(Model)} |D_l^s| {Masks} |D_l^c| {Labels}";
}

/// <summary>A profile's sizes: data, backbone widths, seeds, steps, the method's settings, the labelled counts (fewest
/// first, the last one all of the set) and whether every model runs at every pair of counts (the paper's grid) or only
/// MultiMix and the single-task baselines beyond the fewest pair.</summary>
public sealed record MultiMixSettings(ChestXraySizes Sizes, IReadOnlyList<int> Widths, SeedPlan Seeds, int Steps, MultiMixOptions Options,
    IReadOnlyList<int> MaskCounts, IReadOnlyList<int> LabelCounts, bool EveryModelAtEveryPair)
{
    public int FewestMasks => MaskCounts[0];
    public int FewestLabels => LabelCounts[0];
    public int AllLabels => LabelCounts[^1];

    /// <summary>Quick (the CI smoke run): 32 × 32, widths 8-16-32-64, the fewest counts (4 of 40 masks: the paper's 10 of
    /// JSRT's 111, scaled; 20 of 400 labels) and Enc with all labels, 2 seeds, 120 steps of 16 per stream at a constant
    /// Adam 1e-3. Workshop: the same images and steps over three labelled fractions per task (4, 12, 40 masks; 20, 80,
    /// 400 labels) for the single-task baselines, MultiMix at (4, 20) and (12, 80), 5 fresh seeds: ≈ 150 CPU-seconds a
    /// seed at the quick profile's measured cost per model (MultiMix ≈ 24 s, U-Net ≈ 11 s, Enc ≈ 4 s). Full: 48 × 48, widths 16-32-64-128, every model at every pair of {10, 50, 110} masks ×
    /// {40, 400, 2000} labels, the paper's 5 seeds, 1500 steps of 8, lr ×0.1 after two thirds (the paper's 1e-4 needs its
    /// 100 epochs). The model after the last step is evaluated: nothing is selected, on test or validation data.</summary>
    public static MultiMixSettings For(RunProfile profile)
    {
        var sizes = SyntheticChestXray.DefaultSizes(profile);
        var steps = profile.Pick(quick: 120, workshop: 120, full: 1500);
        // Quick and workshop: no decay (it would fall after the last step) and batches of 16: at 150 steps of 8 with a
        // decay at step 100, Enc's loss was still on its plateau (≈ 0.6) when the decay came; it leaves it after ≈ 1500
        // images (docs/methods/multimix.md).
        return new MultiMixSettings(sizes, profile.Pick<int[]>(quick: [8, 16, 32, 64], workshop: [8, 16, 32, 64], full: [16, 32, 64, 128]),
            SeedPlan.Evaluation(profile.Pick(quick: 2, workshop: 5, full: 5)), steps,
            new MultiMixOptions { LearningRate = 1e-3, DecayEvery = profile.Pick(quick: steps, workshop: steps, full: 2 * steps / 3), BatchSize = profile.Pick(quick: 16, workshop: 16, full: 8) },
            profile.Pick<int[]>(quick: [4], workshop: [4, 12, sizes.Segmentation], full: [10, 50, sizes.Segmentation]),
            profile.Pick<int[]>(quick: [20, sizes.Classification], workshop: [20, 80, sizes.Classification], full: [40, 400, sizes.Classification]),
            EveryModelAtEveryPair: profile == RunProfile.Full);
    }
}

/// <summary>
/// The protocol of Haque et al. (2021, §3.1–3.3, Tables 2–3), on synthetic chest X-rays (source A trains and tests
/// in-domain, source B tests cross-domain). Per seed: new data; every model of §3.2 on the same backbone and the same
/// initial weights where the architecture allows, at the fewest labelled counts; the single-task baselines and MultiMix
/// over the labelled fractions (every model at every pair in the full profile). Each trained model is evaluated on both
/// test sources. Its rows carry the end measures of Tables 2–3 and the mechanism measures: the pseudo-labels eq. 1
/// trains on, eq. 2's KL between labelled and unseen images' mean masks, and where the saliency map eq. 3 hands the
/// decoder puts its mass.
/// </summary>
public sealed class MultiMixProtocol(MultiMixSettings settings, int exampleSeed) : Protocol<MultiMixSetting, MultiMixRun, MultiMixRow>
{
    private ChestXrayData? data;

    public override SeedPlan Seeds => settings.Seeds;

    public override IReadOnlyList<MultiMixSetting> Grid
    {
        get
        {
            var s = settings;
            var pairs = s.MaskCounts.SelectMany(m => s.LabelCounts.Select(l => (Masks: m, Labels: l))).ToList();
            var grid = new List<MultiMixSetting>();
            foreach (var model in Enum.GetValues<MultiMixModel>())
            {
                var (segments, classifies) = (model != MultiMixModel.Enc && model != MultiMixModel.EncSsl, model != MultiMixModel.UNet);
                // Beyond the fewest pair: U-Net at every mask count, the encoders at every label count (Enc-SSL not with
                // all labels, where it has no unlabelled image and is Enc), MultiMix along the diagonal of the fractions
                // short of all labels and masks (where it has no unlabelled image either).
                var mine = s.EveryModelAtEveryPair ? pairs
                    : model == MultiMixModel.MultiMix ? [.. s.MaskCounts.Take(Math.Max(1, s.MaskCounts.Count - 1)).Select((m, i) => (m, s.LabelCounts[Math.Min(i, s.LabelCounts.Count - 1)]))]
                    : model == MultiMixModel.UNet ? [.. s.MaskCounts.Select(m => (m, 0))]
                    : model == MultiMixModel.Enc ? [.. s.LabelCounts.Select(l => (0, l))]
                    : [(s.FewestMasks, s.FewestLabels)];
                grid.AddRange(mine.Select(p => new MultiMixSetting(model, segments ? p.Masks : 0, classifies ? p.Labels : 0))
                    .Where(g => !(model == MultiMixModel.EncSsl && g.Labels == s.AllLabels)));
            }
            return [.. grid.Distinct()];
        }
    }

    public override void BeginSeed(int seed) => data = SyntheticChestXray.Make(settings.Sizes, seed);

    public override void EndSeed(int seed) => data = null;

    public override MultiMixRun Train(int seed, MultiMixSetting setting, Trainer trainer) =>
        MultiMixRuns.Train(setting, data ?? throw new InvalidOperationException("BeginSeed draws the data"), seed, settings, trainer);

    public override IEnumerable<MultiMixRow> Evaluate(int seed, MultiMixSetting setting, MultiMixRun run) => MultiMixRuns.Evaluate(setting, seed, run);

    /// <summary>The example kept for the figures: every model of the example seed at the fewest counts.</summary>
    public override bool IsExample(int seed, MultiMixSetting setting) => seed == exampleSeed && IsFewest(setting);

    public bool IsFewest(MultiMixSetting s) => (s.Masks == 0 || s.Masks == settings.FewestMasks) && (s.Labels == 0 || s.Labels == settings.FewestLabels);

    /// <summary>§3.3's claims, in-domain (Table 2) and cross-domain (Table 3), at the fewest labelled counts, where the
    /// paper makes them ("with minimal supervision"); the paper's differences are its MultiMix-100-10 row minus the
    /// baseline's row. And the mechanism eq. 2's KL term is there for.</summary>
    public override IEnumerable<Claim<MultiMixRow>> Claims
    {
        get
        {
            var (m, l, all) = (settings.FewestMasks, settings.FewestLabels, settings.AllLabels);
            foreach (var (domain, table) in new[] { ("in", "Table 2"), ("cross", "Table 3") })
            {
                var cross = domain == "cross";
                Func<MultiMixRow, bool> Is(MultiMixModel model, int masks, int labels) =>
                    r => r.Domain == domain && r.Model == MultiMixRuns.Name(model) && r.LabelledMasks == masks && r.LabelledLabels == labels;
                var multiMix = Is(MultiMixModel.MultiMix, m, l);
                yield return new Claim<MultiMixRow>($"MultiMix's Dice > U-Net's, {m} masks, {domain}-domain",
                    $"Haque et al. 2021, §3.3, {table}", "Dice", r => r.Dice, multiMix, Is(MultiMixModel.UNet, m, 0)) { PaperDifference = cross ? 0.302 : 0.320 };
                yield return new Claim<MultiMixRow>($"MultiMix's accuracy > Enc's, {l} labels, {domain}-domain",
                    $"Haque et al. 2021, §3.3, {table}", "accuracy", r => r.Accuracy, multiMix, Is(MultiMixModel.Enc, 0, l)) { PaperDifference = cross ? 0.088 : 0.068 };
                yield return new Claim<MultiMixRow>($"MultiMix with {l} labels > Enc with all {all}, accuracy, {domain}-domain",
                    $"Haque et al. 2021, §3.3 (\"MultiMix-100-10 outperforms the fully-supervised Enc\"), {table}", "accuracy", r => r.Accuracy,
                    multiMix, Is(MultiMixModel.Enc, 0, all)) { PaperDifference = cross ? 0.006 : 0.063 };
                yield return new Claim<MultiMixRow>($"The saliency bridge raises Dice without SSL: UMTL-S > UMTL, {m} masks, {domain}-domain",
                    $"Haque et al. 2021, §3.3, {table}", "Dice", r => r.Dice, Is(MultiMixModel.UmtlS, m, l), Is(MultiMixModel.Umtl, m, l));
                yield return new Claim<MultiMixRow>($"The saliency bridge raises Dice with SSL: MultiMix > UMTL-SSL, {m} masks, {domain}-domain",
                    $"Haque et al. 2021, §3.3, {table}", "Dice", r => r.Dice, multiMix, Is(MultiMixModel.UmtlSsl, m, l));
            }
            yield return new Claim<MultiMixRow>($"Eq. 2's KL term pulls unseen images' mean mask to the labelled one: UMTL-SSL < UMTL, {m} masks",
                "Haque et al. 2021, §2.2, eq. 2", "mask KL (labelled vs in-domain test)", r => r.MaskKl,
                r => r.Domain == "in" && r.Model == "UMTL-SSL" && r.LabelledMasks == m && r.LabelledLabels == l,
                r => r.Domain == "in" && r.Model == "UMTL" && r.LabelledMasks == m && r.LabelledLabels == l,
                ClaimDirection.Lower);
        }
    }
}

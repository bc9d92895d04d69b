using System.Globalization;
using MedSsl.Data;
using MedSsl.Data.Synthetic;
using MedSsl.Experiments;
using MedSsl.Methods;
using MedSsl.Metrics;
using Microsoft.Data.Analysis;
using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;
using TorchSharp;

namespace MedSsl.Reports;

/// <summary>The notebook's entry point: <see cref="MultiMixProtocol"/> run by <see cref="ProtocolRunner"/>, with
/// Tables 2–3, the mechanism table, the claims and the example seed's models for the figures (Figs. 3, 6, 8–10, ROC).</summary>
public sealed class MultiMixStudy : ProtocolStudy<MultiMixSetting, MultiMixRun, MultiMixRow>
{
    private MultiMixStudy(MultiMixSettings settings, ProtocolResult<MultiMixSetting, MultiMixRun, MultiMixRow> result, int exampleSeed) : base(result)
    {
        (Settings, ExampleSeed) = (settings, exampleSeed);
        Example = result.Examples.ToDictionary(e => e.Setting.Model, e => e.Run);
    }

    public MultiMixSettings Settings { get; }
    public int ExampleSeed { get; }
    /// <summary>The example seed's models at the fewest counts, with that seed's data.</summary>
    public IReadOnlyDictionary<MultiMixModel, MultiMixRun> Example { get; }

    /// <summary>Runs the protocol; <paramref name="exampleSeed"/> (one of the profile's seeds) keeps its models for the figures.</summary>
    public static MultiMixStudy RunStudy(MultiMixSettings settings, int exampleSeed) =>
        new(settings, ProtocolRunner.Run(new MultiMixProtocol(settings, settings.Seeds.RequireExample(exampleSeed))), exampleSeed);

    public static MultiMixStudy RunStudy(RunProfile profile, int exampleSeed = SeedPlan.FirstFresh) => RunStudy(MultiMixSettings.For(profile), exampleSeed);

    /// <summary>Table 2 ("in") or Table 3 ("cross"): per model and counts, mean ± sd over seeds; "—" where not measured.</summary>
    public DataFrame PaperTable(string domain) => Table(domain, [("Acc", r => r.Accuracy), ("AUC", r => r.Auc), ("F1-Nor", r => r.F1Normal),
        ("F1-Abn", r => r.F1Pneumonia), ("DS", r => r.Dice), ("JS", r => r.Jaccard), ("HD", r => r.AverageHausdorff), ("P", r => r.Precision), ("R", r => r.Recall)]);

    /// <summary>What the losses act on, per model and counts: saliency on the lungs (eq. 3, the bridge's input), eq. 1's
    /// pseudo-label rate and accuracy, eq. 2's mask KL, and the CPU seconds a model took to train.</summary>
    public DataFrame Mechanisms(string domain) => Table(domain, [("saliency on lungs", r => r.SaliencyOnLungs),
        ("pseudo-label rate", r => r.PseudoLabelRate), ("pseudo-label acc", r => r.PseudoLabelAccuracy), ("mask KL", r => r.MaskKl), ("CPU s", r => r.CpuSeconds)]);

    private DataFrame Table(string domain, (string Name, Func<MultiMixRow, double> Value)[] measures)
    {
        var order = Enum.GetValues<MultiMixModel>().Select(MultiMixRuns.Name).ToList();
        var groups = Rows.Where(r => r.Domain == domain).GroupBy(r => (r.Model, r.LabelledLabels, r.LabelledMasks))
            .OrderBy(g => order.IndexOf(g.Key.Model)).ThenBy(g => g.Key.LabelledLabels).ThenBy(g => g.Key.LabelledMasks).ToList();
        string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
        string Cell(IEnumerable<double> values)
        {
            var (v, mean) = (values.Where(x => !double.IsNaN(x)).ToList(), values.Where(x => !double.IsNaN(x)).DefaultIfEmpty().Average());
            return v.Count == 0 ? "—" : v.Count == 1 ? F(mean) : $"{F(mean)} ± {F(Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1)))}";
        }
        string Count(int n) => n == 0 ? "—" : n.ToString(CultureInfo.InvariantCulture);
        var frame = new DataFrame(new StringDataFrameColumn("Model", groups.Select(g => g.Key.Model)),
            new StringDataFrameColumn("|D_l^c|", groups.Select(g => Count(g.Key.LabelledLabels))),
            new StringDataFrameColumn("|D_l^s|", groups.Select(g => Count(g.Key.LabelledMasks))),
            new Int32DataFrameColumn("seeds", groups.Select(g => g.Count())));
        foreach (var (name, value) in measures) frame.Columns.Add(new StringDataFrameColumn(name, groups.Select(g => Cell(g.Select(value)))));
        return frame;
    }

    /// <summary>ROC curves of P(pneumonia) on one test source, one per classifier of the example seed, with its AUC.</summary>
    public GenericChart RocCurves(string domain)
    {
        var set = MultiMixRuns.TestSet(Example.Values.First().Data, domain);
        var positive = set.Classes.Select(c => c == 1).ToArray();
        var curves = Example.Where(e => e.Value.Method.Options.Classification).Select(e =>
        {
            using var scope = torch.NewDisposeScope();
            var score = e.Value.Method.Predict(set.Images())[.., 1].data<float>().Select(v => (double)v).ToArray();
            var (fpr, tpr) = Ranking.RocCurve(positive, score);
            return Charts.Line(fpr, tpr, $"{MultiMixRuns.Name(e.Key)} (AUC {Ranking.RocAuc(positive, score):F3})",
                $"ROC, {domain}-domain test, seed {ExampleSeed}", "false positive rate", "true positive rate");
        }).ToList();
        return CSharpChart.Combine(curves);
    }

    /// <summary>Figs. 8–10 with the bridge made visible: for <paramref name="perClass"/> normal and pneumonia test images,
    /// the image with its reference mask, the saliency map (eq. 3, scaled to its maximum) of MultiMix's predicted class —
    /// what the bridge concatenates into its decoder — and each listed model's predicted mask with its Dice.</summary>
    public (List<float[,]> Images, List<float[,]?> Masks, List<string> Titles) MaskGrid(string domain, int perClass, params MultiMixModel[] models)
    {
        var multiMix = Example[MultiMixModel.MultiMix].Method;
        var set = MultiMixRuns.TestSet(Example[MultiMixModel.MultiMix].Data, domain);
        var (images, masks, titles) = (new List<float[,]>(), new List<float[,]?>(), new List<string>());
        foreach (var i in new[] { 0, 1 }.SelectMany(c => Enumerable.Range(0, set.Count).Where(i => set.Classes[i] == c).Take(perClass)))
        {
            using var scope = torch.NewDisposeScope();
            var (x, reference) = (set.Images([i]), set.Masks([i]));
            var saliency = multiMix.Saliency(x);
            images.AddRange([set.Image(i), Charts.Plane(saliency / saliency.max().clamp_min(1e-12))]);
            masks.AddRange([set.MaskImage(i), null]);
            titles.AddRange([$"{domain} #{i} {ChestXraySet.ClassNames[set.Classes[i]]}: reference", $"MultiMix p(pneumonia) {multiMix.Predict(x)[0, 1].ToDouble():F2}: saliency"]);
            foreach (var m in models)
            {
                var predicted = Example[m].Method.PredictMasks(x).ge(0.5).to(torch.float32);
                var dice = (2 * (predicted * reference).sum() / (predicted.sum() + reference.sum())).ToDouble();
                images.Add(set.Image(i)); masks.Add(Charts.Plane(predicted)); titles.Add($"{MultiMixRuns.Name(m)}: Dice {dice:F2}");
            }
        }
        return (images, masks, titles);
    }

    /// <summary>"What this run shows": the claims' sentences, then the mechanisms in numbers.</summary>
    public string Summary
    {
        get
        {
            bool Fewest(MultiMixRow r) => (r.LabelledMasks == 0 || r.LabelledMasks == Settings.FewestMasks) && (r.LabelledLabels == 0 || r.LabelledLabels == Settings.FewestLabels);
            string Mean(string model, Func<MultiMixRow, double> value, string domain = "in") =>
                Rows.Where(r => r.Model == model && r.Domain == domain && Fewest(r)).Select(value).Where(v => !double.IsNaN(v))
                    .DefaultIfEmpty(double.NaN).Average().ToString("G3", CultureInfo.InvariantCulture);
            return Claims.Summary + Environment.NewLine +
                $"- Mechanisms at the fewest counts (in-domain means over {Seeds.Count} seeds): MultiMix's saliency map puts {Mean("MultiMix", r => r.SaliencyOnLungs)}× " +
                $"the even share of its mass on the lungs (UMTL-SSL {Mean("UMTL-SSL", r => r.SaliencyOnLungs)}, Enc {Mean("Enc", r => r.SaliencyOnLungs)}); " +
                $"{Mean("MultiMix", r => r.PseudoLabelRate)} of its unlabelled images get a pseudo-label, {Mean("MultiMix", r => r.PseudoLabelAccuracy)} of them right; " +
                $"mask KL labelled vs test {Mean("UMTL-SSL", r => r.MaskKl)} with eq. 2's KL term (UMTL-SSL), {Mean("UMTL", r => r.MaskKl)} without (UMTL), " +
                $"{Mean("UMTL-SSL", r => r.MaskKl, "cross")} and {Mean("UMTL", r => r.MaskKl, "cross")} cross-domain.";
        }
    }

    /// <summary>results.json: every run's accuracy, AUC and Dice (null where not measured), the seeds and the claims; the CSV of all rows.</summary>
    public string? Save() => Result.Save(new
    {
        runs = Rows.Select(r => new { model = r.Model, labelled_masks = r.LabelledMasks, labelled_labels = r.LabelledLabels, domain = r.Domain,
            seed = r.Seed, accuracy = Nullable(r.Accuracy), auc = Nullable(r.Auc), dice = Nullable(r.Dice) }).ToArray(),
    });

    private static double? Nullable(double v) => double.IsNaN(v) ? null : v;
}

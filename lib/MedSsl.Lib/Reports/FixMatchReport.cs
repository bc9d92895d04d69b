using System.Globalization;
using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Experiments;
using MedSsl.Methods;
using MedSsl.Metrics;
using Microsoft.Data.Analysis;

namespace MedSsl.Reports;

/// <summary>Table 2's layout for the setting selected on validation F1: per class the test F1, precision and recall
/// (means over seeds), the support, and in how many seeds the class had no validation positive (threshold kept at ½).</summary>
public sealed record PerClassBest(
    [property: JsonPropertyName("head")] string Head,
    [property: JsonPropertyName("init")] string Init,
    [property: JsonPropertyName("label_fraction")] double LabelFraction,
    [property: JsonPropertyName("f1_weighted_validation")] double F1WeightedValidation,
    [property: JsonPropertyName("seeds")] int[] Seeds,
    [property: JsonPropertyName("classes")] PerClassScore[] Classes,
    [property: JsonPropertyName("weighted")] PerClassScore Weighted);

public sealed record PerClassScore(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("f1")] double F1,
    [property: JsonPropertyName("precision")] double Precision,
    [property: JsonPropertyName("recall")] double Recall,
    [property: JsonPropertyName("support")] int Support,
    [property: JsonPropertyName("unfitted_threshold_seeds")] int UnfittedThresholdSeeds);

/// <summary>The values results.json reports besides the seeds and claims.</summary>
public sealed record FixMatchHeadline(
    [property: JsonPropertyName("runs")] FixMatchRow[] Runs,
    [property: JsonPropertyName("per_class_best")] PerClassBest PerClassBest,
    [property: JsonPropertyName("deep_clustering_backbone")] string DeepClusteringBackbone);

/// <summary>The study's results: rows, claims, seeds, Table 2, the figures' series and the example model.</summary>
public sealed class FixMatchStudyResult(FixMatchStudySettings settings, ImageDataset data, FixMatchProtocol protocol,
    ProtocolResult<FixMatchSetting, FixMatchRun, FixMatchRow> result, string backbone)
    : ProtocolStudy<FixMatchSetting, FixMatchRun, FixMatchRow>(result)
{
    public FixMatchStudySettings Settings { get; } = settings;
    public ImageDataset Data { get; } = data;
    /// <summary>How the deep-clustering backbone was obtained.</summary>
    public string Backbone { get; } = backbone;
    /// <summary>The kept model: Two-Head from deep clustering at the largest fraction, for the example seed.</summary>
    public FixMatchMultiLabel Example => Result.Example(protocol.ExampleSetting).Method;

    /// <summary>Mean with 95 % CI per model, initialisation and fraction: test and validation F1, and the share of the
    /// unlabelled images that get a wrong pseudo-label at the end of training.</summary>
    public DataFrame Summary => Result.Study.Summarize(r => new { r.Head, r.Init, r.LabelFraction },
        [("f1_weighted", r => r.F1Weighted), ("f1_weighted_validation", r => r.F1WeightedValidation), ("wrong_pseudo_labels", r => r.WrongPseudoLabels)]);

    /// <summary>Weighted F1 per run as (series, labelled fraction in %, F1) for <see cref="Charts.MeanWithCi"/>.</summary>
    public IEnumerable<(string Series, double X, double Value)> F1Curves(params (StudyModel Model, Initialisation Init)[] series) =>
        series.SelectMany(s => Rows.Where(r => r.Is(s.Model, s.Init)).Select(r => (FixMatchRuns.DisplayName(s.Model, s.Init), r.LabelFraction * 100, r.F1Weighted)));

    /// <summary>The fraction of unlabelled images passing τ over training, per model with unlabelled loss: each run's
    /// per-step mask rate averaged in <paramref name="bins"/> windows, as (series, step, rate) (the band spans the runs).</summary>
    public IEnumerable<(string Series, double X, double Value)> MaskRateCurves(int bins = 15) =>
        protocol.Evaluations.Where(e => e.Value.MaskRates.Length > 0).SelectMany(e =>
        {
            var rates = e.Value.MaskRates;
            var width = Math.Max(1, rates.Length / bins);
            return Enumerable.Range(0, (rates.Length + width - 1) / width).Select(b =>
                (FixMatchRuns.DisplayName(e.Key.Setting.Model, e.Key.Setting.Init), b * width + Math.Min(width, rates.Length - b * width) / 2.0,
                 rates.Skip(b * width).Take(width).Average()));
        });

    /// <summary>Table 2: the setting (model, initialisation, fraction) with the highest mean validation F1 — never the
    /// test F1 — with its test scores per class averaged over the seeds.</summary>
    public PerClassBest Best()
    {
        var setting = protocol.Evaluations.Keys.Select(k => k.Setting).Distinct()
            .MaxBy(s => Rows.Where(r => r.Is(s.Model, s.Init) && r.LabelFraction == s.LabelFraction).Average(r => r.F1WeightedValidation))!;
        var runs = protocol.Evaluations.Where(e => e.Key.Setting == setting).OrderBy(e => e.Key.Seed).ToList();
        var reports = runs.Select(e => e.Value.Test).ToList();
        PerClassScore Score(string name, Func<MultiLabelReport, double> f1, Func<MultiLabelReport, double> precision, Func<MultiLabelReport, double> recall, int support, int unfitted) =>
            new(name, reports.Average(f1), reports.Average(precision), reports.Average(recall), support, unfitted);
        var validation = Rows.Where(r => r.Is(setting.Model, setting.Init) && r.LabelFraction == setting.LabelFraction).Average(r => r.F1WeightedValidation);
        return new PerClassBest(FixMatchRuns.HeadName(setting.Model), FixMatchRuns.InitName(setting.Init), setting.LabelFraction, validation,
            [.. runs.Select(e => e.Key.Seed)],
            [.. Data.LabelNames.Select((n, c) => Score(n, r => r.F1[c], r => r.Precision[c], r => r.Recall[c], reports[0].Support[c], runs.Count(e => e.Value.Unfitted[c])))],
            Score("weighted avg", r => r.WeightedF1, r => r.WeightedPrecision, r => r.WeightedRecall, reports[0].Support.Sum(), 0));
    }

    /// <summary>Table 2's layout for <see cref="Best"/>: one row per measure, one column per class and the weighted average;
    /// the last row counts the seeds in which a class kept the default threshold (no validation positive).</summary>
    public DataFrame BestTable()
    {
        var best = Best();
        var columns = new List<DataFrameColumn> { new StringDataFrameColumn("measure", ["F1-score", "precision", "recall", "n_labels", "threshold ½ (no validation positive), seeds"]) };
        foreach (var c in best.Classes.Append(best.Weighted))
            columns.Add(new DoubleDataFrameColumn(c.Name, [Math.Round(c.F1, 2), Math.Round(c.Precision, 2), Math.Round(c.Recall, 2), c.Support, c.UnfittedThresholdSeeds]));
        return new DataFrame(columns);
    }

    /// <summary>The first <paramref name="count"/> test images with their true organs and those the example model predicts
    /// (thresholds chosen on the validation images), for <see cref="Charts.ImageGrid"/> (Fig. 7's idea).</summary>
    public (IReadOnlyList<float[,]> Images, IReadOnlyList<string> Titles) ExamplePredictions(int count = 8)
    {
        var validation = Data.Where(DataSplit.Validation);
        var test = Data.Where(DataSplit.Test);
        var thresholds = new F1Thresholds().Fit(validation.LabelMatrix(), Example.Probabilities(validation));
        var shown = test.Subset([.. Enumerable.Range(0, Math.Min(count, test.Count))]);
        var predicted = thresholds.Predict(Example.Probabilities(shown));
        var truth = shown.LabelMatrix();
        string Organs(bool[,] m, int i) => string.Join("+", Data.LabelNames.Where((_, c) => m[i, c])) is { Length: > 0 } s ? s : "(none)";
        var images = Enumerable.Range(0, shown.Count).Select(i =>
        {
            var image = new float[shown.Height, shown.Width];
            Buffer.BlockCopy(shown.Image(i).ToArray(), 0, image, 0, sizeof(float) * image.Length);
            return image;
        }).ToList();
        string Title(string t, string p) => t == p ? $"✓ {t}" : $"✗ true {t}<br>predicted {p}";
        return (images, [.. Enumerable.Range(0, shown.Count).Select(i => Title(Organs(truth, i), Organs(predicted, i)))]);
    }

    /// <summary>"What this run shows": one sentence per claim, then the pseudo-label mechanism at the smallest fraction
    /// and the setting selected on validation, all computed from the rows.</summary>
    public string WhatThisRunShows
    {
        get
        {
            string Mean(StudyModel model, Func<FixMatchRow, double?> value)
            {
                var values = Rows.Where(r => r.Is(model, Initialisation.DeepClustering) && r.LabelFraction == protocol.SmallestFraction)
                    .Select(value).OfType<double>().ToList();
                return values.Count == 0 ? "n/a" : values.Average().ToString("0.000", CultureInfo.InvariantCulture);
            }
            string Mechanism(StudyModel model) => $"{FixMatchRuns.DisplayName(model, Initialisation.DeepClustering)}: {Mean(model, r => r.FinalMaskRate)} of the unlabelled " +
                $"images passed τ over the last tenth of training; at the end {Mean(model, r => r.CorrectPseudoLabels)} get a correct pseudo-label and " +
                $"{Mean(model, r => r.WrongPseudoLabels)} a wrong one";
            var best = Best();
            return Claims.Summary + Environment.NewLine +
                $"- Pseudo-labels at {protocol.SmallestFraction:P0} labelled (means over {Seeds.Count} seeds) — {Mechanism(StudyModel.OneHead)}; {Mechanism(StudyModel.TwoHead)}." + Environment.NewLine +
                $"- Selected on validation F1 (Table 2): {best.Head}-head, {best.Init.Replace('_', ' ')}, {best.LabelFraction:P0} labelled " +
                $"(validation {best.F1WeightedValidation:0.000}, test {best.Weighted.F1:0.000}); classes that kept threshold ½ in some seed: " +
                $"{(best.Classes.Where(c => c.UnfittedThresholdSeeds > 0).Select(c => c.Name).ToList() is { Count: > 0 } u ? string.Join(", ", u) : "none")}.";
        }
    }

    public FixMatchHeadline Headline => new([.. Rows], Best(), Backbone);

    /// <summary>results.json (headline, seeds, claims) and the CSV of all rows beside it.</summary>
    public string? Save() => Result.Save(Headline);
}

using System.Globalization;
using System.Text.Json.Serialization;
using MedSsl.Experiments;
using Microsoft.Data.Analysis;

namespace MedSsl.Reports;

/// <summary>A row of results.json's <c>f1</c>.</summary>
public sealed record S4miF1Entry(
    [property: JsonPropertyName("backbone")] string Backbone,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("label_fraction")] double LabelFraction,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("f1")] double F1);

/// <summary>The values results.json reports besides the claims: every F1 (the floor's too), CASS − DINO as the mean
/// over backbones, label fractions and seeds of the paired difference, and the floor's mean F1.</summary>
public sealed record S4miClassificationHeadline(
    [property: JsonPropertyName("f1")] S4miF1Entry[] F1,
    [property: JsonPropertyName("cass_minus_dino")] double CassMinusDino,
    [property: JsonPropertyName("all_positive_f1")] double AllPositiveF1);

/// <summary>The notebook's view of a run of <see cref="S4miClassificationProtocol"/>.</summary>
public sealed class S4miClassificationResults(ProtocolResult<S4miClassificationSetting, S4miClassifier, S4miClassificationRow> result,
    S4miExample example, S4miClassificationSettings settings)
    : ProtocolStudy<S4miClassificationSetting, S4miClassifier, S4miClassificationRow>(result)
{
    private static readonly string Floor = S4miClassificationProtocol.Floor;

    public S4miExample Example { get; } = example;
    public S4miClassificationSettings Settings { get; } = settings;

    /// <summary>The floor: mean test F1 of calling every finding present.</summary>
    public double AllPositiveF1 => Rows.Where(r => r.Method == Floor).Average(r => r.F1);

    /// <summary>Table 1's layout: F1 and saliency on the lesion, mean with 95 % CI over seeds per backbone × method ×
    /// fraction (the floor, which has no saliency, is in <see cref="F1Curves"/> and <see cref="AllPositiveF1"/>).</summary>
    public DataFrame Summary => new Study<S4miClassificationRow>("summary", [.. Rows.Where(r => r.Method != Floor)])
        .Summarize(r => new { r.Backbone, r.Method, r.LabelFraction }, [("f1", r => r.F1), ("saliency_on_lesion", r => r.SaliencyOnLesion)]);

    /// <summary>The collapse diagnostics, mean with 95 % CI over seeds: every starting backbone's embedding spread, DINO's
    /// teacher entropy ÷ log K and CASS's output spread × √K (one value per seed and backbone).</summary>
    public DataFrame Collapse
    {
        get
        {
            var low = Settings.LabelFractions.Min();
            var values = Rows.Where(r => r.Method != Floor && r.LabelFraction == low).SelectMany(r => new[]
            {
                (r.Backbone, r.Method, Measure: "embedding spread (test features)", Value: r.EmbeddingSpread),
                (r.Backbone, r.Method, Measure: "teacher entropy ÷ log K", Value: r.TeacherEntropy),
                (r.Backbone, r.Method, Measure: "CASS output spread × √K", Value: r.CassOutputSpread),
            }).Where(v => !double.IsNaN(v.Value)).ToList();
            return new Study<(string Backbone, string Method, string Measure, double Value)>("collapse", values)
                .Summarize(v => new { v.Measure, v.Backbone, v.Method }, [("value", v => v.Value)]);
        }
    }

    /// <summary>F1 against the label fraction per arm, the floor drawn as its own band.</summary>
    public IEnumerable<(string Series, double X, double Value)> F1Curves =>
        Rows.Where(r => r.Method != Floor).Select(r => ($"{r.Backbone} {r.Method}", r.LabelFraction, r.F1))
            .Concat(from r in Rows where r.Method == Floor from x in Settings.LabelFractions select ("all positive (floor)", x, r.F1));

    /// <summary>"What this run shows": the floor, the random-init baselines at the smallest and largest fraction, the
    /// pre-trainings' collapse diagnostics, then one sentence per claim — all computed from the rows.</summary>
    public string Findings
    {
        get
        {
            var (low, high) = (Settings.LabelFractions.Min(), Settings.LabelFractions.Max());
            double Mean(Func<S4miClassificationRow, bool> select, Func<S4miClassificationRow, double> value) => Rows.Where(select).Average(value);
            string F1(string b, string m, double f) => Mean(r => r.Backbone == b && r.Method == m && r.LabelFraction == f, r => r.F1).ToString("F3", CultureInfo.InvariantCulture);
            string Spread(string b, string m) => Mean(r => r.Backbone == b && r.Method == m && r.LabelFraction == low, r => r.EmbeddingSpread).ToString("F2", CultureInfo.InvariantCulture);
            List<string> lines =
            [
                $"Over {Seeds.Count} seeds, calling every finding present scores F1 {AllPositiveF1.ToString("F3", CultureInfo.InvariantCulture)} (the floor).",
                .. S4miClassificationProtocol.Backbones.Select(b =>
                    $"{b.ToUpperInvariant()} from random weights: F1 {F1(b, "supervised", low)} with {low:P0} of the labels, {F1(b, "supervised", high)} with {high:P0}; " +
                    $"DINO {F1(b, "dino", low)}, CASS {F1(b, "cass", low)} at {low:P0}."),
                $"Collapse diagnostics: DINO's teacher entropy ÷ log K {Mean(r => r.Method == "dino" && r.LabelFraction == low, r => r.TeacherEntropy).ToString("F2", CultureInfo.InvariantCulture)}, " +
                $"CASS's output spread × √K {Mean(r => r.Method == "cass" && r.LabelFraction == low, r => r.CassOutputSpread).ToString("F2", CultureInfo.InvariantCulture)} (0 = collapsed); " +
                "embedding spread (random init / DINO / CASS): " +
                string.Join("; ", S4miClassificationProtocol.Backbones.Select(b => $"{b} {Spread(b, "supervised")} / {Spread(b, "dino")} / {Spread(b, "cass")}")) + ".",
                "",
                Claims.Summary,
            ];
            return string.Join(Environment.NewLine, lines);
        }
    }

    public S4miClassificationHeadline Headline => new(
        [.. Rows.Select(r => new S4miF1Entry(r.Backbone, r.Method, r.LabelFraction, r.Seed, r.F1))],
        (from c in Rows where c.Method == "cass"
         join d in Rows.Where(d => d.Method == "dino") on (c.Backbone, c.LabelFraction, c.Seed) equals (d.Backbone, d.LabelFraction, d.Seed)
         select c.F1 - d.F1).Average(),
        AllPositiveF1);

    /// <summary>results.json (the headline, seeds, claims) and the CSV of all rows beside it.</summary>
    public string? Save() => Result.Save(Headline);
}

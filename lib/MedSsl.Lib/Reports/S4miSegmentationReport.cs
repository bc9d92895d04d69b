using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Experiments;
using TorchSharp;

namespace MedSsl.Reports;

/// <summary>A row of results.json's <c>iou</c>.</summary>
public sealed record SegmentationIou(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("network")] string Network,
    [property: JsonPropertyName("label_fraction")] double LabelFraction,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("iou")] double Iou);

/// <summary>The values results.json reports beside the claims: every network's test IoU, and per network and labelled
/// fraction (keys: the fraction as written in the rows, e.g. "0.1") the mean over seeds of cross-teaching's IoU minus
/// the supervised network's on the same data.</summary>
public sealed record S4miSegmentationHeadline(
    [property: JsonPropertyName("iou")] SegmentationIou[] Iou,
    [property: JsonPropertyName("cross_teaching_minus_supervised")] IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> CrossTeachingMinusSupervised);

/// <summary>The protocol's results: every row, the claims, summaries with 95 % CIs, Fig. 5's curve, and the example
/// seed's predicted masks.</summary>
public sealed class S4miSegmentationStudy(S4miSegmentationProtocol protocol, ProtocolResult<SegmentationSetting, SegmentationRun, SegmentationRow> result)
    : ProtocolStudy<SegmentationSetting, SegmentationRun, SegmentationRow>(result)
{
    public S4miSegmentationSettings Settings => protocol.Settings;
    public Study<SegmentationRow> Study => Result.Study;

    /// <summary>Mean test IoU, Dice and validation IoU with 95 % CIs per method, network and labelled fraction.</summary>
    public Microsoft.Data.Analysis.DataFrame Summary => Study.Summarize(r => new { r.Method, r.Network, r.LabelFraction },
        [("iou", r => r.Iou), ("dice", r => r.Dice), ("validation_iou", r => r.ValidationIou)]);

    /// <summary>The mechanism: U-Net ↔ Swin-UNet agreement on the unlabelled images with 95 % CIs per method and
    /// fraction (runs with unlabelled images and both networks).</summary>
    public Microsoft.Data.Analysis.DataFrame Agreement =>
        new Study<SegmentationRow>("agreement", [.. Rows.Where(r => r.Network == S4miSegmentationProtocol.Cnn && !double.IsNaN(r.Agreement))])
            .Summarize(r => new { r.Method, r.LabelFraction }, [("agreement", r => r.Agreement)]);

    /// <summary>Fig. 5: every network's test IoU against the labelled fraction (%), one series per method and network.</summary>
    public IEnumerable<(string Series, double X, double Value)> Curve =>
        Rows.Select(r => (r.Method == S4miSegmentationProtocol.Picie ? "PiCIE (U-Net)" : $"{r.Method} ({S4miSegmentationProtocol.NetworkName(r.Network)})",
            r.LabelFraction * 100, r.Iou));

    /// <summary>Mean over seeds of cross-teaching minus supervised test IoU, per network and fraction, paired by seed.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> CrossTeachingMinusSupervised =>
        Rows.Where(r => r.Method == S4miSegmentationProtocol.CrossTeaching).GroupBy(r => r.Network).ToDictionary(n => n.Key,
            n => (IReadOnlyDictionary<string, double>)n.GroupBy(r => r.LabelFraction).OrderBy(g => g.Key).ToDictionary(g => g.Key.ToString(CultureInfo.InvariantCulture),
                g => g.Average(ct => ct.Iou - Rows.Single(s => s.Method == S4miSegmentationProtocol.Supervised && s.Network == ct.Network && s.LabelFraction == g.Key && s.Seed == ct.Seed).Iou)));

    public S4miSegmentationHeadline Headline =>
        new([.. Rows.Select(r => new SegmentationIou(r.Method, r.Network, r.LabelFraction, r.Seed, r.Iou))], CrossTeachingMinusSupervised);

    /// <summary>results.json (the headline, seeds and claims) and the CSV of all rows beside it.</summary>
    public string? Save() => Result.Save(Headline);

    /// <summary>Four test images of the example seed (grey), each with the true lesion and each kept network's mask.</summary>
    public IReadOnlyList<(string Title, float[,] Image, float[,] Mask)> Examples()
    {
        var data = Settings.Data(protocol.ExampleSeed);
        using var scope = torch.NewDisposeScope();
        var shown = data.IndicesOf(DataSplit.Test).Take(4).ToArray();
        var images = data.ImageBatch(shown);
        var grey = S4miFigures.Luminance(images);
        var masks = new List<(string, torch.Tensor)> { ("true lesion", data.MaskBatch(shown)) };
        foreach (var (_, setting, run) in Result.Examples)
            foreach (var (network, segmenter, which) in run.Networks)
                masks.Add(($"{protocol.Describe(setting)} ({network})", segmenter.Predict(images, which)));
        return [.. from k in Enumerable.Range(0, shown.Length) from m in masks
                   select ($"{m.Item1}, {data.Images.ExamId(shown[k])}", Charts.Plane(grey[k]), Charts.Plane(m.Item2[k]))];
    }

    /// <summary>"What this run shows": the claims' sentences and the mechanism's numbers, computed from the rows.</summary>
    public string WhatThisRunShows()
    {
        string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
        double Mean(string method, string network, double fraction, Func<SegmentationRow, double> value) =>
            Rows.Where(r => r.Method == method && r.Network == network && r.LabelFraction == fraction).Select(value).DefaultIfEmpty(double.NaN).Average();
        var (lowest, all) = (Settings.Fractions.Min(), Settings.Fractions.Max());
        var text = new StringBuilder();
        text.AppendLine($"{Seeds.Description}; {Settings.Steps} steps per run, {Settings.Appearance.ToString().ToLowerInvariant()} lesions.");
        text.AppendLine($"- Gap to recover: the supervised U-Net's test IoU is {F(Mean(S4miSegmentationProtocol.Supervised, S4miSegmentationProtocol.Cnn, lowest, r => r.Iou))} " +
            $"with {lowest:P0} of the labels and {F(Mean(S4miSegmentationProtocol.Supervised, S4miSegmentationProtocol.Cnn, all, r => r.Iou))} with {all:P0}.");
        text.AppendLine($"- Mechanism at {lowest:P0}: the U-Net and the Swin-UNet agree on the unlabelled images with IoU " +
            $"{F(Mean(S4miSegmentationProtocol.CrossTeaching, S4miSegmentationProtocol.Cnn, lowest, r => r.Agreement))} after cross-teaching, " +
            $"{F(Mean(S4miSegmentationProtocol.Supervised, S4miSegmentationProtocol.Cnn, lowest, r => r.Agreement))} when trained apart.");
        var picie = Rows.Where(r => r.Method == S4miSegmentationProtocol.Picie).ToList();
        text.AppendLine($"- PiCIE: mean test IoU {F(picie.Average(r => r.Iou))}; {picie.Count(r => r.Iou < 0.05)} of {picie.Count} seeds below 0.05 (one cluster for every pixel).");
        text.AppendLine("Claims:");
        text.Append(Claims.Summary);
        return text.ToString();
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using MedSsl.Experiments;
using Microsoft.Data.Analysis;
using static MedSsl.Experiments.InerrantMeasures;
using static MedSsl.Experiments.InerrantMethods;

namespace MedSsl.Reports;

/// <summary>Table 6 row of results.json: a confidence's failure prediction, mean over the seeds that have it, on step
/// 1's candidates or on the test volumes' predictions; <c>pixels</c> is the mean number of pixels ranked.</summary>
public sealed record InerrantConfidenceRow(
    [property: JsonPropertyName("alpha")] double Alpha,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("on")] string On,
    [property: JsonPropertyName("n")] int Count,
    [property: JsonPropertyName("pixels")] double Pixels,
    [property: JsonPropertyName("auc")] double Auc,
    [property: JsonPropertyName("ap_error")] double ApError);

/// <summary>Table 7 row of results.json: after relabeling step t, mean over seeds (null where the method relabels nothing).</summary>
public sealed record InerrantStepRow(
    [property: JsonPropertyName("alpha")] double Alpha,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("precision")] double? Precision,
    [property: JsonPropertyName("recall")] double? Recall,
    [property: JsonPropertyName("relabeled")] double? Relabeled,
    [property: JsonPropertyName("dice")] double Dice);

/// <summary>results.json's headline: every value is a mean over seeds of rows in the CSV beside it.</summary>
public sealed record InerrantHeadline(
    [property: JsonPropertyName("dice_mean")] IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> DiceMean,
    [property: JsonPropertyName("confidence")] IReadOnlyList<InerrantConfidenceRow> Confidence,
    [property: JsonPropertyName("relabeling")] IReadOnlyList<InerrantStepRow> Relabeling);

/// <summary>Notebook 03's tables, results.json headline and generated summary, from the protocol's rows.</summary>
public static class InerrantReport
{
    public static DataFrame DiceSummary(InerrantResult study) =>
        new Study<InerrantRow>("dice", [.. study.MeanDice]).Summarize(r => new { r.Method, r.Alpha }, [("dice", r => r.Value)]);

    public static DataFrame RelabelingTable(InerrantResult study) => new Study<InerrantRow>("relabeling", [.. study.Rows.Where(r => r.Measure == Precision)])
        .Summarize(r => new { r.Alpha, r.Method, r.Step }, [("precision", r => r.Value), ("recall", r => study.Of(r, Recall)!.Value),
            ("relabeled", r => study.Of(r, Relabeled)!.Value), ("candidates", r => study.Of(r, Candidates) ?? 0)]);

    public static InerrantHeadline Headline(InerrantResult study)
    {
        var diceMean = All.Where(m => study.MeanDice.Any(r => r.Method == m)).ToDictionary(m => m, m => (IReadOnlyDictionary<string, double>)study.MeanDice
            .Where(r => r.Method == m).GroupBy(r => r.Alpha).OrderBy(g => g.Key).ToDictionary(g => InerrantResult.AlphaKey(g.Key), g => g.Average(r => r.Value)));
        var confidence = (from alpha in study.Scale.RelabelAlphas
                          from method in new[] { Mcp, Learned, LearnedFrozen }
                          from kind in new[] { (Name: "step1_candidates", Auc, ApError, Pixels: Candidates), (Name: "test_predictions", Auc: TestAuc, ApError: TestApError, Pixels: TestPredictions) }
                          let auc = study.Mean(alpha, method, kind.Auc, 1)
                          where auc.Seeds > 0
                          select new InerrantConfidenceRow(alpha, method, kind.Name, auc.Seeds, study.Mean(alpha, method, kind.Pixels, 1).Mean, auc.Mean,
                              study.Mean(alpha, method, kind.ApError, 1).Mean)).ToList();
        double? MeanOf(IEnumerable<InerrantRow> group, string measure) =>
            group.Select(r => study.Of(r, measure)).Where(v => v is not null).Select(v => v!.Value).ToList() is { Count: > 0 } values ? values.Average() : null;
        var relabeling = study.Rows.Where(r => r.Measure == DiceAfterStep).GroupBy(r => (r.Alpha, r.Method, r.Step))
            .OrderBy(g => g.Key.Alpha).ThenBy(g => g.Key.Method).ThenBy(g => g.Key.Step)
            .Select(g => new InerrantStepRow(g.Key.Alpha, g.Key.Method, g.Key.Step, MeanOf(g, Precision), MeanOf(g, Recall), MeanOf(g, Relabeled),
                g.Average(r => r.Value))).ToList();
        return new InerrantHeadline(diceMean, confidence, relabeling);
    }

    public static string Summary(InerrantResult study)
    {
        var text = new StringBuilder(study.Claims.Summary).AppendLine();
        string F((double Mean, int Seeds) v) => v.Mean.ToString("0.000", CultureInfo.InvariantCulture) + (v.Seeds < study.Seeds.Count ? $" ({v.Seeds} seeds)" : "");
        foreach (var alpha in study.Scale.RelabelAlphas)
        {
            (double Mean, int Seeds) M(string method, string measure, int step = 1) => study.Mean(alpha, method, measure, step);
            var T = study.Scale.Options.RelabelingSteps;
            text.AppendLine($"- At α = {alpha:P0}: INERRANT⁰'s mean Dice {F(M(Inerrant0, Dice, 0))}. Step 1 ranks {M(Learned, Candidates).Mean:0} candidates " +
                $"and relabels {M(Learned, Relabeled).Mean:0} (precision: learned {F(M(Learned, Precision))}, frozen {F(M(LearnedFrozen, Precision))}, MCP {F(M(Mcp, Precision))}); " +
                $"{M(Learned, Relabeled, T).Mean:0} pixels after step {T} (recall {F(M(Learned, Recall, T))}).");
            text.AppendLine($"- Failure AUC on step 1's candidates: learned {F(M(Learned, Auc))}, frozen {F(M(LearnedFrozen, Auc))}, MCP {F(M(Mcp, Auc))}; " +
                $"on the {M(Mcp, TestPredictions).Mean:0} test predictions: learned {F(M(Learned, TestAuc))}, frozen {F(M(LearnedFrozen, TestAuc))}, MCP {F(M(Mcp, TestAuc))}.");
            text.AppendLine($"- Confidence loss over the first training: fine-tuned {F(M(Learned, ConfidenceLossStart))} → {F(M(Learned, ConfidenceLossEnd))}, " +
                $"frozen {F(M(LearnedFrozen, ConfidenceLossStart))} → {F(M(LearnedFrozen, ConfidenceLossEnd))}; final Dice fine-tuned {F(M(Learned, Dice, 0))}, " +
                $"frozen {F(M(LearnedFrozen, Dice, 0))}, MCP {F(M(Mcp, Dice, 0))}.");
        }
        return text.ToString();
    }
}

/// <summary>What the protocol leaves: the rows, the claims, the example run, and the paper's tables (its figures are
/// <see cref="InerrantFigures"/>).</summary>
public sealed class InerrantResult(InerrantScale scale, ProtocolResult<double, InerrantRun, InerrantRow> result, double exampleAlpha)
    : ProtocolStudy<double, InerrantRun, InerrantRow>(result)
{
    public InerrantScale Scale { get; } = scale;
    public double ExampleAlpha { get; } = exampleAlpha;
    public InerrantRun ExampleRun => Result.Example(ExampleAlpha);
    public InerrantExample? Example => ExampleRun.Example;

    /// <summary>The final models' mean Dice over organs.</summary>
    public IEnumerable<InerrantRow> MeanDice => Rows.Where(r => r.Measure == Dice && r.Organ == InerrantRow.AllOrgans);

    /// <summary>Another measure of the same seed, α, method and step as <paramref name="like"/>, if it was recorded.</summary>
    public double? Of(InerrantRow like, string measure) =>
        Rows.FirstOrDefault(r => r.Seed == like.Seed && r.Alpha == like.Alpha && r.Method == like.Method && r.Step == like.Step && r.Measure == measure)?.Value;

    /// <summary>The mean over seeds of one measure (NaN when no seed has it) and how many seeds have it.</summary>
    public (double Mean, int Seeds) Mean(double alpha, string method, string measure, int step = 0)
    {
        var values = Rows.Where(r => r.Is(alpha, method, measure, step)).Select(r => r.Value).ToList();
        return (values.DefaultIfEmpty(double.NaN).Average(), values.Count);
    }

    /// <summary>Mean Dice over organs, per method and α, with the 95 % interval over seeds (Table 4).</summary>
    public DataFrame DiceSummary => InerrantReport.DiceSummary(this);
    /// <summary>Pseudo-labels after each step: precision, recall, count and candidates, mean over seeds with intervals (Table 7).</summary>
    public DataFrame RelabelingTable => InerrantReport.RelabelingTable(this);
    public InerrantHeadline Headline => InerrantReport.Headline(this);
    /// <summary>"What this run shows": the claims' sentences, then the mechanism numbers they rest on.</summary>
    public string Summary => InerrantReport.Summary(this);

    /// <summary>results.json (the headline, seeds, claims) and the CSV of every row beside it.</summary>
    public string? Save(RunContext? context = null) => Result.Save(Headline, context);

    /// <summary>α as a key of dice_mean: "0.3", "0.7".</summary>
    public static string AlphaKey(double alpha) => alpha.ToString("0.##", CultureInfo.InvariantCulture);
}

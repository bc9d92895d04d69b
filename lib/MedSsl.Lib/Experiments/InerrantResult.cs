using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Reports;
using Microsoft.Data.Analysis;
using Plotly.NET;
using static MedSsl.Experiments.InerrantMeasures;

namespace MedSsl.Experiments;

/// <summary>The entry point notebook 03 calls.</summary>
public static partial class InerrantStudy
{
    /// <summary>Runs the protocol of <paramref name="profile"/>; the figures come from seed <paramref name="seed"/> at
    /// <paramref name="exampleAlpha"/>, which must be a seed of the profile's plan and a proportion it relabels at.</summary>
    public static InerrantResult RunStudy(RunProfile profile, int seed = SeedPlan.FirstFresh, double exampleAlpha = 0.7) =>
        RunStudy(InerrantScale.For(profile), seed, exampleAlpha);

    public static InerrantResult RunStudy(InerrantScale scale, int seed, double exampleAlpha)
    {
        if (!scale.Seeds.Seeds.Contains(seed))
            throw new ArgumentOutOfRangeException(nameof(seed), seed, $"Seed must be one of the profile's seeds ({string.Join(", ", scale.Seeds.Seeds)}): the example run is one of the runs the claims are computed from");
        if (!scale.RelabelAlphas.Contains(exampleAlpha))
            throw new ArgumentOutOfRangeException(nameof(exampleAlpha), exampleAlpha, $"ExampleAlpha must be a proportion the profile relabels at ({string.Join(", ", scale.RelabelAlphas)})");
        var protocol = new InerrantProtocol(scale, seed, exampleAlpha);
        return new InerrantResult(protocol, ProtocolRunner.Run(protocol), exampleAlpha);
    }
}

/// <summary>Table 6 row of results.json: a confidence's failure prediction on step 1's candidates, mean over seeds.</summary>
public sealed record InerrantConfidenceRow(
    [property: JsonPropertyName("alpha")] double Alpha,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("n")] int Count,
    [property: JsonPropertyName("auc")] double Auc,
    [property: JsonPropertyName("ap_success")] double ApSuccess,
    [property: JsonPropertyName("ap_error")] double ApError);

/// <summary>Table 7 row of results.json: after relabeling step t, mean over seeds.</summary>
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

/// <summary>What the protocol leaves: the rows, the claims, the example run, and the paper's tables and figures.</summary>
public sealed class InerrantResult(InerrantProtocol protocol, ProtocolResult<double, InerrantRun, InerrantRow> result, double exampleAlpha) : IDisposable
{
    public InerrantScale Scale => protocol.Scale;
    public IReadOnlyList<InerrantRow> Rows => result.Rows;
    public ClaimTable Claims => result.Claims;
    public SeedPlan Seeds => result.Seeds;
    public TimeSpan Elapsed => result.Elapsed;
    public double ExampleAlpha { get; } = exampleAlpha;
    public InerrantRun ExampleRun => result.Example(ExampleAlpha);
    public InerrantExample? Example => ExampleRun.Example;

    private IEnumerable<InerrantRow> MeanDice => Rows.Where(r => r.Measure == Dice && r.Organ == InerrantRow.AllOrgans);
    private IEnumerable<string> Methods => InerrantMethods.All.Where(m => Rows.Any(r => r.Method == m));

    /// <summary>Mean Dice over organs, per method and α, with the 95 % interval over seeds (Table 4).</summary>
    public DataFrame DiceSummary => new Study<InerrantRow>("dice", [.. MeanDice]).Summarize(r => new { r.Method, r.Alpha }, [("dice", r => r.Value)]);

    public GenericChart DiceFigure() => Charts.MeanWithCi(MeanDice.Select(r => (r.Method, r.Alpha, r.Value)),
        "Mean Dice on the completely annotated test volumes", "proportion of annotated organs α", "mean Dice over organs");

    /// <summary>Dice of every organ over seeds at the example's α for naive, INERRANT⁰ and INERRANT (Figure 4's per-patient boxes).</summary>
    public GenericChart PerOrganFigure() => Charts.BoxWithCi(Rows
            .Where(r => r.Measure == Dice && r.Organ != InerrantRow.AllOrgans && r.Alpha == ExampleAlpha
                && r.Method is InerrantMethods.Naive or InerrantMethods.Inerrant0 or InerrantMethods.Learned)
            .OrderBy(r => r.Organ, StringComparer.Ordinal).ThenBy(r => InerrantMethods.All.ToList().IndexOf(r.Method))
            .Select(r => ($"{r.Organ} · {r.Method}", r.Value)),
        $"Dice per organ over seeds, α = {ExampleAlpha:P0}", "Dice (test)");

    /// <summary>The failure-prediction AUC of MCP and of the learned confidence on step 1's candidates, every seed a point.</summary>
    public GenericChart FailureFigure() => Charts.BoxWithCi(Rows
            .Where(r => r.Measure == Auc && r.Step == 1 && r.Method is InerrantMethods.Mcp or InerrantMethods.Learned)
            .Select(r => ($"{r.Method}, α {r.Alpha:P0}", r.Value)),
        "Failure prediction on step 1's candidates (Table 6)", "AUC (correct vs wrong candidates)");

    /// <summary>Test Dice after each relabeling step (step 0: INERRANT⁰), mean over seeds with its interval (Table 7).</summary>
    public GenericChart StepFigure() => Charts.MeanWithCi(
        Rows.Where(r => r.Alpha == ExampleAlpha && r.Measure == DiceAfterStep).Select(r => (r.Method, (double)r.Step, r.Value))
            .Concat(MeanDice.Where(r => r.Alpha == ExampleAlpha && r.Method == InerrantMethods.Inerrant0)
                .SelectMany(r => Rows.Where(s => s.Alpha == ExampleAlpha && s.Measure == DiceAfterStep).Select(s => s.Method).Distinct()
                    .Select(m => (m, 0.0, r.Value)))),
        $"Test Dice after each fine-tuning step, α = {ExampleAlpha:P0}", "step t (0: INERRANT⁰)", "mean Dice over organs");

    /// <summary>Pseudo-labels after each step: precision, recall and count, mean over seeds with intervals (Table 7).</summary>
    public DataFrame RelabelingTable => new Study<StepQuality>("relabeling",
        [.. Rows.Where(r => r.Measure == Precision).Select(r => new StepQuality(r.Alpha, r.Method, r.Step, r.Value, Find(r, Recall), Find(r, Relabeled)))])
        .Summarize(r => new { r.Alpha, r.Method, r.Step }, [("precision", r => r.Precision), ("recall", r => r.Recall), ("relabeled", r => r.Relabeled)]);

    private sealed record StepQuality(double Alpha, string Method, int Step, double Precision, double Recall, double Relabeled);

    private double Find(InerrantRow like, string measure) =>
        Rows.Single(r => r.Seed == like.Seed && r.Alpha == like.Alpha && r.Method == like.Method && r.Step == like.Step && r.Measure == measure).Value;

    public InerrantHeadline Headline
    {
        get
        {
            var diceMean = Methods.ToDictionary(m => m, m => (IReadOnlyDictionary<string, double>)MeanDice.Where(r => r.Method == m)
                .GroupBy(r => r.Alpha).OrderBy(g => g.Key).ToDictionary(g => AlphaKey(g.Key), g => g.Average(r => r.Value)));
            var confidence = Rows.Where(r => r.Measure == Auc && r.Step == 1 && r.Method is InerrantMethods.Mcp or InerrantMethods.Learned)
                .GroupBy(r => (r.Alpha, r.Method)).OrderBy(g => g.Key.Alpha).ThenBy(g => g.Key.Method)
                .Select(g => new InerrantConfidenceRow(g.Key.Alpha, g.Key.Method, g.Count(), g.Average(r => r.Value),
                    g.Average(r => Find(r, ApSuccess)), g.Average(r => Find(r, ApError)))).ToList();
            var relabeling = Rows.Where(r => r.Measure == DiceAfterStep).GroupBy(r => (r.Alpha, r.Method, r.Step))
                .OrderBy(g => g.Key.Alpha).ThenBy(g => g.Key.Method).ThenBy(g => g.Key.Step)
                .Select(g => new InerrantStepRow(g.Key.Alpha, g.Key.Method, g.Key.Step,
                    Mean(g, Precision), Mean(g, Recall), Mean(g, Relabeled), g.Average(r => r.Value))).ToList();
            return new InerrantHeadline(diceMean, confidence, relabeling);
        }
    }

    /// <summary>The mean over <paramref name="group"/>'s runs of another measure of the same step (null where it has none,
    /// as the control has no pseudo-labels).</summary>
    private double? Mean(IEnumerable<InerrantRow> group, string measure)
    {
        var values = group.Select(g => Rows.FirstOrDefault(r => r.Seed == g.Seed && r.Alpha == g.Alpha && r.Method == g.Method && r.Step == g.Step && r.Measure == measure))
            .Where(r => r is not null).Select(r => r!.Value).ToList();
        return values.Count == 0 ? null : values.Average();
    }

    /// <summary>"What this run shows": the claims' sentences, then the mechanism numbers they rest on.</summary>
    public string Summary
    {
        get
        {
            var text = new StringBuilder(Claims.Summary).AppendLine();
            string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
            foreach (var alpha in Scale.RelabelAlphas)
            {
                double Avg(string method, string measure, int step) =>
                    Rows.Where(r => r.Alpha == alpha && r.Is(method, measure, step)).Select(r => r.Value).DefaultIfEmpty(double.NaN).Average();
                var T = Scale.Options.RelabelingSteps;
                text.AppendLine($"- At α = {alpha:P0}: INERRANT⁰'s mean Dice {F(Avg(InerrantMethods.Inerrant0, Dice, 0))}; step 1 relabels " +
                    $"{Avg(InerrantMethods.Learned, Relabeled, 1):0} pixels on average (learned confidence, precision {F(Avg(InerrantMethods.Learned, Precision, 1))}; " +
                    $"MCP {F(Avg(InerrantMethods.Mcp, Precision, 1))}), {Avg(InerrantMethods.Learned, Relabeled, T):0} after step {T} (recall {F(Avg(InerrantMethods.Learned, Recall, T))}); " +
                    $"failure AUC learned {F(Avg(InerrantMethods.Learned, Auc, 1))} vs MCP {F(Avg(InerrantMethods.Mcp, Auc, 1))}; " +
                    $"confidence loss {F(Avg(InerrantMethods.Learned, ConfidenceLossStart, 1))} → {F(Avg(InerrantMethods.Learned, ConfidenceLossEnd, 1))} in the first training.");
            }
            return text.ToString();
        }
    }

    /// <summary>results.json (the headline, seeds, claims) and the CSV of every row beside it.</summary>
    public string? Save(RunContext? context = null) => result.Save(Headline, context);

    /// <summary>α as a key of dice_mean: "0.3", "0.7".</summary>
    public static string AlphaKey(double alpha) => alpha.ToString("0.##", CultureInfo.InvariantCulture);

    public void Dispose() => result.Dispose();
}

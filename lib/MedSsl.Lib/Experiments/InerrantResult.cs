using System.Globalization;
using MedSsl.Data;
using MedSsl.Reports;
using Microsoft.Data.Analysis;
using static MedSsl.Experiments.InerrantMeasures;

namespace MedSsl.Experiments;

/// <summary>The entry point notebook 03 calls.</summary>
public static class InerrantStudy
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
        return new InerrantResult(protocol.Scale, ProtocolRunner.Run(protocol), exampleAlpha);
    }
}

/// <summary>What the protocol leaves: the rows, the claims, the example run, and the paper's tables (its figures are
/// <see cref="InerrantFigures"/>).</summary>
public sealed class InerrantResult(InerrantScale scale, ProtocolResult<double, InerrantRun, InerrantRow> result, double exampleAlpha) : IDisposable
{
    public InerrantScale Scale { get; } = scale;
    public IReadOnlyList<InerrantRow> Rows => result.Rows;
    public ClaimTable Claims => result.Claims;
    public SeedPlan Seeds => result.Seeds;
    public TimeSpan Elapsed => result.Elapsed;
    public double ExampleAlpha { get; } = exampleAlpha;
    public InerrantRun ExampleRun => result.Example(ExampleAlpha);
    public InerrantExample? Example => ExampleRun.Example;

    /// <summary>The final models' mean Dice over organs.</summary>
    public IEnumerable<InerrantRow> MeanDice => Rows.Where(r => r.Measure == Dice && r.Organ == InerrantRow.AllOrgans);

    /// <summary>Another measure of the same seed, α, method and step as <paramref name="like"/>, if it was recorded.</summary>
    public double? Of(InerrantRow like, string measure) =>
        Rows.FirstOrDefault(r => r.Seed == like.Seed && r.Alpha == like.Alpha && r.Method == like.Method && r.Step == like.Step && r.Measure == measure)?.Value;

    /// <summary>The mean over seeds of one measure (NaN when no seed has it) and how many seeds have it.</summary>
    public (double Mean, int Seeds) Mean(double alpha, string method, string measure, int step = 0)
    {
        var values = Rows.Where(r => r.Alpha == alpha && r.Is(method, measure, step)).Select(r => r.Value).ToList();
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
    public string? Save(RunContext? context = null) => result.Save(Headline, context);

    /// <summary>α as a key of dice_mean: "0.3", "0.7".</summary>
    public static string AlphaKey(double alpha) => alpha.ToString("0.##", CultureInfo.InvariantCulture);

    public void Dispose() => result.Dispose();
}

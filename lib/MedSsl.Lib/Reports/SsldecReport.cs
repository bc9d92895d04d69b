using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Experiments;
using MedSsl.Metrics;
using Microsoft.Data.Analysis;

namespace MedSsl.Reports;

/// <summary>The values results.json reports (the test suite reads these names): mean accuracies with random labels per
/// model and with well-spread ones, SSLDEC's median, whether its worst run has the highest clustering loss.</summary>
public sealed record HalfMoonsHeadline(
    [property: JsonPropertyName("accuracy_supervised")] double AccuracySupervised,
    [property: JsonPropertyName("accuracy_supervised_jitter")] double AccuracySupervisedJitter,
    [property: JsonPropertyName("accuracy_pseudo_label")] double AccuracyPseudoLabel,
    [property: JsonPropertyName("accuracy_ssldec")] double AccuracySsldec,
    [property: JsonPropertyName("accuracy_ssldec_median")] double AccuracySsldecMedian,
    [property: JsonPropertyName("accuracy_supervised_jitter_well_spread")] double AccuracySupervisedJitterWellSpread,
    [property: JsonPropertyName("accuracy_ssldec_well_spread")] double AccuracySsldecWellSpread,
    [property: JsonPropertyName("worst_random_run_has_highest_clustering_loss")] bool WorstRunHasHighestLoss);

/// <summary>The protocol's results: every row, the summary per model and placement, the claims, the headline values,
/// and the example seed's runs with random labels (so the figures show the very models the numbers come from).</summary>
public sealed class HalfMoonsStudy(ProtocolResult<HalfMoonsSetting, HalfMoonsRun, HalfMoonsRow> result)
    : ProtocolStudy<HalfMoonsSetting, HalfMoonsRun, HalfMoonsRow>(result)
{

    /// <summary>The example seed's run of <paramref name="model"/> with random labels.</summary>
    public HalfMoonsRun Example(HalfMoonsModel model) => Result.Example(new HalfMoonsSetting(LabelPlacement.Random, model));

    /// <summary>Mean accuracy and clustering loss with 95 % CIs per model and label placement.</summary>
    public DataFrame Summary =>
        Result.Study.Summarize(r => new { r.Model, r.Placement }, [("accuracy", r => r.Accuracy), ("clustering_loss", r => r.ClusteringLoss)]);

    /// <summary>Accuracies of one model and placement, in seed order.</summary>
    public IReadOnlyList<double> Accuracies(HalfMoonsModel model, LabelPlacement placement = LabelPlacement.Random) =>
        [.. Rows.Where(r => r.Model == model && r.Placement == placement).OrderBy(r => r.Seed).Select(r => r.Accuracy)];

    /// <summary>SSLDEC's runs with random labels, in seed order.</summary>
    private List<HalfMoonsRow> SsldecRuns => [.. Rows.Where(r => r.Model == HalfMoonsModel.Ssldec && r.Placement == LabelPlacement.Random).OrderBy(r => r.Seed)];

    public HalfMoonsHeadline Headline
    {
        get
        {
            var sorted = Accuracies(HalfMoonsModel.Ssldec).Order().ToArray();
            return new HalfMoonsHeadline(Accuracies(HalfMoonsModel.SupervisedOnly).Average(), Accuracies(HalfMoonsModel.SupervisedJitter).Average(),
                Accuracies(HalfMoonsModel.PseudoLabel).Average(), sorted.Average(), Descriptive.Median(sorted),
                Accuracies(HalfMoonsModel.SupervisedJitter, LabelPlacement.WellSpread).Average(), Accuracies(HalfMoonsModel.Ssldec, LabelPlacement.WellSpread).Average(),
                SsldecRuns.Max(r => r.ClusteringLoss) <= SsldecRuns.MinBy(run => run.Accuracy)!.ClusteringLoss);
        }
    }

    /// <summary>"What this run shows", generated from the rows: the claims, what the jitter alone does, pseudo-labelling's
    /// share of points, and whether the worst SSLDEC run is the one its own objective flags.</summary>
    public Findings WhatThisRunShows
    {
        get
        {
            var h = Headline;
            var worst = SsldecRuns.MinBy(r => r.Accuracy)!;
            var pseudo = Rows.Where(r => r.Model == HalfMoonsModel.PseudoLabel).Average(r => r.RoundFraction);
            return Claims.Findings(
                $"Random labels, mean accuracy: the 8 labels alone {h.AccuracySupervised:0.000}, with the jitter {h.AccuracySupervisedJitter:0.000}, " +
                $"pseudo-labelling {h.AccuracyPseudoLabel:0.000}, SSLDEC {h.AccuracySsldec:0.000} (median {h.AccuracySsldecMedian:0.000}). SSLDEC's last round trained " +
                $"on its balanced subset P′, {SsldecRuns.Average(r => r.RoundFraction):P0} of the points on average; pseudo-labelling's on {pseudo:P0}.",
                $"SSLDEC's worst run (seed {worst.Seed}, {worst.Accuracy:0.000}) {(h.WorstRunHasHighestLoss ? "has" : "does not have")} the highest final KL(P‖Q) of the " +
                $"{SsldecRuns.Count} runs, so the method's own objective {(h.WorstRunHasHighestLoss ? "flags" : "does not flag")} it without labels.");
        }
    }

    /// <summary>results.json (headline, seeds, claims) and the CSV of all rows beside it, in one call.</summary>
    public string? Save(RunContext? context = null) => Result.Save(Headline, context);
}

/// <summary>The digits protocol's results: rows, summary, claims, the example seed's supervised and SSLDEC runs.</summary>
public sealed class DigitsStudy(ProtocolResult<DigitsModel, DigitsRun, DigitsRow> result)
    : ProtocolStudy<DigitsModel, DigitsRun, DigitsRow>(result)
{
    public DigitsRun Example(DigitsModel model) => Result.Example(model);

    /// <summary>Mean test accuracy and k-means ACC/NMI on the embedding, with 95 % CIs, per model.</summary>
    public DataFrame Summary => Result.Study.Summarize(r => r.Model,
        [("accuracy", r => r.Accuracy), ("kmeans_accuracy", r => r.KMeansAccuracy), ("kmeans_nmi", r => r.KMeansNmi)]);

    /// <summary>The t-SNE (Barnes–Hut, perplexity 30) of the example run's test embedding, as Fig. 7 draws it.</summary>
    public double[,] Tsne(DigitsModel model) => new Embedding.Tsne { Seed = Example(model).Seed }.FitTransform(Example(model).TestEmbedding());

    /// <summary>The digit of each test image of the example seed, for colouring its t-SNE.</summary>
    public string[] TestDigits => [.. Example(DigitsModel.Ssldec).Test.ClassIndices().Select(d => $"digit {d}")];

    public double Mean(DigitsModel model, Func<DigitsRow, double> value) => Rows.Where(r => r.Model == model).Average(value);

    public Findings WhatThisRunShows => Claims.Findings(string.Join("; ", Enum.GetValues<DigitsModel>().Select(m =>
        $"{m}: test accuracy {Mean(m, r => r.Accuracy):0.000}, k-means NMI on its representation {Mean(m, r => r.KMeansNmi):0.000}")) + ".");

    /// <summary>Adds to results.json (after the half-moons study's Save) the mean accuracy and k-means NMI per model
    /// (<c>digits_&lt;model&gt;_…</c>), <c>digits_seeds</c>, the claims (appended) and <c>&lt;stem&gt;.digits.csv</c>.</summary>
    public string? Save(RunContext? context = null) => ResultsFile.Append("digits", Enum.GetValues<DigitsModel>()
        .SelectMany(m => new[] { ($"digits_{Key(m)}_accuracy", Mean(m, r => r.Accuracy)), ($"digits_{Key(m)}_kmeans_nmi", Mean(m, r => r.KMeansNmi)) })
        .ToDictionary(), Result.Study, Claims, Seeds, context ?? RunContext.Current);

    private static string Key(DigitsModel model) => model.ToString().ToLowerInvariant();
}

using System.Text.Json.Serialization;
using MedSsl.Data;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
using MedSsl.Training;

namespace MedSsl.Experiments;

/// <summary>What notebook 08 trains on a user's labelled folder, each from the same few-labels split of a seed: FixMatch
/// and its supervised baseline (a ResNet), SSLDEC and its supervised start (an MLP on the pixels; single-label data only),
/// PICA and k-means on the pixels.</summary>
public enum YourDataMethod { Supervised, FixMatch, SupervisedMlp, Ssldec, Pica, KMeans }

/// <summary>One run: test accuracy (classifiers: the predicted class; clusterings: after the best one-to-one matching of
/// clusters to label sets), validation accuracy and macro F1 (classifiers), NMI (clusterings); for FixMatch the mechanism —
/// the fraction of unlabelled images passing τ over the last 10 % of steps, and at the end the fractions of unlabelled
/// images given a pseudo-label that is right or wrong; for SSLDEC the rounds of Algorithm 1 it ran before fewer than
/// 0.1 % of the assignments changed (or the preset's maximum).</summary>
public sealed record YourDataRow(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("labelled_images")] int LabelledImages,
    [property: JsonPropertyName("test_accuracy")] double TestAccuracy,
    [property: JsonPropertyName("validation_accuracy")] double? ValidationAccuracy,
    [property: JsonPropertyName("macro_f1")] double? MacroF1,
    [property: JsonPropertyName("nmi")] double? Nmi,
    [property: JsonPropertyName("final_mask_rate")] double? FinalMaskRate,
    [property: JsonPropertyName("correct_pseudo_labels")] double? CorrectPseudoLabels,
    [property: JsonPropertyName("wrong_pseudo_labels")] double? WrongPseudoLabels,
    [property: JsonPropertyName("ssldec_rounds")] int? SsldecRounds) : ISeededRow;

/// <summary>A trained run kept until evaluated (the example seed's are kept for the figures).</summary>
public sealed record YourDataRun(ImageDataset Data, TrainedClassifier? Classifier = null, TrainedSsldec? Ssldec = null,
    TrainedClustering? Clustering = null, ClusteringReport? KMeans = null) : IDisposable
{
    /// <summary>A classifier's (FixMatch's ResNet or SSLDEC's MLP) scores on one split; null for a clustering.</summary>
    public ClassifierReport? Report(DataSplit split) => Classifier?.Report(Data, split) ?? Ssldec?.Report(Data, split);

    public void Dispose()
    {
        Classifier?.Dispose();
        Ssldec?.Dispose();
        Clustering?.Dispose();
    }
}

/// <summary>Per profile: seeds, FixMatch steps (the supervised baseline runs as many), PICA epochs.</summary>
public sealed record YourDataSettings(SeedPlan Seeds, int Steps, int PicaEpochs, int LabelsPerClass)
{
    /// <summary>Quick (CI smoke): 3 seeds, 150 steps, 10 PICA epochs. Workshop: 10 seeds, 500 steps, 40 epochs — sized
    /// from the quick profile's measured CPU time (docs/methods/your-own-data.md). Full: 20 seeds, 2000 steps, 100 epochs.</summary>
    public static YourDataSettings For(RunProfile profile, int labelsPerClass) => new(
        SeedPlan.Evaluation(profile.Pick(quick: 3, workshop: 10, full: 20)), profile.Pick(quick: 150, workshop: 500, full: 2000),
        profile.Pick(quick: 10, workshop: 40, full: 100), labelsPerClass);
}

/// <summary>The protocol of notebook 08 on a labelled dataset (the real digits by default). Per seed,
/// <see cref="FewLabels.Split"/> draws <c>LabelsPerClass</c> labelled and 5 validation images per class (the test quarter
/// is drawn once); then (1) the supervised baseline and (2) FixMatch (Sohn et al. 2020) train from the same initial weights
/// and batches of the labelled images, FixMatch also on the unlabelled ones; (3) SSLDEC's supervised start and (4) SSLDEC
/// (Enguehard et al. 2019) likewise share initial weights and labelled batches, SSLDEC's rounds also using the unlabelled
/// images — on single-label data only, as SSLDEC gives each image one class; (5) PICA + L_SD (Huang et al. 2020; Dadoun
/// et al. 2022, §2.2) clusters the unlabelled images into as many clusters as there are label sets, and (6) k-means does
/// the same on raw pixels. Every claim compares methods of one seed: the same split.</summary>
public sealed class YourDataProtocol(ImageDataset data, YourDataSettings settings, int exampleSeed) : Protocol<YourDataMethod, YourDataRun, YourDataRow>
{
    private ImageDataset? split;

    public override SeedPlan Seeds => settings.Seeds;
    public override IReadOnlyList<YourDataMethod> Grid => [.. Enum.GetValues<YourDataMethod>().Where(m => SingleLabel || !IsSsldec(m))];
    public int Clusters => LabelCombinations.Of(data).K;
    /// <summary>Whether every image has exactly one label: SSLDEC's arms run only then.</summary>
    public bool SingleLabel { get; } = Enumerable.Range(0, data.Count).All(i => data.SingleClass(i) is not null);

    public override void BeginSeed(int seed) => split = FewLabels.Split(data, settings.LabelsPerClass, seed);
    public override void EndSeed(int seed) => split = null;
    public override bool IsExample(int seed, YourDataMethod setting) => seed == exampleSeed;

    public override YourDataRun Train(int seed, YourDataMethod method, Trainer trainer) => method switch
    {
        YourDataMethod.Supervised or YourDataMethod.FixMatch => new(split!, Classifier: FixMatchClassifier.Train(split!,
            Presets.FixMatch(seed, settings.Steps, supervisedOnly: method == YourDataMethod.Supervised), trainer)),
        YourDataMethod.SupervisedMlp or YourDataMethod.Ssldec => new(split!, Ssldec: SsldecClassifier.Train(split!,
            Presets.Ssldec(seed, supervisedOnly: method == YourDataMethod.SupervisedMlp), trainer)),
        YourDataMethod.Pica => new(split!, Clustering: PicaClustering.Train(split!, Presets.Pica(Clusters, seed, settings.PicaEpochs), Presets.Widths, trainer)),
        _ => new(split!, KMeans: PicaClustering.KMeansOnPixels(split!, Clusters, DataSplit.Test, seed)),
    };

    public override IEnumerable<YourDataRow> Evaluate(int seed, YourDataMethod method, YourDataRun run)
    {
        var labelled = run.Data.IndicesOf(DataSplit.Labelled).Length;
        if (run.Report(DataSplit.Test) is not { } test)
        {
            var clusters = run.Clustering?.Report(run.Data, DataSplit.Test) ?? run.KMeans!;
            return [new(Name(method), seed, labelled, clusters.Accuracy, null, null, clusters.Nmi, null, null, null, null)];
        }
        (double Rate, double Correct, double Wrong)? outcomes = method == YourDataMethod.FixMatch ? run.Classifier!.Method.PseudoLabelOutcomes(run.Data.Where(DataSplit.Unlabelled)) : null;
        return [new(Name(method), seed, labelled, test.Accuracy, run.Report(DataSplit.Validation)!.Accuracy, test.MacroF1, null,
            FixMatchRuns.FinalMaskRate(run.Classifier?.MaskRates ?? []), outcomes?.Correct, outcomes?.Wrong, method == YourDataMethod.Ssldec ? run.Ssldec!.Rounds.Count : null)];
    }

    public override IEnumerable<Claim<YourDataRow>> Claims =>
    [
        new("FixMatch > supervised on the same labels", "Sohn et al. 2020, §4.1", "test accuracy",
            r => r.TestAccuracy, r => r.Method == "fixmatch", r => r.Method == "supervised"),
        .. SingleLabel
            ? [new Claim<YourDataRow>("SSLDEC > its supervised start on the same labels", "Enguehard et al. 2019, §IV-D, Fig. 5", "test accuracy",
                r => r.TestAccuracy, r => r.Method == Name(YourDataMethod.Ssldec), r => r.Method == Name(YourDataMethod.SupervisedMlp))]
            : Array.Empty<Claim<YourDataRow>>(),
        new("PICA's clusters > k-means on raw pixels", "Huang et al. 2020, §4.2", "clustering accuracy (test)",
            r => r.TestAccuracy, r => r.Method == "pica", r => r.Method == "kmeans"),
    ];

    public static string Name(YourDataMethod method) => method.ToString().ToLowerInvariant();

    private static bool IsSsldec(YourDataMethod method) => method is YourDataMethod.SupervisedMlp or YourDataMethod.Ssldec;
}

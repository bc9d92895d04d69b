using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
using MedSsl.Metrics;
using MedSsl.Reports;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Experiments;

/// <summary>A fine-tuned classifier (null for the all-positive floor) and the embedding spread of the backbone it
/// started from.</summary>
public sealed record S4miClassifier(FineTunedClassifier? Classifier, double StartSpread) : IDisposable
{
    public void Dispose() => Classifier?.Dispose();
}

/// <summary>What one seed of <see cref="S4miClassificationProtocol"/> shares across its arms: the data and split, the
/// labelled order, the initial weights of each backbone, and the pre-trained backbones (made on first use). Pre-training
/// and fine-tuning go through the public API (<see cref="SelfSupervisedPretraining"/>, <see cref="ClassifierFineTuning"/>),
/// which copies every start, so one start serves several arms.</summary>
internal sealed class S4miSeed : IDisposable
{
    private readonly S4miClassificationSettings s;
    private readonly int[] order;
    private readonly Tensor xTrain, yTrain, xValidation, xTest, testMasks;
    private readonly bool[,] validationTruth, testTruth;
    private readonly Dictionary<string, long> weightSeeds = [];
    private readonly Dictionary<string, nn.Module<Tensor, Tensor>> initial = [];
    private readonly Dictionary<(string Backbone, string Method), PretrainedBackbone> pretrained = [];

    public S4miSeed(int seed, S4miClassificationSettings settings)
    {
        Seed = seed;
        s = settings;
        var data = SyntheticSkinLesions.Make(s.Images, seed, s.ImageSize);
        var train = data.Images.IndicesOf(DataSplit.Labelled);
        order = new SeededRandom(seed, RandomStreams.LabelledSubset).Permutation(train.Length);
        var validation = data.Images.IndicesOf(DataSplit.Validation);
        var test = data.Images.IndicesOf(DataSplit.Test);
        (xTrain, yTrain) = data.Images.Batch(train);
        xValidation = data.Images.Batch(validation).Images;
        xTest = data.Images.Batch(test).Images;
        testMasks = data.MaskBatch(test);
        foreach (var t in new[] { xTrain, yTrain, xValidation, xTest, testMasks }) t.DetachFromDisposeScope();
        validationTruth = data.Images.Subset(validation).LabelMatrix();
        testTruth = data.Images.Subset(test).LabelMatrix();
        var weights = new SeededRandom(seed, RandomStreams.InitialWeights);
        foreach (var name in new[] { "cnn", "vit", "dino head", "cass head", "classifier head" }) weightSeeds[name] = (long)(weights.NextUInt64() >> 1);
    }

    public int Seed { get; }

    /// <summary>The example arms' classifiers by "backbone method", for the saliency figure (the runner keeps them).</summary>
    public Dictionary<string, nn.Module<Tensor, Tensor>> Shown { get; } = [];

    /// <summary>The seed's initial weights of <paramref name="backbone"/>: the supervised arm's start, and the start of
    /// DINO's student and of CASS's network of that architecture.</summary>
    public nn.Module<Tensor, Tensor> Initial(string backbone)
    {
        if (!initial.TryGetValue(backbone, out var weights))
        {
            torch.manual_seed(weightSeeds[backbone]);
            initial[backbone] = weights = s.Architecture(backbone).Create();
        }
        return weights;
    }

    /// <summary>The backbone pre-trained by <paramref name="method"/> from the seed's initial weights, on first use: DINO
    /// for this backbone, or CASS for both at once.</summary>
    public PretrainedBackbone Pretrained(string backbone, string method, Trainer? trainer = null)
    {
        if (pretrained.TryGetValue((backbone, method), out var done)) return done;
        if (method == "dino")
            return pretrained[(backbone, method)] = SelfSupervisedPretraining.Dino(xTrain, s.Architecture(backbone), new DinoPretrainingOptions
            {
                Steps = s.PretrainSteps, BatchSize = s.BatchSize, Prototypes = s.Prototypes, LocalCrops = s.LocalCrops,
                TeacherMomentum = s.TeacherMomentum, LearningRate = s.PretrainLearningRate, Seed = Seed, HeadSeed = weightSeeds["dino head"],
            }, start: Initial(backbone), trainer);
        if (method != "cass") throw new ArgumentException($"no pre-training called \"{method}\"", nameof(method));
        var cass = SelfSupervisedPretraining.Cass(xTrain, (ResNetArchitecture)s.Architecture("cnn"), (VitArchitecture)s.Architecture("vit"), new CassPretrainingOptions
        {
            Steps = s.PretrainSteps, BatchSize = s.BatchSize, Outputs = s.Prototypes, LearningRate = s.PretrainLearningRate,
            Seed = Seed, HeadSeed = weightSeeds["cass head"],
        }, cnnStart: Initial("cnn"), transformerStart: Initial("vit"), trainer);
        (pretrained[("cnn", method)], pretrained[("vit", method)]) = (cass.Cnn, cass.Transformer);
        return pretrained[(backbone, method)];
    }

    /// <summary>Fine-tunes a copy of <paramref name="start"/> on the arm's share of the training labels, then fits the
    /// thresholds on the validation images; the start's embedding spread on the test images goes with it (see the row).</summary>
    public S4miClassifier FineTune(S4miClassificationSetting setting, nn.Module<Tensor, Tensor> start, Trainer trainer)
    {
        double spread;
        using (var scope = torch.NewDisposeScope()) spread = EmbeddingQuality.Spread(start.Evaluate(() => start.call(xTest)));
        using var labelled = torch.tensor(order.Take(Math.Max(1, (int)Math.Round(setting.LabelFraction * order.Length))).Select(i => (long)i).ToArray());
        using var x = xTrain.index_select(0, labelled);
        using var y = yTrain.index_select(0, labelled);
        var classifier = ClassifierFineTuning.Train(x, y, SyntheticSkinLesions.FindingNames, s.Architecture(setting.Backbone), start, new ClassifierFineTuningOptions
        {
            Steps = setting.Backbone == "vit" ? s.VitFineTuneSteps : s.FineTuneSteps, BatchSize = s.BatchSize, LearningRate = s.FineTuneLearningRate,
            Augment = new WeakAugment(), SingleLabel = false, Seed = Seed, HeadSeed = weightSeeds["classifier head"],   // the same head for every arm
        }, trainer);
        classifier.FitThresholds(xValidation, validationTruth);
        return new S4miClassifier(classifier, spread);
    }

    /// <summary>Test F1 with the validation thresholds, and the saliency maps' mean share on the lesion.</summary>
    public (double F1, double SaliencyOnLesion) Score(FineTunedClassifier classifier)
    {
        using var scope = torch.NewDisposeScope();
        return (classifier.Report(xTest, testTruth, "test").WeightedF1, Saliency.FractionOnMask(Saliency.Map(classifier.Network, xTest), testMasks).Average());
    }

    /// <summary>The test F1 of calling every finding present in every image: what a classifier that learned nothing
    /// reaches, since the validation thresholds can always choose it.</summary>
    public double AllPositiveF1()
    {
        var all = new bool[testTruth.GetLength(0), testTruth.GetLength(1)];
        for (var i = 0; i < all.GetLength(0); i++) for (var f = 0; f < all.GetLength(1); f++) all[i, f] = true;
        return MultiLabelReport.Compute(testTruth, all).WeightedF1;
    }

    /// <summary>What the figures show of this seed, taken from the networks it holds at its end: every starting backbone
    /// (random init, DINO, CASS), the pre-trainings' diagnostic curves (one CASS run trains both backbones: one curve)
    /// and the kept classifiers.</summary>
    public S4miExample Example() => S4miExample.Capture(Seed, xTest, testMasks, testTruth, s.ExampleImages,
        starts: [.. from b in initial.Keys from m in new[] { "random init", "dino", "cass" }
                    where m == "random init" || pretrained.ContainsKey((b, m))   // the seed's runs may have stopped early
                    select ($"{b} {m}", m == "random init" ? initial[b] : pretrained[(b, m)].Network)],
        curves: [.. from p in pretrained where p.Key != ("vit", "cass")
                    select ($"{p.Key.Method.ToUpperInvariant()} {p.Key.Backbone}: {p.Value.DiagnosticName}", p.Value.Diagnostic)],
        classifiers: Shown);

    public void Dispose()
    {
        foreach (var t in new[] { xTrain, yTrain, xValidation, xTest, testMasks }) t.Dispose();
        foreach (var m in initial.Values) m.Dispose();
        foreach (var b in pretrained.Values) b.Dispose();
    }
}

/// <summary>S4MI's classification study (<see cref="S4miClassificationProtocol"/>) as the notebook calls it.</summary>
public static class S4miClassification
{
    /// <summary>Runs the protocol of <paramref name="profile"/>; <paramref name="exampleSeed"/> (one of the plan's seeds)
    /// is the seed whose classifiers, features and pre-training curves the figures show.</summary>
    public static S4miClassificationResults RunStudy(RunProfile profile, int exampleSeed = SeedPlan.FirstFresh, S4miClassificationSettings? settings = null)
    {
        settings ??= S4miClassificationSettings.For(profile);
        var protocol = new S4miClassificationProtocol(settings, settings.Seeds.RequireExample(exampleSeed));
        return new S4miClassificationResults(ProtocolRunner.Run(protocol), protocol.Example!, settings);
    }
}

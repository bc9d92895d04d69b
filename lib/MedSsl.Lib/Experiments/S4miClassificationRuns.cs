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
    private readonly bool keepExample;
    private readonly Dictionary<string, double[,]> features = [];
    private readonly Dictionary<string, IReadOnlyList<(double Step, double Value)>> curves = [];
    private readonly Dictionary<string, IReadOnlyList<(float[,], double)>> saliency = [];

    public S4miSeed(int seed, S4miClassificationSettings settings, bool keepExample)
    {
        Seed = seed;
        s = settings;
        this.keepExample = keepExample;
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

    /// <summary>The seed's initial weights of <paramref name="backbone"/>: the supervised arm's start, and the start of
    /// DINO's student and of CASS's network of that architecture.</summary>
    public nn.Module<Tensor, Tensor> Initial(string backbone)
    {
        if (!initial.TryGetValue(backbone, out var weights))
        {
            torch.manual_seed(weightSeeds[backbone]);
            initial[backbone] = weights = Architecture(backbone).Create();
            if (keepExample) features[$"{backbone} random init"] = FeatureArray(weights);
        }
        return weights;
    }

    /// <summary>The backbone pre-trained by <paramref name="method"/>; DINO for this backbone or CASS for both on first use.</summary>
    public nn.Module<Tensor, Tensor> Pretrained(string backbone, string method, Trainer trainer)
    {
        if (!pretrained.ContainsKey((backbone, method)))
        {
            if (method == "dino") PretrainDino(backbone, trainer);
            else if (method == "cass") PretrainCass(trainer);
            else throw new ArgumentException($"no pre-training called \"{method}\"", nameof(method));
        }
        return pretrained[(backbone, method)].Network;
    }

    /// <summary>The collapse diagnostic of a pre-training, averaged over its last tenth of steps (see the row).</summary>
    public double Diagnostic(string backbone, string method) => pretrained[(backbone, method)].FinalDiagnostic;

    /// <summary>Fine-tunes a copy of <paramref name="start"/> on the arm's share of the training labels, then fits the
    /// thresholds on the validation images.</summary>
    public S4miClassifier FineTune(S4miClassificationSetting setting, nn.Module<Tensor, Tensor> start, Trainer trainer)
    {
        var spread = Spread(start);
        var labelled = torch.tensor(order.Take(Math.Max(1, (int)Math.Round(setting.LabelFraction * order.Length))).Select(i => (long)i).ToArray());
        using var x = xTrain.index_select(0, labelled);
        using var y = yTrain.index_select(0, labelled);
        labelled.Dispose();
        var classifier = ClassifierFineTuning.Train(x, y, SyntheticSkinLesions.FindingNames, Architecture(setting.Backbone), start, new ClassifierFineTuningOptions
        {
            Steps = setting.Backbone == "vit" ? s.VitFineTuneSteps : s.FineTuneSteps, BatchSize = s.BatchSize, LearningRate = s.FineTuneLearningRate,
            Augment = new WeakAugment(), SingleLabel = false, Seed = Seed, HeadSeed = weightSeeds["classifier head"],   // the same head for every arm
        }, trainer);
        classifier.FitThresholds(xValidation, validationTruth);
        return new S4miClassifier(classifier, spread);
    }

    /// <summary>Test F1 with the validation thresholds, and the saliency maps' mean share on the lesion.</summary>
    public (double F1, double SaliencyOnLesion) Score(S4miClassificationSetting setting, S4miClassifier run, bool keepMaps)
    {
        using var scope = torch.NewDisposeScope();
        var classifier = run.Classifier!;
        var f1 = classifier.Report(xTest, testTruth, "test").WeightedF1;
        var maps = Saliency.Map(classifier.Network, xTest);
        var onLesion = Saliency.FractionOnMask(maps, testMasks);
        if (keepMaps) saliency[$"{setting.Backbone} {setting.Method}"] = [.. Enumerable.Range(0, s.ExampleImages).Select(k => (S4miFigures.Scaled(maps[k]), onLesion[k]))];
        return (f1, onLesion.Average());
    }

    /// <summary>The test F1 of calling every finding present in every image: what a classifier that learned nothing
    /// reaches, since the validation thresholds can always choose it.</summary>
    public double AllPositiveF1()
    {
        var all = new bool[testTruth.GetLength(0), testTruth.GetLength(1)];
        for (var i = 0; i < all.GetLength(0); i++) for (var f = 0; f < all.GetLength(1); f++) all[i, f] = true;
        return MultiLabelReport.Compute(testTruth, all).WeightedF1;
    }

    private void PretrainDino(string backbone, Trainer trainer)
    {
        var dino = SelfSupervisedPretraining.Dino(xTrain, Architecture(backbone), new DinoPretrainingOptions
        {
            Steps = s.PretrainSteps, BatchSize = s.BatchSize, Prototypes = s.Prototypes, LocalCrops = s.LocalCrops,
            TeacherMomentum = s.TeacherMomentum, LearningRate = s.PretrainLearningRate, Seed = Seed, HeadSeed = weightSeeds["dino head"],
        }, start: Initial(backbone), trainer);
        Keep((backbone, "dino"), dino, $"DINO {backbone}: teacher entropy ÷ log K");
    }

    private void PretrainCass(Trainer trainer)
    {
        var cass = SelfSupervisedPretraining.Cass(xTrain, (ResNetArchitecture)Architecture("cnn"), (VitArchitecture)Architecture("vit"), new CassPretrainingOptions
        {
            Steps = s.PretrainSteps, BatchSize = s.BatchSize, Outputs = s.Prototypes, LearningRate = s.PretrainLearningRate,
            Seed = Seed, HeadSeed = weightSeeds["cass head"],
        }, cnnStart: Initial("cnn"), transformerStart: Initial("vit"), trainer);
        Keep(("cnn", "cass"), cass.Cnn, "CASS: output spread × √K");
        Keep(("vit", "cass"), cass.Transformer, null);
    }

    private void Keep((string Backbone, string Method) key, PretrainedBackbone result, string? curveName)
    {
        pretrained[key] = result;
        if (keepExample)
        {
            features[$"{key.Backbone} {key.Method}"] = FeatureArray(result.Network);
            if (curveName is not null) curves[curveName] = result.Diagnostic;
        }
    }

    public S4miExample MakeExample()
    {
        using var scope = torch.NewDisposeScope();
        var luminance = S4miFigures.Luminance(xTest);
        var masks = testMasks.to(ScalarType.Float32);
        return new S4miExample
        {
            Seed = Seed,
            Images = [.. Enumerable.Range(0, s.ExampleImages).Select(k => Charts.Plane(luminance[k]))],
            LesionMasks = [.. Enumerable.Range(0, s.ExampleImages).Select(k => Charts.Plane(masks[k]))],
            SaliencyMaps = new Dictionary<string, IReadOnlyList<(float[,], double)>>(saliency),
            Features = new Dictionary<string, double[,]>(features),
            PretrainingCurves = new Dictionary<string, IReadOnlyList<(double, double)>>(curves),
            TestLabels = testTruth,
            LesionAreaFraction = masks.mean().ToDouble(),
        };
    }

    private BackboneArchitecture Architecture(string backbone) => S4miClassification.Architecture(backbone, s);

    /// <summary>The backbone's features of the test images, and their embedding spread (see <see cref="S4miClassificationRow"/>).</summary>
    private double[,] FeatureArray(nn.Module<Tensor, Tensor> backbone) => TestFeatures(backbone, NetworkOutputs.ToArray);

    private double Spread(nn.Module<Tensor, Tensor> backbone) => TestFeatures(backbone, S4miClassification.EmbeddingSpread);

    private T TestFeatures<T>(nn.Module<Tensor, Tensor> backbone, Func<Tensor, T> use)
    {
        using var scope = torch.NewDisposeScope();
        return use(backbone.Evaluate(() => backbone.call(xTest)));
    }

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
        if (!settings.Seeds.Seeds.Contains(exampleSeed))
            throw new ArgumentOutOfRangeException(nameof(exampleSeed), exampleSeed,
                $"Seed must be one of the plan's seeds ({string.Join(", ", settings.Seeds.Seeds)}): the figures show a run the numbers come from");
        var protocol = new S4miClassificationProtocol(settings, settings.Seeds, exampleSeed);
        var result = ProtocolRunner.Run(protocol);
        return new S4miClassificationResults(result, protocol.Example!, settings);
    }

    /// <summary>Std over images of the ℓ2-normalised features [N, D], mean over dimensions, × √D: about 1 for features
    /// spread evenly in all directions, 0 when every image has the same feature direction (a collapsed embedding).</summary>
    public static double EmbeddingSpread(Tensor features)
    {
        using var scope = torch.NewDisposeScope();
        return nn.functional.normalize(features, p: 2, dim: 1).std([0]).mean().ToDouble() * Math.Sqrt(features.size(1));
    }

    /// <summary>A backbone of the protocol: the RGB ResNet or ViT of the settings.</summary>
    public static BackboneArchitecture Architecture(string backbone, S4miClassificationSettings s) => backbone switch
    {
        "cnn" => new ResNetArchitecture(3, s.CnnWidths),
        "vit" => new VitArchitecture(3, s.ImageSize, s.PatchSize, s.VitDim, s.VitDepth, s.VitHeads),
        _ => throw new ArgumentException($"backbone must be \"cnn\" or \"vit\", not \"{backbone}\"", nameof(backbone)),
    };
}

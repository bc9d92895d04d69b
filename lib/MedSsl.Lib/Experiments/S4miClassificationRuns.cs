using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Data.Synthetic;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Reports;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Experiments;

/// <summary>A fine-tuned classifier (null for the all-positive floor) and the embedding spread of the backbone it
/// started from.</summary>
public sealed class S4miClassifier(MultiLabelFineTuning? tuning, double startSpread) : IDisposable
{
    public MultiLabelFineTuning? Tuning { get; } = tuning;
    public double StartSpread { get; } = startSpread;

    public void Dispose() => Tuning?.Dispose();
}

/// <summary>What one seed of <see cref="S4miClassificationProtocol"/> shares across its arms: the data and split, the
/// labelled order, the initial weights of each backbone, and the pre-trained backbones (made on first use).</summary>
internal sealed class S4miSeed : IDisposable
{
    private readonly S4miClassificationSettings s;
    private readonly SegmentationDataset data;
    private readonly int[] order;
    private readonly Tensor xTrain, yTrain, xValidation, xTest, testMasks;
    private readonly bool[,] validationTruth, testTruth;
    private readonly Dictionary<string, long> weightSeeds = [];
    private readonly Dictionary<string, nn.Module<Tensor, Tensor>> initial = [];
    private readonly Dictionary<(string Backbone, string Method), nn.Module<Tensor, Tensor>> pretrained = [];
    private readonly Dictionary<(string Backbone, string Method), double> diagnostics = [];
    private readonly bool keepExample;
    private readonly Dictionary<string, double[,]> features = [];
    private readonly Dictionary<string, IReadOnlyList<(double Step, double Value)>> curves = [];
    private readonly Dictionary<string, IReadOnlyList<(float[,], double)>> saliency = [];

    public S4miSeed(int seed, S4miClassificationSettings settings, bool keepExample)
    {
        Seed = seed;
        s = settings;
        this.keepExample = keepExample;
        data = SyntheticSkinLesions.Make(s.Images, seed, s.ImageSize);
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

    /// <summary>A fresh copy of the seed's initial weights of <paramref name="backbone"/>: the supervised arm's start,
    /// and the start of DINO's student and of CASS's network of that architecture.</summary>
    public nn.Module<Tensor, Tensor> Initial(string backbone)
    {
        if (!initial.TryGetValue(backbone, out var weights))
        {
            torch.manual_seed(weightSeeds[backbone]);
            initial[backbone] = weights = S4miClassification.NewBackbone(backbone, s);
            if (keepExample) features[$"{backbone} random init"] = FeatureArray(weights);
        }
        return Copy(weights, backbone);
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
        return Copy(pretrained[(backbone, method)], backbone);
    }

    /// <summary>The collapse diagnostic of a pre-training, averaged over its last tenth of steps (see the row).</summary>
    public double Diagnostic(string backbone, string method) => diagnostics[(backbone, method)];

    public S4miClassifier FineTune(S4miClassificationSetting setting, nn.Module<Tensor, Tensor> start, Trainer trainer)
    {
        var spread = Spread(start);
        var labelled = torch.tensor(order.Take(Math.Max(1, (int)Math.Round(setting.LabelFraction * order.Length))).Select(i => (long)i).ToArray());
        using var x = xTrain.index_select(0, labelled);
        using var y = yTrain.index_select(0, labelled);
        labelled.Dispose();
        torch.manual_seed(weightSeeds["classifier head"]);   // the same head for every arm
        var tuning = new MultiLabelFineTuning(new BackboneWithHead(start, nn.Linear(FeatureDim(setting.Backbone), SyntheticSkinLesions.FindingNames.Count)),
            new FineTuningOptions { LearningRate = s.FineTuneLearningRate, Augment = new WeakAugment(), Seed = Seed });
        using var generator = new SeededRandom(Seed, RandomStreams.BatchOrder).TorchGenerator();
        var steps = setting.Backbone == "vit" ? s.VitFineTuneSteps : s.FineTuneSteps;
        var epochs = steps / Batches.PerEpoch(x.size(0), s.BatchSize) + 1;
        trainer.Run(tuning, Batches.Shuffled(x, y, s.BatchSize, generator, epochs), "fine-tuning", steps);
        return new S4miClassifier(tuning, spread);
    }

    /// <summary>Test F1 with thresholds fitted on the validation set, and the saliency maps' mean share on the lesion.</summary>
    public (double F1, double SaliencyOnLesion) Score(S4miClassificationSetting setting, S4miClassifier run, bool keepMaps)
    {
        using var scope = torch.NewDisposeScope();
        var tuning = run.Tuning!;
        var thresholds = new F1Thresholds().Fit(validationTruth, ToArray(tuning.Predict(xValidation)));
        var f1 = MultiLabelReport.Compute(testTruth, thresholds.Predict(ToArray(tuning.Predict(xTest)))).WeightedF1;
        var maps = Saliency.Map(tuning.Classifier, xTest);
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
        var dim = FeatureDim(backbone);
        BackboneWithHead Make(nn.Module<Tensor, Tensor> b)
        {
            torch.manual_seed(weightSeeds["dino head"]);
            return new(b, new DinoHead(dim, s.Prototypes, hidden: 4 * dim, bottleneck: dim));
        }
        using var dino = new Dino(Make(Initial(backbone)), () => Make(S4miClassification.NewBackbone(backbone, s)), s.PretrainSteps, new DinoOptions
        {
            GlobalCropSize = s.ImageSize, LocalCropSize = s.ImageSize / 2, LocalCrops = s.LocalCrops, TeacherMomentum = s.TeacherMomentum,
            LearningRate = s.PretrainLearningRate, Seed = Seed,
        });
        var phase = $"DINO pre-training ({backbone})";
        RunPretraining(dino, trainer, phase);
        var entropy = Curve(trainer, phase, "teacher_entropy", 1 / Math.Log(s.Prototypes));
        Finish((backbone, "dino"), dino.Teacher.Backbone, entropy, $"DINO {backbone}: teacher entropy ÷ log K");
    }

    private void PretrainCass(Trainer trainer)
    {
        BackboneWithHead Make(string backbone)
        {
            var b = Initial(backbone);
            torch.manual_seed(weightSeeds["cass head"]);
            return new(b, nn.Linear(FeatureDim(backbone), s.Prototypes));
        }
        using var cass = new Cass(Make("cnn"), Make("vit"),
            new CassOptions { LearningRate = s.PretrainLearningRate, Augment = new RandomResizedCrop(s.ImageSize, 0.4, 1.0), Seed = Seed });
        const string phase = "CASS pre-training (cnn + vit)";
        RunPretraining(cass, trainer, phase);
        var spread = Curve(trainer, phase, "cnn_output_spread", Math.Sqrt(s.Prototypes));
        Finish(("cnn", "cass"), cass.Cnn.Backbone, spread, "CASS: output spread × √K");
        Finish(("vit", "cass"), cass.Transformer.Backbone, spread, null);
    }

    private void RunPretraining(ITrainingMethod<Tensor> method, Trainer trainer, string phase)
    {
        var epochs = s.PretrainSteps / Batches.PerEpoch(xTrain.size(0), s.BatchSize) + 1;
        using var generator = new SeededRandom(Seed, RandomStreams.PretrainingBatches).TorchGenerator();
        trainer.Run(method, Batches.Unlabelled(xTrain, s.BatchSize, generator, epochs), phase, s.PretrainSteps);
    }

    private void Finish((string Backbone, string Method) key, nn.Module<Tensor, Tensor> backbone, IReadOnlyList<(double Step, double Value)> curve, string? curveName)
    {
        pretrained[key] = Copy(backbone, key.Backbone);
        var tail = curve.Skip(curve.Count - Math.Max(1, curve.Count / 10)).ToList();
        diagnostics[key] = tail.Average(p => p.Value);
        if (keepExample)
        {
            features[$"{key.Backbone} {key.Method}"] = FeatureArray(backbone);
            if (curveName is not null) curves[curveName] = curve;
        }
    }

    private static List<(double Step, double Value)> Curve(Trainer trainer, string phase, string term, double scale) =>
        [.. trainer.History.Where(h => h.Phase == phase).Select(h => ((double)h.Step, h.Losses[term] * scale))];

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

    private long FeatureDim(string backbone) => backbone == "cnn" ? s.CnnWidths[^1] : s.VitDim;

    /// <summary>A fresh backbone with a copy of <paramref name="source"/>'s weights and buffers (TorchSharp cannot
    /// deep-copy a module), so one start serves several arms.</summary>
    private nn.Module<Tensor, Tensor> Copy(nn.Module<Tensor, Tensor> source, string backbone)
    {
        var copy = S4miClassification.NewBackbone(backbone, s);
        var weights = source.state_dict();
        using (torch.no_grad())
            foreach (var (name, value) in copy.state_dict()) value.copy_(weights[name]);
        foreach (var p in copy.parameters()) p.requires_grad = true;
        return copy;
    }

    /// <summary>The backbone's features of the test images, and their embedding spread (see <see cref="S4miClassificationRow"/>).</summary>
    private double[,] FeatureArray(nn.Module<Tensor, Tensor> backbone) => TestFeatures(backbone, ToArray);

    private double Spread(nn.Module<Tensor, Tensor> backbone) => TestFeatures(backbone, S4miClassification.EmbeddingSpread);

    private T TestFeatures<T>(nn.Module<Tensor, Tensor> backbone, Func<Tensor, T> use)
    {
        using var scope = torch.NewDisposeScope();
        return use(backbone.Evaluate(() => backbone.call(xTest)));
    }

    private static double[,] ToArray(Tensor t)
    {
        var result = new double[t.size(0), t.size(1)];
        Buffer.BlockCopy(t.to(ScalarType.Float64).contiguous().data<double>().ToArray(), 0, result, 0, result.Length * sizeof(double));
        return result;
    }

    public void Dispose()
    {
        foreach (var t in new[] { xTrain, yTrain, xValidation, xTest, testMasks }) t.Dispose();
        foreach (var m in initial.Values.Concat(pretrained.Values)) m.Dispose();
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

    /// <summary>A backbone of the protocol, its initial weights drawn from libtorch's global generator.</summary>
    public static nn.Module<Tensor, Tensor> NewBackbone(string backbone, S4miClassificationSettings s) => backbone switch
    {
        "cnn" => new ResNet(3, s.CnnWidths),
        "vit" => new VisionTransformer(3, s.ImageSize, s.PatchSize, s.VitDim, s.VitDepth, s.VitHeads),
        _ => throw new ArgumentException($"backbone must be \"cnn\" or \"vit\", not \"{backbone}\"", nameof(backbone)),
    };
}

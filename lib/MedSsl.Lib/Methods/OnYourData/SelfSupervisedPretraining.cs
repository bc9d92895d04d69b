using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods.OnYourData;

/// <summary>DINO pre-training of one backbone (Caron et al. 2021; Singh et al. 2024, "Classification"). Temperatures,
/// centre momentum and crop scales are DINO's (<see cref="DinoOptions"/>); the sizes that DINO sets for 10⁵ GPU steps are
/// those of notebook 05's quick profile, fixed there for runs of hundreds of CPU steps (docs/methods/s4mi-classification.md,
/// "Scaled-down architectures and settings"). Global crops are the image side (the shorter one), local crops half of it (DINO: 224 and 96 pixels).</summary>
public sealed record DinoPretrainingOptions
{
    public int Steps { get; init; } = 200;
    public int BatchSize { get; init; } = 32;
    /// <summary>K, the prototypes of the DINO head (65 536 in the paper). The head is DINO's three-layer MLP with a hidden
    /// width of 4·D and a bottleneck of D for a backbone of D features (2048 and 256 in the paper).</summary>
    public int Prototypes { get; init; } = 64;
    /// <summary>Local crops per image besides the 2 global ones (the paper's best: 10).</summary>
    public int LocalCrops { get; init; } = 2;
    /// <summary>Start of the teacher's EMA momentum λ, raised to 1 along a cosine. The paper's 0.996 is a teacher time
    /// constant of 250 steps, too slow for a few hundred steps; 0.95 is 20.</summary>
    public double TeacherMomentum { get; init; } = 0.95;
    /// <summary>AdamW learning rate (the official code: 5e-4 · batch / 256, for far longer runs).</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Draws the views, the batch order and the backbone's initial weights when no start is given.</summary>
    public int Seed { get; init; }
    /// <summary>When set, the head's initial weights are drawn right after <c>torch.manual_seed(HeadSeed)</c> (a study
    /// gives every run the same head this way); when null they follow the backbone's draws from <see cref="Seed"/>.</summary>
    public long? HeadSeed { get; init; }
}

/// <summary>CASS pre-training of a CNN and a ViT together (Singh et al. 2022; Singh et al. 2024, "Classification"):
/// a linear head on each backbone to a common width, both networks see the same view of each image. The view is a
/// random resized crop of <see cref="CropScale"/> of the area (DINO's global crop), so CASS and DINO differ in how they
/// make the positive pair, not in what the images went through; sizes as <see cref="DinoPretrainingOptions"/>.</summary>
public sealed record CassPretrainingOptions
{
    public int Steps { get; init; } = 200;
    public int BatchSize { get; init; } = 32;
    /// <summary>K, the common output width of the two heads (1000 in the paper: the backbones' ImageNet logits).</summary>
    public int Outputs { get; init; } = 64;
    /// <summary>Adam learning rate (the CASS reference code: 1e-3).</summary>
    public double LearningRate { get; init; } = 1e-3;
    public (double Min, double Max) CropScale { get; init; } = (0.4, 1.0);
    /// <summary>Draws the views, the batch order and the backbones' initial weights when no start is given.</summary>
    public int Seed { get; init; }
    /// <summary>When set, each head's initial weights are drawn right after <c>torch.manual_seed(HeadSeed)</c>; when null
    /// they follow the backbones' draws from <see cref="Seed"/>.</summary>
    public long? HeadSeed { get; init; }
}

/// <summary>A backbone after self-supervised pre-training, with the collapse diagnostic of its run per step
/// (<see cref="Diagnostic"/>): DINO's teacher entropy ÷ log K (0 when one prototype wins every image, 1 uniform), or
/// CASS's spread of the CNN's normalised outputs over a batch × √K (0 when every image gets the same output).</summary>
public sealed class PretrainedBackbone : IDisposable
{
    internal PretrainedBackbone(BackboneArchitecture architecture, nn.Module<Tensor, Tensor> network, string diagnosticName,
        IReadOnlyList<(double Step, double Value)> diagnostic, IReadOnlyList<StepRecord> history)
    {
        Architecture = architecture;
        Network = network;
        DiagnosticName = diagnosticName;
        Diagnostic = diagnostic;
        History = history;
    }

    public BackboneArchitecture Architecture { get; }
    /// <summary>The pre-trained backbone (DINO: the teacher's, which DINO evaluates and fine-tunes). Fine-tuning trains
    /// a copy of it.</summary>
    public nn.Module<Tensor, Tensor> Network { get; }
    public string DiagnosticName { get; }
    /// <summary>(step, value) of the collapse diagnostic, one per training step.</summary>
    public IReadOnlyList<(double Step, double Value)> Diagnostic { get; }
    /// <summary>The loss terms of every step of the pre-training.</summary>
    public IReadOnlyList<StepRecord> History { get; }

    /// <summary>The diagnostic averaged over the last tenth of the steps (at least the last one): where the run ended.</summary>
    public double FinalDiagnostic => Diagnostic.Skip(Diagnostic.Count - Math.Max(1, Diagnostic.Count / 10)).Average(p => p.Value);

    /// <summary>Backbone features [N, D] of every image of <paramref name="data"/>: embeddings for a t-SNE or k-means.</summary>
    public double[,] Embeddings(IImageDataset data) => NetworkOutputs.OfDataset(data, Network.call, Network);

    public void Dispose() => Network.Dispose();
}

/// <summary>The two backbones one CASS run gives; both carry the run's diagnostic.</summary>
public sealed class CassBackbones : IDisposable
{
    internal CassBackbones(PretrainedBackbone cnn, PretrainedBackbone transformer)
    {
        Cnn = cnn;
        Transformer = transformer;
    }

    public PretrainedBackbone Cnn { get; }
    public PretrainedBackbone Transformer { get; }

    public void Dispose()
    {
        Cnn.Dispose();
        Transformer.Dispose();
    }
}

/// <summary>DINO or CASS pre-training on a user's images, labels unused. The networks given as starts are copied, never
/// changed; without one a backbone starts from random weights drawn with the options' seed. Progress and cancellation come
/// from <paramref name="trainer"/> in each call (default: a progress line in the notebook).</summary>
public static class SelfSupervisedPretraining
{
    public const string DinoDiagnostic = "teacher entropy ÷ log K";
    public const string CassDiagnostic = "CNN output spread × √K";

    /// <summary>DINO on the training images of <paramref name="data"/>: every image outside the
    /// <see cref="DataSplit.Validation"/> and <see cref="DataSplit.Test"/> splits.</summary>
    public static PretrainedBackbone Dino(IImageDataset data, BackboneArchitecture architecture, DinoPretrainingOptions? options = null,
        nn.Module<Tensor, Tensor>? start = null, Trainer? trainer = null)
    {
        using var images = TrainingImages(data, architecture);
        return Dino(images, architecture, options, start, trainer);
    }

    /// <summary>DINO on <paramref name="images"/> [N, C, H, W]: returns the teacher's backbone and its entropy curve.</summary>
    public static PretrainedBackbone Dino(Tensor images, BackboneArchitecture architecture, DinoPretrainingOptions? options = null,
        nn.Module<Tensor, Tensor>? start = null, Trainer? trainer = null)
    {
        options ??= new DinoPretrainingOptions();
        Check(images, architecture, options.Steps, options.BatchSize, nameof(options));
        if (options.Prototypes < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Prototypes, "Prototypes: DINO needs at least one prototype");
        if (options.LocalCrops < 0) throw new ArgumentOutOfRangeException(nameof(options), options.LocalCrops, "LocalCrops cannot be negative");
        var side = (int)Math.Min(images.size(2), images.size(3));
        if (architecture is VitArchitecture vit && options.LocalCrops > 0 && side / 2 % vit.PatchSize != 0)
            throw new ArgumentException($"DINO's local crops are half the image side ({side / 2}), which the ViT's {vit.PatchSize}-pixel patches do not divide", nameof(architecture));
        var dim = architecture.FeatureDim;
        DinoHead NewHead() => new(dim, options.Prototypes, hidden: 4 * dim, bottleneck: dim);
        torch.manual_seed(options.Seed);
        var student = Backbone(architecture, start, nameof(start));
        if (options.HeadSeed is { } headSeed) torch.manual_seed(headSeed);
        var dinoOptions = new DinoOptions
        {
            GlobalCropSize = side, LocalCropSize = side / 2, LocalCrops = options.LocalCrops, TeacherMomentum = options.TeacherMomentum,
            LearningRate = options.LearningRate, Channels = architecture.Channels, Seed = options.Seed,
        };
        Dino dino;
        try { dino = new Dino(new BackboneWithHead(student, NewHead()), () => new BackboneWithHead(architecture.Create(), NewHead()), options.Steps, dinoOptions); }
        catch
        {
            student.Dispose();
            throw;
        }
        using (dino)
        {
            var history = Run(dino, images, options.Steps, options.BatchSize, options.Seed, "DINO pre-training", trainer);
            // Multiplied by 1/log K (not divided) as notebook 05 always has, so its numbers stay the same to the last bit.
            var entropy = Curve(history, "teacher_entropy", 1 / Math.Log(options.Prototypes));
            return new PretrainedBackbone(architecture, architecture.Copy(dino.Teacher.Backbone), DinoDiagnostic, entropy, history);
        }
    }

    /// <summary>CASS on the training images of <paramref name="data"/> (every image outside the validation and test splits).</summary>
    public static CassBackbones Cass(IImageDataset data, ResNetArchitecture cnn, VitArchitecture transformer, CassPretrainingOptions? options = null,
        nn.Module<Tensor, Tensor>? cnnStart = null, nn.Module<Tensor, Tensor>? transformerStart = null, Trainer? trainer = null)
    {
        transformer.CheckImages(data, nameof(data));
        using var images = TrainingImages(data, cnn);
        return Cass(images, cnn, transformer, options, cnnStart, transformerStart, trainer);
    }

    /// <summary>CASS on <paramref name="images"/> [N, C, H, W]: returns both backbones and the output-spread curve.</summary>
    public static CassBackbones Cass(Tensor images, ResNetArchitecture cnn, VitArchitecture transformer, CassPretrainingOptions? options = null,
        nn.Module<Tensor, Tensor>? cnnStart = null, nn.Module<Tensor, Tensor>? transformerStart = null, Trainer? trainer = null)
    {
        options ??= new CassPretrainingOptions();
        Check(images, cnn, options.Steps, options.BatchSize, nameof(options));
        transformer.CheckImages(images, nameof(images));
        if (options.Outputs < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Outputs, "Outputs: CASS's heads need at least one output");
        BackboneWithHead WithHead(nn.Module<Tensor, Tensor> backbone, long dim)
        {
            if (options.HeadSeed is { } headSeed) torch.manual_seed(headSeed);
            return new(backbone, nn.Linear(dim, options.Outputs));
        }
        torch.manual_seed(options.Seed);
        var cnnBackbone = Backbone(cnn, cnnStart, nameof(cnnStart));
        Cass cass;
        try
        {
            var transformerBackbone = Backbone(transformer, transformerStart, nameof(transformerStart));
            cass = new Cass(WithHead(cnnBackbone, cnn.FeatureDim), WithHead(transformerBackbone, transformer.FeatureDim), new CassOptions
            {
                LearningRate = options.LearningRate, Seed = options.Seed,
                Augment = new RandomResizedCrop((int)images.size(2), options.CropScale.Min, options.CropScale.Max),
            });
        }
        catch
        {
            cnnBackbone.Dispose();
            throw;
        }
        using (cass)
        {
            var history = Run(cass, images, options.Steps, options.BatchSize, options.Seed, "CASS pre-training", trainer);
            var spread = Curve(history, "cnn_output_spread", Math.Sqrt(options.Outputs));
            var pretrainedCnn = new PretrainedBackbone(cnn, cnn.Copy(cass.Cnn.Backbone), CassDiagnostic, spread, history);
            try { return new CassBackbones(pretrainedCnn, new PretrainedBackbone(transformer, transformer.Copy(cass.Transformer.Backbone), CassDiagnostic, spread, history)); }
            catch
            {
                pretrainedCnn.Dispose();
                throw;
            }
        }
    }

    /// <summary>Every image outside the validation and test splits, in dataset order.</summary>
    internal static Tensor TrainingImages(IImageDataset data, BackboneArchitecture architecture)
    {
        architecture.CheckImages(data, nameof(data));
        var train = Enumerable.Range(0, data.Count).Where(i => data.Split(i) is not (DataSplit.Validation or DataSplit.Test)).ToArray();
        if (train.Length == 0) throw new ArgumentException("no images to pre-train on: every image is in the validation or test split", nameof(data));
        var (images, labels) = data.Batch(train);
        labels.Dispose();
        return images;
    }

    private static void Check(Tensor images, BackboneArchitecture architecture, int steps, int batchSize, string options)
    {
        architecture.CheckImages(images, nameof(images));
        if (images.size(0) == 0) throw new ArgumentException("no images to pre-train on", nameof(images));
        if (steps < 1) throw new ArgumentOutOfRangeException(options, steps, "Steps: pre-training needs at least one step");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(options, batchSize, "BatchSize: a batch holds at least one image");
    }

    private static nn.Module<Tensor, Tensor> Backbone(BackboneArchitecture architecture, nn.Module<Tensor, Tensor>? start, string argument) =>
        start is null ? architecture.Create() : architecture.Copy(start, argument);

    /// <summary>Runs <paramref name="steps"/> steps on shuffled passes over the images and returns the steps' records.</summary>
    private static List<StepRecord> Run(ITrainingMethod<Tensor> method, Tensor images, int steps, int batchSize, int seed, string phase, Trainer? trainer)
    {
        using var lease = new TrainerLease(trainer);
        var epochs = steps / Batches.PerEpoch(images.size(0), batchSize) + 1;
        using var generator = new SeededRandom(seed, RandomStreams.PretrainingBatches).TorchGenerator();
        lease.Trainer.Run(method, Batches.Unlabelled(images, batchSize, generator, epochs), phase, steps);
        return lease.Steps();
    }

    private static List<(double Step, double Value)> Curve(IEnumerable<StepRecord> history, string term, double scale) =>
        [.. history.Select(h => ((double)h.Step, h.Losses[term] * scale))];
}

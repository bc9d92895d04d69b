using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods;

/// <summary>Settings of the labelled fine-tuning (S4MI, Singh et al. 2024, "Classification pipeline additional
/// details"; the CASS reference fine-tunes with Adam 3e-4).</summary>
public sealed record FineTuningOptions
{
    public double LearningRate { get; init; } = 3e-4;
    /// <summary>Augmentation of the labelled batches (a flip and a shift), or null.</summary>
    public IAugmentation? Augment { get; init; }
    public int Seed { get; init; }
}

/// <summary>A backbone with a new linear head, all weights trained with Adam on labelled images
/// (<see cref="FineTuningOptions"/>): what <see cref="MultiLabelFineTuning"/> and <see cref="SingleLabelFineTuning"/>
/// share; they differ in the loss and in how logits become probabilities.</summary>
public abstract class FineTuning : ITrainingMethod<TensorBatch>, IDisposable
{
    private readonly FineTuningOptions options;
    private readonly optim.Optimizer optimizer;
    private readonly Generator generator;

    /// <param name="classifier">backbone + linear head; build it outside any dispose scope</param>
    protected FineTuning(BackboneWithHead classifier, FineTuningOptions? options)
    {
        this.options = options ?? new FineTuningOptions();
        Classifier = classifier;
        optimizer = optim.Adam(classifier.parameters(), lr: this.options.LearningRate);
        generator = new SeededRandom(this.options.Seed).TorchGenerator();
    }

    public BackboneWithHead Classifier { get; }
    public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["classifier"] = Classifier };
    public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["adam"] = optimizer };

    /// <summary>The loss term's name in the trainer's history.</summary>
    protected abstract string LossName { get; }

    protected abstract Tensor Loss(Tensor logits, Tensor targets);

    protected abstract Tensor ToProbabilities(Tensor logits);

    /// <summary>One step on labelled images (batch.Targets: the labels [N, L] as 0/1, one-hot for single-label).</summary>
    public LossTerms TrainStep(TensorBatch batch)
    {
        var x = options.Augment is null ? batch.Inputs : options.Augment.Apply(batch.Inputs, generator);
        return new LossTerms((LossName, optimizer.Minimize(() => Loss(Classifier.call(x), batch.Targets))));
    }

    /// <summary>Probabilities [N, L], in eval mode without gradients.</summary>
    public Tensor Predict(Tensor inputs) => Classifier.Evaluate(() =>
    {
        using var logits = Classifier.call(inputs);
        return ToProbabilities(logits);
    });

    public void Dispose()
    {
        optimizer.Dispose();
        generator.Dispose();
        Classifier.Dispose();
    }
}

/// <summary>Fine-tuning for multi-label classification: a backbone (pre-trained by DINO or CASS, or randomly
/// initialised for the supervised baseline) with a new linear classifier, all weights trained with binary
/// cross-entropy on the labels of the labelled images (S4MI, "Classification": "we initialize the networks with their
/// pre-trained weights and use corresponding image-label pairs"). The S4MI and CASS code use a focal loss for their
/// imbalanced multi-label set; with the synthetic findings' rates (30–45 %) plain BCE is used.</summary>
public sealed class MultiLabelFineTuning(BackboneWithHead classifier, FineTuningOptions? options = null) : FineTuning(classifier, options)
{
    /// <summary>Binary cross-entropy of each label's logit against its 0/1 target, averaged over labels and images:
    /// −[y log σ(z) + (1 − y) log(1 − σ(z))].</summary>
    public static Tensor MultiLabelLoss(Tensor logits, Tensor targets) =>
        nn.functional.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype));

    protected override string LossName => "bce";
    protected override Tensor Loss(Tensor logits, Tensor targets) => MultiLabelLoss(logits, targets);
    /// <summary>A sigmoid per label.</summary>
    protected override Tensor ToProbabilities(Tensor logits) => logits.sigmoid();
}

/// <summary>Fine-tuning for single-label classification, the softmax counterpart of <see cref="MultiLabelFineTuning"/>:
/// one logit per class, cross-entropy.</summary>
public sealed class SingleLabelFineTuning(BackboneWithHead classifier, FineTuningOptions? options = null) : FineTuning(classifier, options)
{
    /// <summary>Cross-entropy −log softmax(z)_y averaged over the images, y the class marked in each one-hot row of
    /// <paramref name="oneHot"/> [N, C].</summary>
    public static Tensor SingleLabelLoss(Tensor logits, Tensor oneHot)
    {
        using var classes = oneHot.argmax(1);
        return nn.functional.cross_entropy(logits, classes);
    }

    protected override string LossName => "ce";
    protected override Tensor Loss(Tensor logits, Tensor targets) => SingleLabelLoss(logits, targets);
    protected override Tensor ToProbabilities(Tensor logits) => logits.softmax(1);
}

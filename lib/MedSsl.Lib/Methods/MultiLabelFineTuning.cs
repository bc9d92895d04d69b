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

/// <summary>Fine-tuning for multi-label classification: a backbone (pre-trained by DINO or CASS, or randomly
/// initialised for the supervised baseline) with a new linear classifier, all weights trained with binary
/// cross-entropy on the labels of the labelled images (S4MI, "Classification": "we initialize the networks with their
/// pre-trained weights and use corresponding image-label pairs"). The S4MI and CASS code use a focal loss for their
/// imbalanced multi-label set; with the synthetic findings' rates (30–45 %) plain BCE is used.</summary>
public sealed class MultiLabelFineTuning : ITrainingMethod<TensorBatch>, IDisposable
{
    private readonly FineTuningOptions options;
    private readonly optim.Optimizer optimizer;
    private readonly Generator generator;

    /// <param name="classifier">backbone + linear head to one logit per label; build it outside any dispose scope</param>
    public MultiLabelFineTuning(BackboneWithHead classifier, FineTuningOptions? options = null)
    {
        this.options = options ?? new FineTuningOptions();
        Classifier = classifier;
        optimizer = optim.Adam(classifier.parameters(), lr: this.options.LearningRate);
        generator = new SeededRandom(this.options.Seed).TorchGenerator();
    }

    public BackboneWithHead Classifier { get; }
    public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["classifier"] = Classifier };
    public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["adam"] = optimizer };

    /// <summary>Binary cross-entropy of each label's logit against its 0/1 target, averaged over labels and images:
    /// −[y log σ(z) + (1 − y) log(1 − σ(z))].</summary>
    public static Tensor MultiLabelLoss(Tensor logits, Tensor targets) =>
        nn.functional.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype));

    /// <summary>One step on labelled images: batch.Targets are the labels [N, L] as 0/1.</summary>
    public LossTerms TrainStep(TensorBatch batch)
    {
        var x = options.Augment is null ? batch.Inputs : options.Augment.Apply(batch.Inputs, generator);
        return new LossTerms(("bce", optimizer.Minimize(() => MultiLabelLoss(Classifier.call(x), batch.Targets))));
    }

    /// <summary>The probability of each label [N, L] (sigmoid of the logits), in eval mode without gradients.</summary>
    public Tensor Predict(Tensor inputs) => Classifier.Evaluate(() =>
    {
        using var logits = Classifier.call(inputs);
        return logits.sigmoid();
    });

    public void Dispose()
    {
        optimizer.Dispose();
        generator.Dispose();
        Classifier.Dispose();
    }
}

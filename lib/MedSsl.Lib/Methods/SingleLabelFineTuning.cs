using MedSsl.Data;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods;

/// <summary>Fine-tuning for single-label classification, the softmax counterpart of <see cref="MultiLabelFineTuning"/>:
/// a backbone with a new linear head to one logit per class, all weights trained with cross-entropy, Adam, the same
/// options (<see cref="FineTuningOptions"/>).</summary>
public sealed class SingleLabelFineTuning : ITrainingMethod<TensorBatch>, IDisposable
{
    private readonly FineTuningOptions options;
    private readonly optim.Optimizer optimizer;
    private readonly Generator generator;

    /// <param name="classifier">backbone + linear head to one logit per class; build it outside any dispose scope</param>
    public SingleLabelFineTuning(BackboneWithHead classifier, FineTuningOptions? options = null)
    {
        this.options = options ?? new FineTuningOptions();
        Classifier = classifier;
        optimizer = optim.Adam(classifier.parameters(), lr: this.options.LearningRate);
        generator = new SeededRandom(this.options.Seed).TorchGenerator();
    }

    public BackboneWithHead Classifier { get; }
    public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["classifier"] = Classifier };
    public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["adam"] = optimizer };

    /// <summary>Cross-entropy −log softmax(z)_y averaged over the images, y the class marked in each one-hot row of
    /// <paramref name="oneHot"/> [N, C].</summary>
    public static Tensor SingleLabelLoss(Tensor logits, Tensor oneHot)
    {
        using var classes = oneHot.argmax(1);
        return nn.functional.cross_entropy(logits, classes);
    }

    /// <summary>One step on labelled images: batch.Targets are one-hot labels [N, C].</summary>
    public LossTerms TrainStep(TensorBatch batch)
    {
        var x = options.Augment is null ? batch.Inputs : options.Augment.Apply(batch.Inputs, generator);
        return new LossTerms(("ce", optimizer.Minimize(() => SingleLabelLoss(Classifier.call(x), batch.Targets))));
    }

    /// <summary>The probability of each class [N, C] (softmax of the logits), in eval mode without gradients.</summary>
    public Tensor Predict(Tensor inputs) => Classifier.Evaluate(() =>
    {
        using var logits = Classifier.call(inputs);
        return logits.softmax(1);
    });

    public void Dispose()
    {
        optimizer.Dispose();
        generator.Dispose();
        Classifier.Dispose();
    }
}

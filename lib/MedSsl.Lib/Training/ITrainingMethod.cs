using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Training;

/// <summary>A semi- or self-supervised method in the shape of USB's algorithms: it owns its networks (one, two, an EMA
/// teacher, a confidence network), their optimizers and its loss terms; <see cref="TrainStep"/> takes one batch and
/// returns the named loss terms; <see cref="Predict"/> is what gets evaluated. The equations live as pure static
/// functions beside each method. The one training loop, <see cref="Trainer"/>, drives it.</summary>
public interface ITrainingMethod<in TBatch>
{
    /// <summary>The networks by name (for train/eval mode and checkpoints).</summary>
    IReadOnlyDictionary<string, nn.Module> Networks { get; }

    /// <summary>The optimizers by name (for checkpoints that resume training).</summary>
    IReadOnlyDictionary<string, optim.Optimizer> Optimizers { get; }

    /// <summary>One optimisation step on a batch.</summary>
    LossTerms TrainStep(TBatch batch);

    /// <summary>The method's output for inputs (class probabilities, soft assignments, masks), in eval mode without gradients.</summary>
    Tensor Predict(Tensor inputs);
}

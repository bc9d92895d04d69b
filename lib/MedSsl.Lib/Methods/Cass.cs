using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods;

/// <summary>Settings of CASS (Singh et al. 2022; the S4MI paper, Singh et al. 2024, "Classification" and Fig. 1b;
/// the reference notebook pranavsinghps1/CASS, CASS.ipynb).</summary>
public sealed record CassOptions
{
    /// <summary>Adam learning rate (the reference code: 1e-3, cosine-annealed per iteration).</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>The one augmented view both networks see, or null for the images as they are. The reference applies
    /// its data-loader augmentation once per image and feeds the same tensor to the CNN and the transformer.</summary>
    public IAugmentation? Augment { get; init; }
    public int Seed { get; init; }
}

/// <summary>CASS, cross-architectural self-supervision (Singh et al. 2022; S4MI, Singh et al. 2024, "Classification"):
/// a CNN and a Transformer, each with a head to the same output width, see the <i>same</i> image; the positive pair is
/// made by the two architectures instead of two augmentations, and both networks are trained together to make their
/// outputs agree, by 2 − 2·cos(CNN output, ViT output) (<see cref="CassLoss"/>). One pre-training gives both backbones.
/// <para>Unlike the reference notebook, whose self-supervised loop never calls <c>zero_grad</c> (so every step applies
/// the sum of all past gradients), each step here starts from zero gradients (<see cref="OptimizerSteps.Minimize"/>):
/// the update is this step's loss only.</para></summary>
public sealed class Cass : ITrainingMethod<Tensor>, IDisposable
{
    private readonly CassOptions options;
    private readonly optim.Optimizer optimizer;
    private readonly Generator generator;

    /// <param name="cnn">CNN backbone + head to the common output width; build it outside any dispose scope</param>
    /// <param name="transformer">ViT backbone + head to the same width</param>
    public Cass(BackboneWithHead cnn, BackboneWithHead transformer, CassOptions? options = null)
    {
        this.options = options ?? new CassOptions();
        Cnn = cnn;
        Transformer = transformer;
        optimizer = optim.Adam(cnn.parameters().Concat(transformer.parameters()), lr: this.options.LearningRate);
        generator = new SeededRandom(this.options.Seed).TorchGenerator();
    }

    public BackboneWithHead Cnn { get; }
    public BackboneWithHead Transformer { get; }
    public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["cnn"] = Cnn, ["transformer"] = Transformer };
    public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["adam"] = optimizer };

    /// <summary>CASS's loss (Singh et al. 2022, §3; the reference <c>loss_fn</c>, as BYOL's): for each image,
    /// 2 − 2·⟨a/‖a‖, b/‖b‖⟩ = ‖a/‖a‖ − b/‖b‖‖², between the CNN's output a and the transformer's output b [N, K],
    /// averaged over the batch. Both sides receive gradients: neither network is a fixed target.</summary>
    public static Tensor CassLoss(Tensor cnnOutput, Tensor transformerOutput)
    {
        if (cnnOutput.dim() != 2 || !cnnOutput.shape.SequenceEqual(transformerOutput.shape))
            throw new ArgumentException($"CassLoss takes two outputs [N, K] of the same shape, got [{string.Join(", ", cnnOutput.shape)}] and [{string.Join(", ", transformerOutput.shape)}]");
        using var scope = torch.NewDisposeScope();
        var a = nn.functional.normalize(cnnOutput, p: 2, dim: 1);
        var b = nn.functional.normalize(transformerOutput, p: 2, dim: 1);
        return (2 - 2 * (a * b).sum(1)).mean().MoveToOuterDisposeScope();
    }

    /// <summary>One step on a batch of images: one view for both networks, the loss, zero_grad → backward → Adam step.
    /// Also reports how spread the CNN's normalised outputs are over the batch (0 when every image gets the same
    /// output, the collapsed solution that also minimises the loss).</summary>
    public LossTerms TrainStep(Tensor images)
    {
        var t = StepPhases.Start();
        var view = options.Augment is null ? images : options.Augment.Apply(images, generator);
        StepPhases.Stop("method: view (augmentation)", t);
        var spread = double.NaN;
        var loss = optimizer.Minimize(() =>
        {
            var cnnOutput = Cnn.call(view);
            using (torch.no_grad()) spread = nn.functional.normalize(cnnOutput, p: 2, dim: 1).std([0]).mean().ToDouble();
            return CassLoss(cnnOutput, Transformer.call(view));
        });
        return new LossTerms(("cass", loss), ("cnn_output_spread", spread));
    }

    /// <summary>The CNN backbone's features [N, D], in eval mode without gradients (the transformer's:
    /// <c>Transformer.Backbone</c>).</summary>
    public Tensor Predict(Tensor inputs) => Cnn.Evaluate(() => Cnn.Backbone.call(inputs));

    public void Dispose()
    {
        optimizer.Dispose();
        generator.Dispose();
        Cnn.Dispose();
        Transformer.Dispose();
    }
}

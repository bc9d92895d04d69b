using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods;

/// <summary>The fully supervised baseline of Singh et al.'s segmentation comparison (Fig. 5, "Full"): one of
/// cross-teaching's networks (the CNN U-Net, or the Swin-UNet) trained on the labelled images only with
/// L_supervised = ½(Dice + CE) (§Segmentation, eq. (1)), with cross-teaching's optimizer and schedule (SGD, poly decay),
/// so the only difference is the unlabelled term. The paper's baseline is a ResNet-34 U-Net from ImageNet weights
/// (DEDL); no pre-trained weights can be had here.</summary>
public sealed class SupervisedSegmentation : ITrainingMethod<SegmentationBatch>, IDisposable
{
    private readonly CrossTeachingOptions options;
    private readonly optim.Optimizer optimizer;
    private int step;

    public SupervisedSegmentation(nn.Module<Tensor, Tensor> network, CrossTeachingOptions? options = null)
    {
        this.options = options ?? new CrossTeachingOptions();
        Network = network;
        optimizer = optim.SGD(network.parameters(), this.options.LearningRate, momentum: this.options.Momentum, weight_decay: this.options.WeightDecay);
    }

    public nn.Module<Tensor, Tensor> Network { get; }
    public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["network"] = Network };
    public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["sgd"] = optimizer };

    /// <summary>One step of ½(Dice + CE) on the labelled images (the batch's unlabelled images are ignored), then the poly decay.</summary>
    public LossTerms TrainStep(SegmentationBatch batch)
    {
        var loss = optimizer.Minimize(() => CrossTeaching.SupervisedLoss(Network.call(batch.Labelled), batch.Masks));
        step++;
        var rate = Schedules.Poly(Math.Min(step, options.TotalSteps), options.TotalSteps, options.LearningRate, options.PolyPower);
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
        return new LossTerms(("supervised", loss));
    }

    /// <summary>The network's class probabilities [N, K, H, W], in eval mode without gradients.</summary>
    public Tensor Predict(Tensor inputs) => Segmenters.Probabilities(Network, inputs);

    public void Dispose()
    {
        optimizer.Dispose();
        Network.Dispose();
    }
}

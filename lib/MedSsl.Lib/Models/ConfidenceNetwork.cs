using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedSsl.Models;

/// <summary>INERRANT's confidence network (Petit et al. 2021, §3.2.2, Figure 3, Table 11): a duplicate of the
/// segmentation U-Net whose pre-head features (<see cref="UNet.Features"/>, the map before the final 1×1 convolution)
/// feed a small convolutional head — 3×3 convolutions with ReLU, then a 1×1 convolution to one confidence logit per
/// organ, ĉ_ik = sigmoid(logit). The head mirrors ConfidNet's segmentation head (Corbière et al. 2019: stacked
/// convolutions on the penultimate map, one output) with one output per binary classifier, at our widths.
/// <para>The duplicate is initialised from the segmentation network (<see cref="CopyBackboneFrom"/>). With
/// <see cref="FineTuneBackbone"/> false it stays frozen in eval mode, batch norm included (ConfidNet's
/// selfconfid learner); true fine-tunes it with the head, the configuration the paper found better (§4.3.1) — the
/// segmentation network itself is never touched, so its predictions do not change.</para></summary>
public sealed class ConfidenceNetwork : nn.Module<Tensor, Tensor>
{
    private readonly UNet backbone;
    private readonly Sequential head;

    /// <param name="backbone">a U-Net of the same architecture as the segmentation network (its weights are copied in by <see cref="CopyBackboneFrom"/>)</param>
    /// <param name="organs">K, one confidence map per binary classifier</param>
    /// <param name="hidden">channels of the head's 3×3 convolutions</param>
    /// <param name="layers">number of 3×3 convolutions in the head</param>
    /// <param name="fineTuneBackbone">train the duplicate with the head (paper) or keep it frozen (ConfidNet)</param>
    public ConfidenceNetwork(UNet backbone, long organs, long hidden = 32, int layers = 3, bool fineTuneBackbone = true)
        : base(nameof(ConfidenceNetwork))
    {
        if (organs < 1) throw new ArgumentOutOfRangeException(nameof(organs), organs, "at least one organ");
        if (layers < 1) throw new ArgumentOutOfRangeException(nameof(layers), layers, "at least one 3×3 convolution");
        this.backbone = backbone;
        FineTuneBackbone = fineTuneBackbone;
        var modules = new List<nn.Module<Tensor, Tensor>>();
        var channels = backbone.FeatureChannels;
        for (var i = 0; i < layers; i++)
        {
            modules.Add(nn.Conv2d(channels, hidden, 3, padding: 1));
            modules.Add(nn.ReLU());
            channels = hidden;
        }
        modules.Add(nn.Conv2d(channels, organs, 1));
        head = nn.Sequential(modules);
        RegisterComponents();
        SetBackboneTrainable();
    }

    public bool FineTuneBackbone { get; }

    /// <summary>The parameters an optimizer should update: the head's, plus the duplicate's when it is fine-tuned.</summary>
    public IEnumerable<Parameter> TrainableParameters() => FineTuneBackbone ? parameters() : head.parameters();

    /// <summary>Sets the bias of the last 1×1 convolution, i.e. the initial confidence logit of every pixel and organ.</summary>
    public void SetOutputBias(double value)
    {
        using var noGrad = torch.no_grad();
        ((Conv2d)head.children().Last()).bias!.fill_(value);
    }

    /// <summary>Copies the segmentation network's weights and batch-norm statistics into the duplicate (Algorithm 2
    /// retrains the confidence network from the current segmentation model at every relabeling step).</summary>
    public void CopyBackboneFrom(UNet segmentation)
    {
        using var noGrad = torch.no_grad();
        backbone.load_state_dict(segmentation.state_dict());
        SetBackboneTrainable();
    }

    /// <summary>Images [N, C, H, W] → confidence logits [N, K, H, W]; ĉ = sigmoid of them.</summary>
    public override Tensor forward(Tensor x)
    {
        if (FineTuneBackbone)
        {
            using var features = backbone.Features(x);
            return head.call(features);
        }
        Tensor frozen;
        using (torch.no_grad()) frozen = backbone.Features(x);
        using (frozen) return head.call(frozen);
    }

    /// <summary>A frozen duplicate stays in eval mode (batch norm uses its running statistics) whatever mode the
    /// trainer sets, as ConfidNet does.</summary>
    public override void train(bool train = true)
    {
        base.train(train);
        if (!FineTuneBackbone) backbone.eval();
    }

    private void SetBackboneTrainable()
    {
        foreach (var p in backbone.parameters()) p.requires_grad = FineTuneBackbone;
        if (!FineTuneBackbone) backbone.eval();
    }
}

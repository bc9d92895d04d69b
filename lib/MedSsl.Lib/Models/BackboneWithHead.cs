using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Models;

/// <summary>A backbone (<see cref="ResNet"/>, <see cref="VisionTransformer"/>) followed by a head on its feature
/// vector: a projection head in self-supervised pre-training (DINO's, CASS's), a classifier when fine-tuning. The
/// backbone is what moves from pre-training to fine-tuning; the head is replaced.</summary>
public sealed class BackboneWithHead : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> backbone;
    private readonly nn.Module<Tensor, Tensor> head;

    public BackboneWithHead(nn.Module<Tensor, Tensor> backbone, nn.Module<Tensor, Tensor> head) : base(nameof(BackboneWithHead))
    {
        this.backbone = backbone;
        this.head = head;
        RegisterComponents();
    }

    public nn.Module<Tensor, Tensor> Backbone => backbone;
    public nn.Module<Tensor, Tensor> Head => head;

    /// <summary>Images → head outputs.</summary>
    public override Tensor forward(Tensor x)
    {
        using var features = backbone.call(x);
        return head.call(features);
    }

    /// <summary>The width of a backbone's feature vector.</summary>
    public static long FeatureDim(nn.Module<Tensor, Tensor> backbone) => backbone switch
    {
        ResNet r => r.FeatureDim,
        VisionTransformer v => v.FeatureDim,
        _ => throw new ArgumentException($"BackboneWithHead does not know the feature width of a {backbone.GetType().Name}"),
    };
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedSsl.Models;

/// <summary>DINO's projection head (Caron et al. 2021, §3.1 "Network architecture" and App. C): a 3-layer MLP
/// (hidden width 2048 and GELU in the paper) to a bottleneck (256), ℓ2 normalisation, and a weight-normalised linear
/// layer without bias to K prototypes (65 536), its weight norm fixed at 1 (<c>norm_last_layer=True</c>), so the
/// outputs are cosines scaled by the softmax temperature in the loss.</summary>
public sealed class DinoHead : nn.Module<Tensor, Tensor>
{
    private readonly Sequential mlp;
    private readonly Parameter prototypes;

    public DinoHead(long inputs, long prototypes, long hidden = 2048, long bottleneck = 256) : base(nameof(DinoHead))
    {
        mlp = nn.Sequential(nn.Linear(inputs, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, bottleneck));
        var bound = 1 / Math.Sqrt(bottleneck);
        this.prototypes = nn.Parameter(torch.empty(prototypes, bottleneck).uniform_(-bound, bound));
        RegisterComponents();
    }

    /// <summary>Features [N, inputs] → prototype scores [N, K], each the cosine of the bottleneck with a prototype.</summary>
    public override Tensor forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        var z = nn.functional.normalize(mlp.call(features), p: 2, dim: 1);
        var w = nn.functional.normalize(prototypes, p: 2, dim: 1);
        return z.matmul(w.t()).MoveToOuterDisposeScope();
    }
}

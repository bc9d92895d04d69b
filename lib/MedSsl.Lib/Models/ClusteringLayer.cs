using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace MedSsl.Models;

/// <summary>DEC's clustering layer (Xie et al. 2016; SSLDEC eq. 1): learnable centroids μ_j and a
/// Student-t kernel turning an embedding z_i into soft assignments q_ij. Centroids start
/// Glorot-uniform, as in the SSLDEC reference code (no k-means).</summary>
public sealed class ClusteringLayer : nn.Module<Tensor, Tensor>
{
    public double alpha { get; }
    public Parameter centroids;

    public ClusteringLayer(long clusters, long embedding_dim, double alpha = 1.0) : base(nameof(ClusteringLayer))
    {
        this.alpha = alpha;
        var bound = Math.Sqrt(6.0 / (clusters + embedding_dim));
        centroids = nn.Parameter(torch.empty(clusters, embedding_dim).uniform_(-bound, bound));
        RegisterComponents();
    }

    /// <summary>q_ij for embeddings z [N, D] (eq. 1).</summary>
    public override Tensor forward(Tensor z) => StudentT(z, centroids, alpha);

    /// <summary>Eq. 1: q_ij ∝ (1 + ‖z_i − μ_j‖² / α)^(−(α+1)/2), normalised over clusters j.
    /// The exponent is DEC's −(α+1)/2 (the paper's typesetting drops the parentheses; with α = 1 both read −1).</summary>
    public static Tensor StudentT(Tensor z, Tensor mu, double alpha = 1.0)
    {
        using var scope = torch.NewDisposeScope();
        var squared = (z.unsqueeze(1) - mu.unsqueeze(0)).pow(2).sum(2);
        var kernel = (squared / alpha + 1).pow(-(alpha + 1) / 2);
        return (kernel / kernel.sum(1, keepdim: true)).MoveToOuterDisposeScope();
    }

    public override string ToString() => $"ClusteringLayer(k={centroids.size(0)}, d={centroids.size(1)}, alpha={alpha})";
}

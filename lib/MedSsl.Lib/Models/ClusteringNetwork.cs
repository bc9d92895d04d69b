using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Models;

/// <summary>A backbone mapping inputs to an embedding z, with DEC's clustering layer on top: inputs → soft cluster
/// assignments q [N, K] (Xie et al. 2016; Enguehard et al. 2019, Fig. 1).</summary>
public sealed class ClusteringNetwork : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> backbone;
    private readonly ClusteringLayer clustering;

    /// <param name="backbone">maps inputs [N, ...] to embeddings [N, embeddingDim] (no softmax)</param>
    public ClusteringNetwork(nn.Module<Tensor, Tensor> backbone, long embeddingDim, long clusters) : base(nameof(ClusteringNetwork))
    {
        this.backbone = backbone;
        clustering = new ClusteringLayer(clusters, embeddingDim);
        RegisterComponents();
    }

    public long Clusters => clustering.centroids.size(0);

    /// <summary>The embedding z [N, embeddingDim] the clustering layer sees (for k-means and t-SNE of what was learned).</summary>
    public Tensor Embed(Tensor x) => backbone.call(x);

    public override Tensor forward(Tensor x)
    {
        using var z = backbone.call(x);
        return clustering.call(z);
    }
}

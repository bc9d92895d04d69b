using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Embedding;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods;

/// <summary>Settings of PiCIE (Cho et al. 2021; the unsupervised arm of Singh et al., §Segmentation, "Unsupervised
/// approach") at our scale.</summary>
public sealed record PicieOptions
{
    /// <summary>Clusters K. PiCIE uses the number of classes of the benchmark (27 on COCO-Stuff) and matches clusters to
    /// classes one-to-one for evaluation; here the two classes of the masks, lesion and skin.</summary>
    public int Clusters { get; init; } = 2;
    /// <summary>Rounds of (k-means on pixel features → training against the cluster labels): PiCIE's epochs (10 in its
    /// train_picie.sh; Singh et al. train 50).</summary>
    public int Rounds { get; init; } = 10;
    public int StepsPerRound { get; init; } = 20;
    public int BatchSize { get; init; } = 16;
    /// <summary>Pixels sampled per image for k-means each round (PiCIE clusters features sampled from its first batches).</summary>
    public int PixelsPerImage { get; init; } = 64;
    /// <summary>Lloyd iterations of each k-means (PiCIE: 10 with faiss).</summary>
    public int KMeansIterations { get; init; } = 10;
    /// <summary>Adam's learning rate. PiCIE trains with Adam at 1e-4 for 10 epochs of 320-pixel crops; Singh et al. switched
    /// to SGD 1e-4 with StepLR for 50 epochs. Our runs are a few hundred steps, so both would barely move the features:
    /// Adam at 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;
    public int Seed { get; init; }
}

/// <summary>PiCIE, pixel-level feature clustering using invariance and equivariance (Cho et al. 2021, "PiCIE: Unsupervised
/// semantic segmentation using invariance and equivariance in clustering", CVPR; Singh et al., Fig. 4). A CNN gives every
/// pixel a feature (here the U-Net's last decoder map, L2-normalised). Each image gets two photometric views P₁x and P₂x
/// and one geometric transform G (a symmetry of the square): z₁ = G(f(P₁x)) (G applied to the features) and
/// z₂ = f(G(P₂x)) (G applied to the image) should agree pixel by pixel. Each round, k-means on sampled pixel features of
/// each view gives centroids μ¹, μ²; training then asks every pixel's feature to be classified, by cosine similarity to
/// the centroids, into its own view's cluster (within-view) and into the other view's cluster (cross-view), alternating
/// with re-clustering as in DeepCluster. Labels are taken from the current features at each step (PiCIE labels the whole
/// set once per epoch with the features of that moment): the same target for fixed centroids, without storing the views.</summary>
public sealed class Picie : ITrainingMethod<TensorBatch>, IDisposable
{
    private readonly PicieOptions options;
    private readonly optim.Optimizer optimizer;
    private readonly Generator generator;
    private readonly PhotometricJitter photometric = new();
    private Tensor? centroids1;
    private Tensor? centroids2;

    /// <param name="network">the CNN whose <see cref="UNet.Features"/> are the pixel features (build it outside any dispose scope)</param>
    public Picie(UNet network, PicieOptions? options = null)
    {
        this.options = options ?? new PicieOptions();
        Network = network;
        generator = new SeededRandom(this.options.Seed, stream: 17).TorchGenerator();
        optimizer = optim.Adam(network.parameters(), this.options.LearningRate);
    }

    public UNet Network { get; }
    public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["cnn"] = Network };
    public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["adam"] = optimizer };

    /// <summary>The centroids of view 1 [K, F] (unit length), used for prediction; null before the first round.</summary>
    public Tensor? Centroids => centroids1;

    // ---- the paper's equations ------------------------------------------------------------

    /// <summary>Cosine-similarity logits of every pixel to every centroid: ⟨z_p, μ_k⟩ for unit features z [B, F, H, W] and
    /// unit centroids μ [K, F] → [B, K, H, W] (PiCIE's classifier is a 1×1 convolution whose weights are the centroids;
    /// with its cosine metric both are normalised).</summary>
    public static Tensor CosineLogits(Tensor features, Tensor centroids) => torch.einsum("bfhw,kf->bkhw", features, centroids);

    /// <summary>The clustering loss L_clust(z, y, μ) = −Σ_p log softmax_k(⟨z_p, μ_k⟩)[y_p] (Cho et al. 2021, eq. 2, cosine
    /// metric), averaged over pixels.</summary>
    public static Tensor ClusterLoss(Tensor features, Tensor labels, Tensor centroids)
    {
        using var scope = NewDisposeScope();
        return nn.functional.cross_entropy(CosineLogits(features, centroids), labels).MoveToOuterDisposeScope();
    }

    /// <summary>Each pixel's nearest centroid by cosine similarity, [B, H, W] (the cluster labels of eq. 3).</summary>
    public static Tensor ClusterLabels(Tensor features, Tensor centroids)
    {
        using var noGrad = torch.no_grad();
        using var logits = CosineLogits(features.detach(), centroids);
        return logits.argmax(1);
    }

    /// <summary>L_within = ½[L_clust(z₁, y₁, μ¹) + L_clust(z₂, y₂, μ²)] and L_cross = ½[L_clust(z₁, y₂, μ²) +
    /// L_clust(z₂, y₁, μ¹)] (Cho et al. 2021, eqs. 4 and 6; halves so both are on the scale of one term), where
    /// z₁ = G(f(P₁x)), z₂ = f(G(P₂x)) and y_v are the view's cluster labels. The loss is ½(L_within + L_cross)
    /// (eq. 7 with both weights ½).</summary>
    public static (Tensor Within, Tensor Cross) Losses(Tensor z1, Tensor z2, Tensor labels1, Tensor labels2, Tensor centroids1, Tensor centroids2)
    {
        using var scope = NewDisposeScope();
        var within = 0.5 * (ClusterLoss(z1, labels1, centroids1) + ClusterLoss(z2, labels2, centroids2));
        var cross = 0.5 * (ClusterLoss(z1, labels2, centroids2) + ClusterLoss(z2, labels1, centroids1));
        return (within.MoveToOuterDisposeScope(), cross.MoveToOuterDisposeScope());
    }

    /// <summary>The cluster → class map that maximises the pixels where they agree (Hungarian matching, as PiCIE
    /// evaluates), from cluster indices and class masks of the same pixels; clusters left unmatched (K &gt; classes) map to
    /// the class they overlap most.</summary>
    public static int[] MatchClusters(Tensor clusters, Tensor masks, int k, int classes)
    {
        var c = clusters.reshape(-1).data<long>().ToArray();
        var m = masks.reshape(-1).data<long>().ToArray();
        if (c.Length != m.Length) throw new ArgumentException($"{c.Length} cluster labels for {m.Length} mask pixels");
        var counts = new double[k, classes];
        for (var i = 0; i < c.Length; i++) counts[c[i], m[i]]++;
        var match = LinearAssignment.Solve(counts, maximize: true);
        for (var j = 0; j < k; j++)
            if (match[j] < 0) match[j] = Enumerable.Range(0, classes).MaxBy(t => counts[j, t]);
        return match;
    }

    // ---- the method ------------------------------------------------------------------------

    /// <summary>Unit pixel features [B, F, H, W] of images.</summary>
    public Tensor Features(Tensor images)
    {
        using var scope = NewDisposeScope();
        return nn.functional.normalize(Network.Features(images), dim: 1).MoveToOuterDisposeScope();
    }

    /// <summary>z₁ = G(f(P₁x)) and z₂ = f(G(P₂x)) for one draw of P₁, P₂ and G per image.</summary>
    public (Tensor Z1, Tensor Z2) Views(Tensor images)
    {
        using var scope = NewDisposeScope();
        var codes = RandomDihedral.Draw(images.size(0), generator);
        var view1 = photometric.Apply(images, generator);
        var view2 = RandomDihedral.Transform(photometric.Apply(images, generator), codes);
        var z1 = RandomDihedral.Transform(Features(view1), codes);
        var z2 = Features(view2);
        return (z1.MoveToOuterDisposeScope(), z2.MoveToOuterDisposeScope());
    }

    /// <summary>The clustering step of a round: both views' features of <paramref name="images"/> (eval mode, no
    /// gradients), <see cref="PicieOptions.PixelsPerImage"/> pixels sampled per image, k-means per view; the centroids are
    /// normalised for the cosine logits. Returns the two inertias.</summary>
    public (double Inertia1, double Inertia2) Recluster(Tensor images) => Network.Evaluate(() =>
    {
        using var scope = NewDisposeScope();
        var (z1, z2) = Views(images);
        var pixels = z1.size(2) * z1.size(3);
        var take = Math.Min(options.PixelsPerImage, pixels);
        var sample = torch.rand([z1.size(0), pixels], generator: generator).argsort(1)[.., ..(int)take];
        Tensor Sampled(Tensor z) => z.flatten(2).transpose(1, 2).gather(1, sample.unsqueeze(2).expand(-1, -1, z.size(1))).reshape(-1, z.size(1));
        using var fit1 = KMeans.Fit(Sampled(z1), options.Clusters, generator, options.KMeansIterations);
        using var fit2 = KMeans.Fit(Sampled(z2), options.Clusters, generator, options.KMeansIterations);
        centroids1?.Dispose();
        centroids2?.Dispose();
        centroids1 = nn.functional.normalize(fit1.Centroids, dim: 1).MoveToOuterDisposeScope();
        centroids2 = nn.functional.normalize(fit2.Centroids, dim: 1).MoveToOuterDisposeScope();
        return (fit1.Inertia, fit2.Inertia);
    });

    /// <summary>One step on a batch of images (the batch's targets are ignored: no labels): both views, each view's cluster
    /// labels from its centroids, loss ½(L_within + L_cross).</summary>
    public LossTerms TrainStep(TensorBatch batch)
    {
        if (centroids1 is null || centroids2 is null) throw new InvalidOperationException("PiCIE needs centroids: call Recluster before training");
        double within = 0, cross = 0;
        var total = optimizer.Minimize(() =>
        {
            var (z1, z2) = Views(batch.Inputs);
            var (w, c) = Losses(z1, z2, ClusterLabels(z1, centroids1), ClusterLabels(z2, centroids2), centroids1, centroids2);
            within = w.ToDouble();
            cross = c.ToDouble();
            return 0.5 * (w + c);
        });
        return new LossTerms(("total", total), ("within", within), ("cross", cross));
    }

    /// <summary>Alternates <see cref="PicieOptions.Rounds"/> times: k-means on the images' pixel features, then
    /// <see cref="PicieOptions.StepsPerRound"/> steps; a last k-means gives the centroids used for prediction.</summary>
    public Picie Fit(Tensor images, Trainer trainer)
    {
        using var noTargets = torch.zeros([images.size(0)]);
        using var batches = Batches.Shuffled(images, noTargets, options.BatchSize, generator, epochs: int.MaxValue).GetEnumerator();
        for (var round = 1; round <= options.Rounds; round++)
        {
            Recluster(images);
            trainer.Run(this, Remaining(batches), $"PiCIE round {round}/{options.Rounds}", options.StepsPerRound);
        }
        Recluster(images);
        return this;
    }

    private static IEnumerable<TensorBatch> Remaining(IEnumerator<TensorBatch> batches)
    {
        while (batches.MoveNext()) yield return batches.Current;
    }

    /// <summary>Soft cluster assignments [N, K, H, W] of the images (softmax of the cosine logits to the view-1 centroids,
    /// no transform), in eval mode without gradients.</summary>
    public Tensor Predict(Tensor inputs)
    {
        if (centroids1 is null) throw new InvalidOperationException("PiCIE has no centroids yet: fit it first");
        return Network.Evaluate(() =>
        {
            using var features = Features(inputs);
            using var logits = CosineLogits(features, centroids1);
            return logits.softmax(1);
        });
    }

    public void Dispose()
    {
        optimizer.Dispose();
        generator.Dispose();
        centroids1?.Dispose();
        centroids2?.Dispose();
        Network.Dispose();
    }
}

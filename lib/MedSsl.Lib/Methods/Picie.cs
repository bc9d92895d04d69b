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
    /// <summary>Whether the cluster cross-entropy weighs each cluster by its share of the round's labels (PiCIE's default;
    /// its <c>--no_balance</c> switches it off).</summary>
    public bool Balanced { get; init; } = true;
    public int Seed { get; init; }
}

/// <summary>One PiCIE training step's batch: the round's fixed views of some images (view 1 = P₁x, view 2 = G(P₂x)), the
/// dihedral codes of G, and each view's cluster labels from the start of the round.</summary>
public sealed record PicieBatch(Tensor View1, Tensor View2, Tensor Codes, Tensor Labels1, Tensor Labels2);

/// <summary>PiCIE, pixel-level feature clustering using invariance and equivariance (Cho et al. 2021, "PiCIE: Unsupervised
/// semantic segmentation using invariance and equivariance in clustering", CVPR; Singh et al., Fig. 4). A CNN gives every
/// pixel a feature (here the U-Net's last decoder map, L2-normalised). Each image gets two photometric views P₁x and P₂x
/// and one geometric transform G (a symmetry of the square): z₁ = G(f(P₁x)) (G applied to the features) and
/// z₂ = f(G(P₂x)) (G applied to the image) should agree pixel by pixel. Each round (PiCIE's epoch) draws the views of
/// every training image once, runs k-means on sampled pixel features of each view (centroids μ¹, μ²), labels every
/// pixel of every image with its nearest centroid and counts the labels, as PiCIE's <c>compute_labels</c> does; the
/// round's steps then train on those fixed views and labels with the cross-entropy weighted per cluster by its share
/// of the labelled pixels (PiCIE's default, <c>--no_balance</c> off), asking every pixel's feature to be classified, by
/// cosine similarity to the centroids, into its own view's cluster (within-view) and into the other view's (cross-view),
/// alternating with re-clustering as in DeepCluster. The labels are those of the features at the round's start: the
/// steps move the features away from them, which is the point of alternating.</summary>
public sealed class Picie : ITrainingMethod<PicieBatch>, IDisposable
{
    private readonly PicieOptions options;
    private readonly optim.Optimizer optimizer;
    private readonly Generator generator;
    private readonly PhotometricJitter photometric = new();
    private Tensor? centroids1;
    private Tensor? centroids2;
    private Tensor? weights1;
    private Tensor? weights2;

    /// <param name="network">the CNN whose <see cref="UNet.Features"/> are the pixel features (build it outside any dispose scope)</param>
    public Picie(UNet network, PicieOptions? options = null)
    {
        this.options = options ?? new PicieOptions();
        Network = network;
        generator = new SeededRandom(this.options.Seed, RandomStreams.Picie).TorchGenerator();
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
    /// metric), averaged over pixels; with <paramref name="weights"/> [K], PiCIE's weighted cross-entropy
    /// Σ_p w_{y_p}·ℓ_p / Σ_p w_{y_p} (PyTorch's <c>CrossEntropyLoss(weight=…)</c>).</summary>
    public static Tensor ClusterLoss(Tensor features, Tensor labels, Tensor centroids, Tensor? weights = null)
    {
        using var scope = NewDisposeScope();
        return nn.functional.cross_entropy(CosineLogits(features, centroids), labels, weight: weights).MoveToOuterDisposeScope();
    }

    /// <summary>PiCIE's cluster weights (<c>compute_labels</c>): the share of the labelled pixels in each of the
    /// <paramref name="k"/> clusters, counts / Σ counts. PiCIE's code weights a cluster in proportion to its share (not
    /// inversely; github.com/janghyuncho/PiCIE/issues/28 asks about exactly this), so the larger cluster counts more.</summary>
    public static Tensor ClusterWeights(Tensor labels, int k)
    {
        using var scope = NewDisposeScope();
        var counts = torch.bincount(labels.reshape(-1), minlength: k).to(ScalarType.Float32);
        return (counts / counts.sum()).MoveToOuterDisposeScope();
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
    /// z₁ = G(f(P₁x)), z₂ = f(G(P₂x)) and y_v are the view's cluster labels; each term against view v's labels uses view
    /// v's cluster weights (PiCIE's criterion1/criterion2), none when null. The loss is ½(L_within + L_cross) (eq. 7 with
    /// both weights ½).</summary>
    public static (Tensor Within, Tensor Cross) Losses(Tensor z1, Tensor z2, Tensor labels1, Tensor labels2, Tensor centroids1, Tensor centroids2,
        Tensor? weights1 = null, Tensor? weights2 = null)
    {
        using var scope = NewDisposeScope();
        var within = 0.5 * (ClusterLoss(z1, labels1, centroids1, weights1) + ClusterLoss(z2, labels2, centroids2, weights2));
        var cross = 0.5 * (ClusterLoss(z1, labels2, centroids2, weights2) + ClusterLoss(z2, labels1, centroids1, weights1));
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

    /// <summary>One draw of P₁, P₂ and G per image: view 1 = P₁x, view 2 = G(P₂x), and G's codes.</summary>
    public (Tensor View1, Tensor View2, Tensor Codes) DrawViews(Tensor images)
    {
        using var scope = NewDisposeScope();
        var codes = RandomDihedral.Draw(images.size(0), generator);
        var view1 = photometric.Apply(images, generator);
        var view2 = RandomDihedral.Transform(photometric.Apply(images, generator), codes);
        return (view1.MoveToOuterDisposeScope(), view2.MoveToOuterDisposeScope(), codes.MoveToOuterDisposeScope());
    }

    /// <summary>z₁ = G(f(view 1)) and z₂ = f(view 2) = f(G(P₂x)).</summary>
    public (Tensor Z1, Tensor Z2) Embed(Tensor view1, Tensor view2, Tensor codes)
    {
        using var scope = NewDisposeScope();
        var z1 = RandomDihedral.Transform(Features(view1), codes);
        var z2 = Features(view2);
        return (z1.MoveToOuterDisposeScope(), z2.MoveToOuterDisposeScope());
    }

    /// <summary>The clustering half of a round (PiCIE's <c>run_mini_batch_kmeans</c> and <c>compute_labels</c>): both
    /// views' features of the round's views (eval mode, no gradients), <see cref="PicieOptions.PixelsPerImage"/> pixels
    /// sampled per image, k-means per view (the centroids normalised for the cosine logits), then every pixel's label per
    /// view and the clusters' weights. Returns the round's labels [N, H, W] per view.</summary>
    public (Tensor Labels1, Tensor Labels2) Recluster(Tensor view1, Tensor view2, Tensor codes) => Network.Evaluate(() =>
    {
        using var scope = NewDisposeScope();
        var (z1, z2) = Embed(view1, view2, codes);
        var pixels = z1.size(2) * z1.size(3);
        var take = Math.Min(options.PixelsPerImage, pixels);
        var sample = torch.rand([z1.size(0), pixels], generator: generator).argsort(1)[.., ..(int)take];
        Tensor Sampled(Tensor z) => z.flatten(2).transpose(1, 2).gather(1, sample.unsqueeze(2).expand(-1, -1, z.size(1))).reshape(-1, z.size(1));
        using var fit1 = KMeans.Fit(Sampled(z1), options.Clusters, generator, options.KMeansIterations);
        using var fit2 = KMeans.Fit(Sampled(z2), options.Clusters, generator, options.KMeansIterations);
        centroids1?.Dispose();
        centroids2?.Dispose();
        weights1?.Dispose();
        weights2?.Dispose();
        centroids1 = nn.functional.normalize(fit1.Centroids, dim: 1).MoveToOuterDisposeScope();
        centroids2 = nn.functional.normalize(fit2.Centroids, dim: 1).MoveToOuterDisposeScope();
        var labels1 = ClusterLabels(z1, centroids1);
        var labels2 = ClusterLabels(z2, centroids2);
        weights1 = (options.Balanced ? ClusterWeights(labels1, options.Clusters) : torch.ones(options.Clusters)).MoveToOuterDisposeScope();
        weights2 = (options.Balanced ? ClusterWeights(labels2, options.Clusters) : torch.ones(options.Clusters)).MoveToOuterDisposeScope();
        return (labels1.MoveToOuterDisposeScope(), labels2.MoveToOuterDisposeScope());
    });

    /// <summary>The weights of the clusters of view 1 and view 2 in this round (ones without <see cref="PicieOptions.Balanced"/>).</summary>
    public (Tensor? View1, Tensor? View2) ClusterWeightsOfRound => (weights1, weights2);

    /// <summary>One step on the round's views of a batch of images (no labels): both views' features, the round's
    /// cluster labels, loss ½(L_within + L_cross) with the round's cluster weights.</summary>
    public LossTerms TrainStep(PicieBatch batch)
    {
        if (centroids1 is null || centroids2 is null) throw new InvalidOperationException("PiCIE needs centroids: call Recluster before training");
        double within = 0, cross = 0;
        var total = optimizer.Minimize(() =>
        {
            var (z1, z2) = Embed(batch.View1, batch.View2, batch.Codes);
            var (w, c) = Losses(z1, z2, batch.Labels1, batch.Labels2, centroids1, centroids2, weights1, weights2);
            within = w.ToDouble();
            cross = c.ToDouble();
            return 0.5 * (w + c);
        });
        return new LossTerms(("total", total), ("within", within), ("cross", cross));
    }

    /// <summary><see cref="PicieOptions.Rounds"/> rounds: fresh views of the images, k-means and labels
    /// (<see cref="Recluster"/>), then <see cref="PicieOptions.StepsPerRound"/> steps on shuffled batches of those views
    /// and labels. A last k-means on the untransformed images' features gives the centroids used for prediction
    /// (PiCIE's evaluation clusters the plain images' features).</summary>
    public Picie Fit(Tensor images, Trainer trainer)
    {
        for (var round = 1; round <= options.Rounds; round++)
        {
            var (view1, view2, codes) = DrawViews(images);
            var (labels1, labels2) = Recluster(view1, view2, codes);
            try { trainer.Run(this, RoundBatches(view1, view2, codes, labels1, labels2), $"PiCIE round {round}/{options.Rounds}", options.StepsPerRound); }
            finally
            {
                foreach (var t in new[] { view1, view2, codes, labels1, labels2 }) t.Dispose();
            }
        }
        using var none = torch.zeros(images.size(0), ScalarType.Int64);
        var (last1, last2) = Recluster(images, images, none);   // code 0: the identity
        last1.Dispose();
        last2.Dispose();
        return this;
    }

    private IEnumerable<PicieBatch> RoundBatches(Tensor view1, Tensor view2, Tensor codes, Tensor labels1, Tensor labels2)
    {
        var n = view1.size(0);
        while (true)
        {
            long[] order;
            using (var permutation = torch.randperm(n, generator: generator)) order = permutation.data<long>().ToArray();
            for (var start = 0; start < n; start += options.BatchSize)
            {
                var index = torch.tensor(order[start..(int)Math.Min(n, start + options.BatchSize)]);
                yield return new PicieBatch(view1.index_select(0, index), view2.index_select(0, index), codes.index_select(0, index),
                    labels1.index_select(0, index), labels2.index_select(0, index));
            }
        }
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
        weights1?.Dispose();
        weights2?.Dispose();
        Network.Dispose();
    }
}

using MedSsl.Data;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Embedding;

/// <summary>How t-SNE places the points before optimising.</summary>
public enum TsneInit
{
    /// <summary>The first principal components, scaled so the first has standard deviation 1e-4 (sklearn ≥ 1.2).</summary>
    Pca,
    /// <summary>Gaussian noise with standard deviation 1e-4, from the seeded generator.</summary>
    Random,
}

/// <summary>How t-SNE computes its gradient.</summary>
public enum TsneMethod
{
    /// <summary>van der Maaten 2014: P on the 3·perplexity nearest neighbours, repulsion from a quadtree with
    /// opening angle <see cref="Tsne.Angle"/>. O(N log N) per iteration; 2-d embeddings only. sklearn's default.</summary>
    BarnesHut,
    /// <summary>van der Maaten &amp; Hinton 2008: dense P and Q, O(N²) time and memory per iteration.</summary>
    Exact,
}

/// <summary>t-SNE following sklearn.manifold.TSNE step for step: per-point binary search on the Gaussian precision
/// to reach the perplexity, symmetrised P, Student-t Q, early exaggeration 12 for the first 250 iterations with
/// momentum 0.5 then 0.8, sklearn's adaptive gains, learning rate "auto" = max(N / exaggeration / 4, 50), the KL
/// and gradient-norm checks every 50 iterations. Barnes–Hut (<see cref="BarnesHutTsne"/>, the default as in sklearn)
/// or exact (<see cref="ExactTsne"/>).</summary>
public sealed class Tsne
{
    public TsneMethod Method { get; init; } = TsneMethod.BarnesHut;
    public int Components { get; init; } = 2;
    public double Perplexity { get; init; } = 30;
    public double EarlyExaggeration { get; init; } = 12;
    /// <summary>Null means sklearn's "auto".</summary>
    public double? LearningRate { get; init; }
    public int MaxIter { get; init; } = 1000;
    public TsneInit Init { get; init; } = TsneInit.Pca;
    /// <summary>Barnes–Hut's opening angle θ (sklearn's angle, default 0.5): a quadtree cell stands for its points
    /// when its width is below θ times its distance. 0 is exact repulsion (and slow).</summary>
    public double Angle { get; init; } = 0.5;
    public int Seed { get; init; }

    /// <summary>Stops the descent between iterations; by default the notebook cell's (<see cref="RunCancellation.Current"/>).</summary>
    public CancellationToken Cancellation { get; init; } = RunCancellation.Current;

    /// <summary>Where the descent's progress goes (iteration and KL every 50 iterations); by default the display for the
    /// current host, as for training.</summary>
    public ITrainingProgress? Progress { get; init; }
    /// <summary>Exact method only: the dtype of its [N, N] work, float64 by default (P spans many orders of
    /// magnitude); float32 is faster and usually enough. Barnes–Hut works in float64 throughout.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float64;

    /// <summary>The fitted embedding [N, Components] (float32, like sklearn's output dtype is the input's).</summary>
    public Tensor? Embedding { get; private set; }
    /// <summary>KL(P‖Q) at the last convergence check.</summary>
    public double KlDivergence { get; private set; }
    /// <summary>Iterations run (fewer than MaxIter when the optimisation stopped making progress).</summary>
    public int Iterations { get; private set; }

    private const int ExplorationIterations = 250, CheckEvery = 50, IterationsWithoutProgress = 300;
    private const double MinGradNorm = 1e-7, MinGain = 0.01;

    public Tensor FitTransform(Tensor x) => Fit(x).Embedding!;

    public double[,] FitTransform(double[,] x)
    {
        using var scope = torch.NewDisposeScope();
        var embedding = FitTransform(torch.tensor(x));
        var flat = embedding.to(ScalarType.Float64).data<double>().ToArray();
        var result = new double[x.GetLength(0), Components];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(double));
        return result;
    }

    /// <summary>Fits the embedding of the rows of x [N, D].</summary>
    public Tsne Fit(Tensor x)
    {
        Validate(x);
        var n = (int)x.size(0);
        Embedding?.Dispose();
        using (torch.no_grad())
        {
            using var objective = Method == TsneMethod.BarnesHut
                ? (ITsneObjective)new BarnesHutTsne.Workspace(TsneAffinities.NearestNeighbourJointProbabilities(x, Perplexity), Angle)
                : new ExactTsne.Objective(TsneAffinities.DenseJointProbabilities(x, Perplexity, DType), Components);
            var y = Init == TsneInit.Pca ? PcaInit(x) : RandomInit(n);
            var rate = LearningRate ?? Math.Max(n / EarlyExaggeration / 4, 50);
            var progress = Progress ?? TrainingProgressDisplay.ForCurrentHost();
            try
            {
                objective.Exaggerate(EarlyExaggeration);
                var it = Descend(objective, y, 0, ExplorationIterations, 0.5, rate, ExplorationIterations, progress);
                objective.Exaggerate(1 / EarlyExaggeration);
                Iterations = Descend(objective, y, it, MaxIter, 0.8, rate, IterationsWithoutProgress, progress);
            }
            finally
            {
                if (Progress is null) progress.Dispose();
            }
            Embedding = torch.tensor(y, [n, Components], ScalarType.Float32);
        }
        return this;
    }

    private void Validate(Tensor x)
    {
        if (x.dim() != 2) throw new ArgumentException($"t-SNE needs data [N, D], got [{string.Join(", ", x.shape)}]", nameof(x));
        var n = x.size(0);
        if (n < 2) throw new ArgumentException($"t-SNE needs at least 2 points, got {n}", nameof(x));
        if (Perplexity <= 0 || Perplexity >= n)
            throw new ArgumentOutOfRangeException(nameof(Perplexity), Perplexity, $"perplexity must be in (0, N = {n})");
        if (Components < 1 || MaxIter <= ExplorationIterations)
            throw new ArgumentException($"need Components ≥ 1 and MaxIter > {ExplorationIterations}");
        if (Method == TsneMethod.BarnesHut && Components != 2)
            throw new ArgumentException($"Barnes–Hut t-SNE embeds in 2 dimensions (a quadtree), not {Components}; use Method = TsneMethod.Exact");
        if (!(Angle >= 0 && Angle <= 1)) throw new ArgumentOutOfRangeException(nameof(Angle), Angle, "the Barnes–Hut angle must be in [0, 1]");
        using (var finite = x.isfinite().all())
            if (!finite.item<bool>()) throw new ArgumentException("t-SNE input contains NaN or infinite values", nameof(x));
    }

    /// <summary>sklearn's _gradient_descent: momentum with per-coordinate gains (+0.2 when the gradient changes sign
    /// against the last update, ×0.8 otherwise, at least 0.01); every 50 iterations the KL is checked for progress
    /// and the norm of the gained gradient against 10⁻⁷. Returns the next iteration. Each phase starts with no
    /// update and unit gains, as each of sklearn's two _gradient_descent calls does, so the exaggerated phase's momentum
    /// and gains do not carry into the first unexaggerated steps.</summary>
    private int Descend(ITsneObjective objective, double[] y, int start, int end,
        double momentum, double rate, int iterationsWithoutProgress, ITrainingProgress progress)
    {
        var update = new double[y.Length];
        var gains = new double[y.Length];
        Array.Fill(gains, 1.0);
        var grad = new double[y.Length];
        var bestError = double.PositiveInfinity;
        var bestIteration = start;
        for (var i = start; i < end; i++)
        {
            if (Cancellation.IsCancellationRequested)
                throw new OperationCanceledException($"interrupted: t-SNE stopped before iteration {i + 1} of {MaxIter}", Cancellation);
            var check = (i + 1) % CheckEvery == 0;
            var error = objective.Gradient(y, grad, check);
            double squaredNorm = 0;
            for (var c = 0; c < y.Length; c++)
            {
                var gain = update[c] * grad[c] < 0 ? gains[c] + 0.2 : gains[c] * 0.8;
                gains[c] = Math.Max(gain, MinGain);
                var g = grad[c] * gains[c];
                squaredNorm += g * g;
                update[c] = momentum * update[c] - rate * g;
                y[c] += update[c];
            }
            if (!check) continue;
            KlDivergence = error;
            progress.Report(new TrainingStatus("t-SNE", i + 1, MaxIter, null, new Dictionary<string, double> { ["kl"] = error }));
            if (error < bestError) { bestError = error; bestIteration = i; }
            else if (i - bestIteration > iterationsWithoutProgress) return i + 1;
            if (Math.Sqrt(squaredNorm) <= MinGradNorm) return i + 1;
        }
        return end;
    }

    /// <summary>sklearn's PCA init: principal component scores (sign fixed so each column's largest |score| is
    /// positive, like svd_flip), divided by the first column's std and multiplied by 1e-4. Row-major [N·C].</summary>
    private double[] PcaInit(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var data = x.detach().to(ScalarType.Float64);
        var centred = data - data.mean([0], keepdim: true);
        var (_, eigenvectors) = torch.linalg.eigh(centred.t().matmul(centred));
        var d = x.size(1);
        if (d < Components)
            throw new ArgumentException($"PCA init needs at least {Components} input features, the data has {d}");
        var components = eigenvectors.flip(1).narrow(1, 0, Components);   // eigenvalues ascend
        var scores = centred.matmul(components);
        var largest = scores.abs().argmax(0, keepdim: true);
        scores = scores * scores.gather(0, largest).sign();
        var std = scores.select(1, 0).std(unbiased: false).ToDouble();   // numpy's std: ddof = 0
        return (scores / std * 1e-4).cpu().contiguous().data<double>().ToArray();
    }

    private double[] RandomInit(long n)
    {
        using var generator = new SeededRandom(Seed).TorchGenerator();
        using var noise = torch.randn([n, Components], ScalarType.Float64, generator: generator).mul_(1e-4);
        return noise.data<double>().ToArray();
    }
}

/// <summary>What the optimiser needs from a t-SNE method: the gradient of KL(P‖Q) at an embedding (row-major
/// [N·C]), the KL itself when asked (NaN otherwise), and P scaled in place for early exaggeration.</summary>
internal interface ITsneObjective : IDisposable
{
    double Gradient(double[] y, double[] gradient, bool withError);
    void Exaggerate(double factor);
}

using MedSsl.Data;
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

/// <summary>Exact t-SNE (van der Maaten &amp; Hinton 2008) on libtorch tensors, following
/// sklearn.manifold.TSNE(method="exact") step for step: per-point binary search on the Gaussian precision β
/// to reach the perplexity, symmetrised P, Student-t Q, early exaggeration 12 for the first 250 iterations
/// with momentum 0.5 then 0.8, sklearn's adaptive gains, learning rate "auto" = max(N / exaggeration / 4, 50).
/// Every step is a handful of dense [N, N] tensor operations: good for a few thousand points.</summary>
public sealed class Tsne
{
    public int Components { get; init; } = 2;
    public double Perplexity { get; init; } = 30;
    public double EarlyExaggeration { get; init; } = 12;
    /// <summary>Null means sklearn's "auto".</summary>
    public double? LearningRate { get; init; }
    public int MaxIter { get; init; } = 1000;
    public TsneInit Init { get; init; } = TsneInit.Pca;
    public int Seed { get; init; }
    /// <summary>Float64 by default (P spans many orders of magnitude); Float32 is faster and usually enough.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float64;

    /// <summary>The fitted embedding [N, Components] (float32, like sklearn's output dtype is the input's).</summary>
    public Tensor? Embedding { get; private set; }
    /// <summary>KL(P‖Q) at the last convergence check.</summary>
    public double KlDivergence { get; private set; }
    /// <summary>Iterations run (fewer than MaxIter when the optimisation stopped making progress).</summary>
    public int Iterations { get; private set; }

    private const int ExplorationIterations = 250, CheckEvery = 50;
    private const double MinGradNorm = 1e-7, MachineEpsilon = 2.220446049250313e-16;

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
        if (x.dim() != 2) throw new ArgumentException($"t-SNE needs data [N, D], got [{string.Join(", ", x.shape)}]", nameof(x));
        var n = x.size(0);
        if (Perplexity <= 0 || Perplexity >= n)
            throw new ArgumentOutOfRangeException(nameof(Perplexity), Perplexity, $"perplexity must be in (0, N = {n})");
        if (Components < 1 || MaxIter <= ExplorationIterations)
            throw new ArgumentException($"need Components ≥ 1 and MaxIter > {ExplorationIterations}");
        Embedding?.Dispose();
        using (torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        {
            var data = x.detach().to(DType);
            var p = JointProbabilities(data);
            var y = Init == TsneInit.Pca ? PcaInit(data) : RandomInit(n);
            var rate = LearningRate ?? Math.Max(n / EarlyExaggeration / 4, 50);
            var update = torch.zeros_like(y);
            var gains = torch.ones_like(y);
            p.mul_(EarlyExaggeration);
            var it = Descend(p, y, update, gains, 0, ExplorationIterations, 0.5, rate, ExplorationIterations);
            p.div_(EarlyExaggeration);
            Iterations = Descend(p, y, update, gains, it, MaxIter, 0.8, rate, 300);
            Embedding = y.to(ScalarType.Float32).MoveToOuterDisposeScope();
        }
        return this;
    }

    /// <summary>sklearn's _gradient_descent: momentum with per-coordinate gains (+0.2 when the gradient
    /// changes sign against the last update, ×0.8 otherwise, at least 0.01). Returns the next iteration.</summary>
    private int Descend(Tensor p, Tensor y, Tensor update, Tensor gains, int start, int end, double momentum,
        double rate, int iterationsWithoutProgress)
    {
        var bestError = double.PositiveInfinity;
        var bestIteration = start;
        for (var i = start; i < end; i++)
        {
            using var scope = torch.NewDisposeScope();
            var check = (i + 1) % CheckEvery == 0;
            var (grad, error) = Gradient(p, y, check);
            var increase = (update * grad) < 0.0;
            gains.copy_(torch.where(increase, gains + 0.2, gains * 0.8).clamp_(min: 0.01));
            grad.mul_(gains);
            update.mul_(momentum).add_(grad, -rate);
            y.add_(update);
            if (!check) continue;
            KlDivergence = error;
            if (error < bestError) { bestError = error; bestIteration = i; }
            else if (i - bestIteration > iterationsWithoutProgress) return i + 1;
            if (grad.norm().ToDouble() <= MinGradNorm) return i + 1;
        }
        return end;
    }

    /// <summary>∂KL/∂yᵢ = 4 Σⱼ (pᵢⱼ − qᵢⱼ)(1 + ‖yᵢ − yⱼ‖²)⁻¹ (yᵢ − yⱼ), and KL(P‖Q) when asked. Two [N, N]
    /// buffers, everything else in place: at a few thousand points each step is bound by memory traffic.</summary>
    private static (Tensor grad, double error) Gradient(Tensor p, Tensor y, bool withError)
    {
        var kernel = ZeroDiagonal(SquaredDistances(y).add_(1.0).reciprocal_());   // Student t, one degree of freedom
        var q = kernel.div(kernel.sum()).clamp_(min: MachineEpsilon);
        var error = withError ? (p * (p.clamp(min: MachineEpsilon) / q).log()).sum().ToDouble() : double.NaN;
        var w = q.neg_().add_(p).mul_(kernel);                                          // (p − q) ⊙ kernel, in q's buffer
        var grad = (w.sum(1, keepdim: true) * y - w.matmul(y)).mul_(4.0);
        return (grad, error);
    }

    /// <summary>Symmetrised joint probabilities pᵢⱼ = (pⱼ|ᵢ + pᵢ|ⱼ) / Σ, each conditional a Gaussian on the
    /// squared distances whose precision β is found by bisection so that its entropy is log(perplexity)
    /// (sklearn's _binary_search_perplexity: 100 steps, tolerance 1e-5, all rows at once).</summary>
    private Tensor JointProbabilities(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var n = x.size(0);
        var distances = SquaredDistances(x);
        var target = Math.Log(Perplexity);
        var beta = torch.ones([n, 1], DType);
        var low = torch.full([n, 1], double.NegativeInfinity, DType);
        var high = torch.full([n, 1], double.PositiveInfinity, DType);
        var done = torch.zeros([n, 1], ScalarType.Bool);
        Tensor conditional = null!;
        for (var step = 0; step < 100; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            var unnormalised = ZeroDiagonal((distances * -beta).exp());
            var sum = unnormalised.sum(1, keepdim: true);
            sum = torch.where(sum.eq(0.0), sum + 1e-8, sum);
            var pi = unnormalised / sum;
            var entropy = sum.log() + beta * (distances * pi).sum(1, keepdim: true);
            var diff = entropy - target;
            // Rows already within tolerance keep their β and P, as sklearn's per-row loop breaks there.
            var converged = done | (diff.abs() <= 1e-5);
            var keep = conditional is null ? pi : torch.where(done, conditional, pi);
            conditional?.Dispose();
            conditional = keep.MoveToOuterDisposeScope();
            var tooFlat = diff > 0.0;   // entropy too high: sharpen (raise β)
            var newLow = torch.where(tooFlat, beta, low);
            var newHigh = torch.where(tooFlat, high, beta);
            var raised = torch.where(high.isfinite(), (beta + high) / 2.0, beta * 2.0);
            var lowered = torch.where(low.isfinite(), (beta + low) / 2.0, beta / 2.0);
            var next = torch.where(tooFlat, raised, lowered);
            beta.copy_(torch.where(converged, beta, next));
            low.copy_(torch.where(converged, low, newLow));
            high.copy_(torch.where(converged, high, newHigh));
            done.copy_(converged);
            if (done.all().item<bool>()) break;
        }
        var joint = conditional + conditional.t();
        var total = Math.Max(joint.sum().ToDouble(), MachineEpsilon);
        return ZeroDiagonal(joint.div_(total).clamp_(min: MachineEpsilon)).MoveToOuterDisposeScope();
    }

    /// <summary>sklearn's PCA init: principal component scores (sign fixed so each column's largest
    /// |score| is positive, like svd_flip), divided by the first column's std and multiplied by 1e-4.</summary>
    private Tensor PcaInit(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var centred = x - x.mean([0], keepdim: true);
        var (_, eigenvectors) = torch.linalg.eigh(centred.t().matmul(centred));
        var d = x.size(1);
        var components = eigenvectors.flip(1).narrow(1, 0, Math.Min(Components, d));   // eigenvalues ascend
        var scores = centred.matmul(components);
        var largest = scores.abs().argmax(0, keepdim: true);
        scores = scores * scores.gather(0, largest).sign();
        if (scores.size(1) < Components)
            throw new ArgumentException($"PCA init needs at least {Components} input features, the data has {d}");
        var std = scores.select(1, 0).std(unbiased: false).ToDouble();   // numpy's std: ddof = 0
        return (scores / std * 1e-4).MoveToOuterDisposeScope();
    }

    private Tensor RandomInit(long n)
    {
        using var generator = new SeededRandom(Seed).TorchGenerator();
        return torch.randn([n, Components], DType, generator: generator).mul_(1e-4);
    }

    private static Tensor ZeroDiagonal(Tensor square)
    {
        using var diagonal = square.diagonal();
        diagonal.fill_(0);
        return square;
    }

    private static Tensor SquaredDistances(Tensor a)
    {
        using var norms = (a * a).sum(1, keepdim: true);
        return a.matmul(a.t()).mul_(-2.0).add_(norms).add_(norms.t()).clamp_(min: 0);
    }
}

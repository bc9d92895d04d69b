using System.Text.Json;
using MedSsl.Embedding;
using MedSsl.Metrics;
using MedSsl.Tests.Metrics;
using MedSsl.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Embedding;

public class TsneTests
{
    private static readonly JsonElement Fixture = Reference.Root.GetProperty("tsne");

    /// <summary>sklearn's sparse P (_joint_probabilities_nn on the ⌊3·perplexity + 1⌋ neighbours) and its Barnes–Hut
    /// gradient and KL (float32, one thread) at θ = 0.5 and θ = 0, on 200 random points in 6-d and a random 2-d
    /// embedding.</summary>
    private static readonly Lazy<JsonElement> Sklearn = new(() => PyTorchReference.Run("""
        from sklearn.neighbors import NearestNeighbors
        from sklearn.manifold._t_sne import _joint_probabilities_nn, _kl_divergence_bh
        rng = np.random.RandomState(7)
        n, perplexity = 200, 10.0
        X = rng.randn(n, 6)
        k = min(n - 1, int(3.0 * perplexity + 1))
        D = NearestNeighbors(n_neighbors=k).fit(X).kneighbors_graph(mode="distance")
        D.data **= 2
        P = _joint_probabilities_nn(D, perplexity, 0)
        Y = (rng.randn(n, 2) * 5).astype(np.float32)
        out = {"X": X.tolist(), "Y": Y.astype(float).tolist(), "P": P.toarray().tolist(), "perplexity": perplexity}
        for angle in (0.5, 0.0):
            err, grad = _kl_divergence_bh(Y.ravel().copy(), P.copy(), 1, n, 2, angle=angle, compute_error=True, num_threads=1)
            out[f"grad_{angle}"] = grad.astype(float).tolist()
            out[f"kl_{angle}"] = float(err)
        emit(out)
        """));

    private static SparseMatrix Sparse(double[,] dense)
    {
        var n = dense.GetLength(0);
        var rowStart = new int[n + 1];
        var columns = new List<int>();
        var values = new List<double>();
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
                if (dense[i, j] != 0) { columns.Add(j); values.Add(dense[i, j]); }
            rowStart[i + 1] = columns.Count;
        }
        return new SparseMatrix(n, rowStart, [.. columns], [.. values]);
    }

    private static double[] Flat(double[,] m) => m.Cast<double>().ToArray();

    private static double RelativeError(double[] expected, double[] actual) =>
        Math.Sqrt(expected.Zip(actual, (e, a) => (e - a) * (e - a)).Sum() / expected.Sum(e => e * e));

    [Fact]
    public void SparseJointProbabilitiesMatchSklearns()
    {
        var s = Sklearn.Value;
        var expected = s.GetProperty("P").Matrix();
        using var x = torch.tensor(s.GetProperty("X").Matrix());
        var p = TsneAffinities.NearestNeighbourJointProbabilities(x, s.GetProperty("perplexity").GetDouble());
        var reference = Sparse(expected);
        Assert.Equal(reference.RowStart, p.RowStart);
        Assert.Equal(reference.Columns, p.Columns);
        // sklearn bisects on float32 distances: agreement to float32 precision.
        for (var e = 0; e < p.Count; e++)
            Assert.True(Math.Abs(p.Values[e] - reference.Values[e]) <= 1e-5 * reference.Values[e], $"entry {e}: sklearn {reference.Values[e]:G8}, ours {p.Values[e]:G8}");
        Assert.Equal(1.0, p.Values.Sum(), 12);
    }

    [Fact]
    public void ConditionalProbabilitiesReachThePerplexity()
    {
        var distances = Enumerable.Range(0, 90).Select(j => 0.1 * j * j / 90.0).ToArray();
        var p = new double[90];
        var beta = TsneAffinities.ConditionalProbabilities(distances, 20, p);
        var entropy = -p.Where(v => v > 0).Sum(v => v * Math.Log(v));
        Assert.Equal(Math.Log(20), entropy, 4);
        Assert.Equal(1.0, p.Sum(), 12);
        Assert.Equal(Math.Exp(-beta * distances[5]) / Math.Exp(-beta * distances[0]), p[5] / p[0], 12);
    }

    [Fact]
    public void BarnesHutGradientAtAngleZeroIsTheExactGradient()
    {
        var s = Sklearn.Value;
        var dense = s.GetProperty("P").Matrix();
        var y = Flat(s.GetProperty("Y").Matrix());
        var gradient = new double[y.Length];
        var kl = BarnesHutTsne.Gradient(Sparse(dense), y, 0.0, gradient, withError: true);
        using var scope = torch.NewDisposeScope();
        var (exact, exactKl) = ExactTsne.Gradient(torch.tensor(dense), torch.tensor(y, [y.Length / 2, 2]), withError: true);
        var expected = exact.data<double>().ToArray();
        Assert.True(RelativeError(expected, gradient) < 1e-12, $"relative error {RelativeError(expected, gradient):G3}");
        Assert.Equal(exactKl, kl, 10);
    }

    /// <summary>t-SNE starts from an embedding of scale 1e-4, where every pair of points is closer than sklearn's
    /// duplicate tolerance: the tree must still give the exact gradient at θ = 0, and close to it at θ = 0.5.</summary>
    [Fact]
    public void BarnesHutGradientAtTheInitialScaleIsExact()
    {
        var s = Sklearn.Value;
        var dense = s.GetProperty("P").Matrix();
        var y = Flat(s.GetProperty("Y").Matrix()).Select(v => v * 2e-5).ToArray();   // std 5 × 2e-5 = 1e-4
        using var scope = torch.NewDisposeScope();
        var (exact, exactKl) = ExactTsne.Gradient(torch.tensor(dense), torch.tensor(y, [y.Length / 2, 2]), withError: true);
        var expected = exact.data<double>().ToArray();
        var zero = new double[y.Length];
        var half = new double[y.Length];
        Assert.Equal(exactKl, BarnesHutTsne.Gradient(Sparse(dense), y, 0.0, zero, withError: true), 8);
        BarnesHutTsne.Gradient(Sparse(dense), y, 0.5, half, withError: false);
        Assert.True(RelativeError(expected, zero) < 1e-10, $"θ = 0: relative error {RelativeError(expected, zero):G3}");
        Assert.InRange(RelativeError(expected, half), 0, 0.05);
    }

    [Fact]
    public void BarnesHutGradientMatchesSklearnsAndIsCloseToTheExactOne()
    {
        var s = Sklearn.Value;
        var p = Sparse(s.GetProperty("P").Matrix());
        var y = Flat(s.GetProperty("Y").Matrix());
        var half = new double[y.Length];
        var exact = new double[y.Length];
        var kl = BarnesHutTsne.Gradient(p, y, 0.5, half, withError: true);
        BarnesHutTsne.Gradient(p, y, 0.0, exact, withError: false);
        // The same tree and opening criterion as sklearn's: equal up to its float32 arithmetic.
        foreach (var (angle, ours) in new[] { ("0.5", half), ("0.0", exact) })
        {
            var sklearn = s.GetProperty($"grad_{angle}").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.True(RelativeError(sklearn, ours) < 1e-4, $"θ = {angle}: relative difference to sklearn {RelativeError(sklearn, ours):G3}");
        }
        Assert.Equal(s.GetProperty("kl_0.5").GetDouble(), kl, 4);
        // The approximation itself: a few per cent of the gradient at θ = 0.5 (sklearn's is 1.8 % here).
        Assert.InRange(RelativeError(exact, half), 1e-4, 0.05);
    }

    [Fact]
    public void QuadTreeCellsOnAHandExample()
    {
        // Root: x in [−1, 1.001], y in [0, 2.002] (upper bounds pushed out by 0.1 %), split at (0.0005, 1.001).
        double[] points = [0, 0, 1, 1, 1, 0, 0.2, 0.1, -1, 2];
        var tree = new QuadTree();
        tree.Build(points, 0.5);
        Assert.Equal(7, tree.CellCount);
        (double X, double Y, int Count, double SquaredWidth, int Depth, bool Leaf)[] expected =
        [
            (0.24, 0.62, 5, 2.002 * 2.002, 0, false),            // root: mean of all five
            (0, 0, 1, 1.001 * 1.001, 1, true),                   // x < 0.0005, y < 1.001
            (-1, 2, 1, 1.001 * 1.001, 1, true),                  // x < 0.0005, y ≥ 1.001
            (2.2 / 3, 1.1 / 3, 3, 1.001 * 1.001, 1, false),      // x ≥ 0.0005, y < 1.001: (1, 1), (1, 0), (0.2, 0.1)
            (0.2, 0.1, 1, 0.5005 * 0.5005, 2, true),             // its quadrants split at (0.50075, 0.5005)
            (1, 0, 1, 0.5005 * 0.5005, 2, true),
            (1, 1, 1, 0.5005 * 0.5005, 2, true),
        ];
        for (var c = 0; c < expected.Length; c++)
        {
            var cell = tree.Cell(c);
            var e = expected[c];
            Assert.Equal(e.X, cell.CentreX, 12);
            Assert.Equal(e.Y, cell.CentreY, 12);
            Assert.Equal((e.Count, e.Depth, e.Leaf), (cell.Count, cell.Depth, cell.IsLeaf));
            Assert.Equal(e.SquaredWidth, cell.SquaredWidth, 12);
        }
        // From (−1, 2) the 3-point cell (squared width 1.002, squared distance 5.67 > 1.002 / 0.5²) is one summary;
        // its own leaf is left out.
        var (fx, fy, z) = tree.Repulsion(-1, 2);
        double Q(double dx, double dy) => 1 / (1 + dx * dx + dy * dy);
        double cx = -1 - 2.2 / 3, cy = 2 - 1.1 / 3;
        Assert.Equal(Q(-1, 2) + 3 * Q(cx, cy), z, 12);
        Assert.Equal(Q(-1, 2) * Q(-1, 2) * -1 + 3 * Q(cx, cy) * Q(cx, cy) * cx, fx, 12);
        Assert.Equal(Q(-1, 2) * Q(-1, 2) * 2 + 3 * Q(cx, cy) * Q(cx, cy) * cy, fy, 12);
        // A second point at (1, 1) joins its leaf and counts with q = 1 from there; one 1e-7 away gets a leaf of its own.
        var zWithoutDuplicate = tree.Repulsion(1, 1).Z;
        tree.Build([.. points, 1, 1], 0.5);
        Assert.Equal(7, tree.CellCount);
        Assert.Equal((2, true), (tree.Cell(6).Count, tree.Cell(6).IsLeaf));
        Assert.Equal(zWithoutDuplicate + 1, tree.Repulsion(1, 1).Z, 12);
        tree.Build([.. points, 1, 1 + 1e-7], 0.5);
        Assert.True(tree.CellCount > 7);
    }

    [Fact]
    public void BarnesHutTrustworthinessOnBlobsIsWithinAHundredthOfSklearns()
    {
        // Three blob sets (500 points, 8 overlapping blobs in 20-d), sklearn's default Barnes–Hut t-SNE on each.
        var reference = PyTorchReference.Run("""
            from sklearn.datasets import make_blobs
            from sklearn.manifold import TSNE, trustworthiness
            runs = []
            for seed in (0, 1, 2):
                X, _ = make_blobs(n_samples=500, n_features=20, centers=8, cluster_std=3.0, random_state=seed)
                Y = TSNE(n_components=2, perplexity=30.0, init="pca", learning_rate="auto", random_state=0).fit_transform(X)
                runs.append({"X": X.tolist(), "trustworthiness": float(trustworthiness(X, Y, n_neighbors=5))})
            emit(runs)
            """);
        var sklearn = reference.EnumerateArray().Select(r => r.GetProperty("trustworthiness").GetDouble()).ToArray();
        var ours = reference.EnumerateArray().Select(r =>
        {
            var x = r.GetProperty("X").Matrix();
            return EmbeddingQuality.Trustworthiness(x, new Tsne().FitTransform(x), 5);
        }).ToArray();
        Assert.True(ours.Average() >= sklearn.Average() - 0.01,
            $"ours {string.Join(", ", ours.Select(v => v.ToString("F4")))}, sklearn {string.Join(", ", sklearn.Select(v => v.ToString("F4")))}");
    }

    [Theory]
    [InlineData(TsneMethod.Exact)]
    [InlineData(TsneMethod.BarnesHut)]
    public void TrustworthinessOnDigitsIsWithinAHundredthOfSklearnsExact(TsneMethod method)
    {
        // 400 digits (64-d), sklearn TSNE(method="exact", init="pca", learning_rate="auto") from 3 seeds.
        var x = Fixture.GetProperty("X").Matrix();
        var sklearn = Fixture.GetProperty("sklearn_exact").EnumerateArray().Select(r => r.GetProperty("trustworthiness").GetDouble()).ToArray();
        var ours = EmbeddingQuality.Trustworthiness(x, new Tsne { Method = method }.FitTransform(x), 5);
        Assert.True(ours >= sklearn.Min() - 0.01, $"our trustworthiness {ours:F4}, sklearn's {string.Join(", ", sklearn.Select(v => v.ToString("F4")))}");
        Assert.True(ours > Fixture.GetProperty("random_trustworthiness_k5").GetDouble() + 0.3, "no better than a random embedding");
    }

    [Theory]
    [InlineData(TsneMethod.Exact)]
    [InlineData(TsneMethod.BarnesHut)]
    public void SameSeedSameEmbeddingOtherSeedAnother(TsneMethod method)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(3);
        var x = torch.randn([120, 10], generator: g);
        Tsne Make(int seed) => new() { Method = method, Init = TsneInit.Random, Seed = seed, MaxIter = 300, Perplexity = 10 };
        var a = Make(1).FitTransform(x);
        var b = Make(1).FitTransform(x);
        var c = Make(2).FitTransform(x);
        Assert.True(a.equal(b).all().item<bool>());
        Assert.False(a.allclose(c));
        Assert.Equal(new long[] { 120, 2 }, a.shape);
    }

    [Theory]
    [InlineData(TsneMethod.Exact)]
    [InlineData(TsneMethod.BarnesHut)]
    public void SeparatedClustersStaySeparated(TsneMethod method)
    {
        // Three far-apart Gaussian blobs: every point's nearest embedded neighbour must share its blob.
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(11);
        var centres = torch.randn([3, 20], generator: g) * 20.0;
        var labels = torch.tensor(Enumerable.Range(0, 150).Select(i => (long)(i % 3)).ToArray());
        var x = centres.index_select(0, labels) + torch.randn([150, 20], generator: g);
        var tsne = new Tsne { Method = method, Perplexity = 15 };
        var y = tsne.FitTransform(x);
        var d = torch.cdist(y, y) + torch.eye(150) * 1e9;
        var nearest = d.argmin(1);
        Assert.True(labels.index_select(0, nearest).equal(labels).all().item<bool>());
        Assert.True(double.IsFinite(tsne.KlDivergence) && tsne.KlDivergence > 0);
    }

    [Fact]
    public void BadInputIsRefused()
    {
        using var x = torch.randn(10, 3);
        var perplexity = Assert.Throws<ArgumentOutOfRangeException>(() => new Tsne { Perplexity = 30 }.Fit(x));
        Assert.Contains("perplexity must be in (0, N = 10)", perplexity.Message);
        using var v = torch.randn(10);
        Assert.Contains("t-SNE needs data [N, D], got [10]", Assert.Throws<ArgumentException>(() => new Tsne().Fit(v)).Message);
        using var nan = torch.randn(10, 3);
        nan[4, 1] = torch.tensor(double.NaN);
        Assert.Contains("NaN or infinite", Assert.Throws<ArgumentException>(() => new Tsne { Perplexity = 3 }.Fit(nan)).Message);
        Assert.Contains("use Method = TsneMethod.Exact",
            Assert.Throws<ArgumentException>(() => new Tsne { Components = 3, Perplexity = 3 }.Fit(x)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Tsne { Angle = 1.5, Perplexity = 3 }.Fit(x));
        Assert.Contains("at least 2 points", Assert.Throws<ArgumentException>(() => new Tsne { Perplexity = 0.5 }.Fit(torch.randn(1, 3))).Message);
    }

    [Theory]
    [InlineData(TsneMethod.BarnesHut)]
    [InlineData(TsneMethod.Exact)]
    public void TheDescentReportsProgressAndStopsWhenCancelled(TsneMethod method)
    {
        using var x = torch.randn([60, 5], generator: new Generator(4));
        using var stop = new CancellationTokenSource();
        var progress = new CancellingProgress(stop, afterReports: 3);
        var tsne = new Tsne { Method = method, Perplexity = 10, Cancellation = stop.Token, Progress = progress };
        var error = Assert.Throws<OperationCanceledException>(() => tsne.Fit(x));
        Assert.Equal("interrupted: t-SNE stopped before iteration 151 of 1000", error.Message);
        Assert.Equal([50, 100, 150], progress.Iterations);
        Assert.All(progress.Statuses, s => Assert.True(s.Phase == "t-SNE" && s.Steps == 1000 && s.Metrics!["kl"] > 0));
    }

    /// <summary>Records the reports and cancels after the given number, as an interrupt mid-fit would.</summary>
    private sealed class CancellingProgress(CancellationTokenSource stop, int afterReports) : MedSsl.Training.ITrainingProgress
    {
        public List<MedSsl.Training.TrainingStatus> Statuses { get; } = [];
        public int[] Iterations => [.. Statuses.Select(s => s.Step)];

        public void Report(MedSsl.Training.TrainingStatus status)
        {
            Statuses.Add(status);
            if (Statuses.Count == afterReports) stop.Cancel();
        }

        public void Dispose() { }
    }
}

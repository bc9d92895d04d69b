using MedSsl.Embedding;
using MedSsl.Metrics;
using MedSsl.Tests.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Embedding;

public class TsneTests
{
    private static readonly System.Text.Json.JsonElement Fixture = Reference.Root.GetProperty("tsne");

    [Fact]
    public void TrustworthinessOnDigitsIsWithinAHundredthOfSklearns()
    {
        // 400 digits (64-d), sklearn TSNE(method="exact", init="pca", learning_rate="auto") from 3 seeds.
        var x = Fixture.GetProperty("X").Matrix();
        var sklearn = Fixture.GetProperty("sklearn_exact").EnumerateArray().Select(r => r.GetProperty("trustworthiness").GetDouble()).ToArray();
        var ours = EmbeddingQuality.Trustworthiness(x, new Tsne().FitTransform(x), 5);
        Assert.True(ours >= sklearn.Min() - 0.01, $"our trustworthiness {ours:F4}, sklearn's {string.Join(", ", sklearn.Select(v => v.ToString("F4")))}");
        Assert.True(ours > Fixture.GetProperty("random_trustworthiness_k5").GetDouble() + 0.3, "no better than a random embedding");
    }

    [Fact]
    public void SameSeedSameEmbeddingOtherSeedAnother()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(3);
        var x = torch.randn([120, 10], generator: g);
        Tsne Make(int seed) => new() { Init = TsneInit.Random, Seed = seed, MaxIter = 300, Perplexity = 10 };
        var a = Make(1).FitTransform(x);
        var b = Make(1).FitTransform(x);
        var c = Make(2).FitTransform(x);
        Assert.True(a.equal(b).all().item<bool>());
        Assert.False(a.allclose(c));
        Assert.Equal(new long[] { 120, 2 }, a.shape);
    }

    [Fact]
    public void SeparatedClustersStaySeparated()
    {
        // Three far-apart Gaussian blobs: every point's nearest embedded neighbour must share its blob.
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(11);
        var centres = torch.randn([3, 20], generator: g) * 20.0;
        var labels = torch.tensor(Enumerable.Range(0, 150).Select(i => (long)(i % 3)).ToArray());
        var x = centres.index_select(0, labels) + torch.randn([150, 20], generator: g);
        var tsne = new Tsne { Perplexity = 15 };
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
        Assert.Throws<ArgumentOutOfRangeException>(() => new Tsne { Perplexity = 30 }.Fit(x));
        using var v = torch.randn(10);
        Assert.Throws<ArgumentException>(() => new Tsne().Fit(v));
    }
}

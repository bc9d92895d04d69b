using MedSsl.Metrics;
using static TorchSharp.torch;

namespace MedSsl.Tests.Metrics;

/// <summary><see cref="EmbeddingQuality.Spread"/>: its two ends by hand, a value in between against PyTorch, and the
/// inputs it refuses.</summary>
public class EmbeddingSpreadTests
{
    [Fact]
    public void Spread_is_one_for_orthogonal_features_and_zero_for_a_collapsed_embedding()
    {
        // Two images on orthogonal axes: per dimension the normalised values are {1, 0}, std (n − 1) = √½, × √2 = 1.
        using var orthogonal = tensor(new double[] { 2, 0, 0, 3 }, [2, 2]);
        Assert.Equal(1.0, EmbeddingQuality.Spread(orthogonal), 12);
        // Every image in the same direction (different lengths): collapsed.
        using var collapsed = tensor(new double[] { 1, 2, 2, 4, 0.5, 1 }, [3, 2]);
        Assert.Equal(0.0, EmbeddingQuality.Spread(collapsed), 12);
    }

    [Fact]
    public void Spread_matches_pytorch()
    {
        // torch.nn.functional.normalize(x, p=2, dim=1).std(0).mean() * math.sqrt(3) in float64 (torch 1.13).
        using var features = tensor(new double[] { 1, 0, 2, 0, 1, 1, 3, 1, 0, 0.5, -1, 1 }, [4, 3]);
        Assert.Equal(0.7880323273087879, EmbeddingQuality.Spread(features), 12);
    }

    [Fact]
    public void Spread_names_what_is_wrong_with_its_input()
    {
        using var one = zeros(1, 4);
        var error = Assert.Throws<ArgumentException>(() => EmbeddingQuality.Spread(one));
        Assert.Equal("features", error.ParamName);
        Assert.StartsWith("the spread takes features [N, D] of at least 2 images, got [1, 4]", error.Message);
        using var flat = zeros(6);
        Assert.StartsWith("the spread takes features [N, D] of at least 2 images, got [6]", Assert.Throws<ArgumentException>(() => EmbeddingQuality.Spread(flat)).Message);
    }
}

using MedSsl.Torch;

namespace MedSsl.Tests.Torch;

/// <summary>Autograd through the binding agrees with finite differences for every op family.</summary>
public class GradientTests
{
    static GradientTests() => torch.manual_seed(7);

    private static Tensor R(params long[] shape) => torch.randn(shape, DType.Float64);
    private static Tensor Positive(params long[] shape) => torch.rand(shape, DType.Float64) + 0.5;

    [Fact] public void Arithmetic() => GradCheck.Check(t => (t[0] * t[1] + t[0] / t[1] - t[1].pow(3) * 0.5) + 2.0, R(3, 4), Positive(4));
    [Fact] public void Elementwise() => GradCheck.Check(t => t[0].exp() + t[1].log() + t[1].sqrt() + t[0].abs() + t[0].clamp(-0.5, 0.5), R(2, 5), Positive(2, 5));
    [Fact] public void Reductions() => GradCheck.Check(t => torch.stack([t[0].sum(), t[0].mean(1).sum(), t[0].std(), t[0].logsumexp(1).sum(), t[0].max(), t[0].var(0).sum(), t[0].norm()]), R(3, 4));
    [Fact] public void MaxAlongDim() => GradCheck.Check(t => t[0].max(1).values, R(4, 5));

    [Fact]
    public void Indexing() => GradCheck.Check(t =>
    {
        var idx = torch.tensor(new long[] { 2, 0, 2 });
        var gatherIdx = torch.tensor(new long[] { 0, 1, 1, 0, 2, 3 }, 3, 2); // unique per row: scatter is then well defined
        var mask = t[0] > 0;
        return torch.cat([t[0].index_select(0, idx).reshape(-1), t[0].gather(1, gatherIdx).reshape(-1),
            t[0].masked_fill(mask, 0).reshape(-1), torch.where(mask, t[0], t[0] * 3).reshape(-1), t[0][1.., ..2].reshape(-1), t[0][idx].reshape(-1),
            t[0].scatter(1, gatherIdx, t[0][.., ..2]).reshape(-1)]);
    }, R(3, 4));

    [Fact] public void ShapeOps() => GradCheck.Check(t => torch.cat([t[0].reshape(6, 2).permute(1, 0).reshape(-1), t[0].transpose(0, 1).flatten(), torch.stack([t[0], t[0]], 2).sum(2).flatten(), t[0].chunk(2, 1)[1].flatten()]), R(3, 4));
    [Fact] public void Matmul() => GradCheck.Check(t => t[0].matmul(t[1]), R(3, 4), R(4, 2));
    [Fact] public void BatchedMatmul() => GradCheck.Check(t => t[0].bmm(t[1]), R(2, 3, 4), R(2, 4, 2));
    [Fact] public void Conv2d() => GradCheck.Check(t => F.conv2d(t[0], t[1], t[2], stride: 2, padding: 1), R(1, 2, 5, 5), R(3, 2, 3, 3), R(3));
    [Fact] public void ConvTranspose2d() => GradCheck.Check(t => F.conv_transpose2d(t[0], t[1], t[2], stride: 2, padding: 1, output_padding: 1), R(1, 2, 3, 3), R(2, 3, 3, 3), R(3));
    [Fact] public void Pooling() => GradCheck.Check(t => torch.cat([F.max_pool2d(t[0], 2).flatten(), F.avg_pool2d(t[0], 2).flatten(), F.adaptive_avg_pool2d(t[0], 3).flatten(), F.adaptive_max_pool2d(t[0], 2).flatten()]), R(1, 2, 6, 6));
    [Fact] public void BatchNorm() => GradCheck.Check(t => F.batch_norm(t[0], null, null, t[1], t[2], training: true), R(4, 3, 2, 2), Positive(3), R(3));
    [Fact] public void InstanceAndLayerNorm() => GradCheck.Check(t => torch.cat([F.instance_norm(t[0]).flatten(), F.layer_norm(t[0], [3, 3], t[1], t[2]).flatten()]), R(2, 2, 3, 3), Positive(3, 3), R(3, 3));
    [Fact] public void Activations() => GradCheck.Check(t => torch.cat([F.relu(t[0]), F.elu(t[0]), F.leaky_relu(t[0], 0.1), F.prelu(t[0], t[1]), F.gelu(t[0]), F.sigmoid(t[0]), F.tanh(t[0]), F.softmax(t[0], 1), F.log_softmax(t[0], 1)]), R(4, 3), Positive(1));
    [Fact] public void Interpolate() => GradCheck.Check(t => F.interpolate(t[0], size: [5, 7], mode: "bilinear"), R(1, 1, 3, 4));

    [Fact]
    public void CrossEntropyWithIndexAndSoftTargets() => GradCheck.Check(t =>
    {
        var target = torch.tensor(new long[] { 0, 2, -100, 1 });
        return torch.stack([F.cross_entropy(t[0], target), F.cross_entropy(t[0], t[1].softmax(1)), F.cross_entropy(t[0], target, reduction: Reduction.Sum, label_smoothing: 0.1)]);
    }, R(4, 3), R(4, 3));

    [Fact]
    public void OtherLosses() => GradCheck.Check(t =>
    {
        var target = torch.tensor(new long[] { 1, 0, 2 });
        var binary = torch.tensor(new double[] { 1, 0, 1, 0, 0, 1, 1, 1, 0 }, 3, 3);
        return torch.stack([F.binary_cross_entropy_with_logits(t[0], binary, weight: torch.tensor(new double[] { 0.5, 1, 2 }), pos_weight: torch.tensor(new double[] { 1, 2, 3 })),
            F.kl_div(t[0].log_softmax(1), t[1].softmax(1), Reduction.BatchMean), F.mse_loss(t[0], t[1]), F.nll_loss(t[0].log_softmax(1), target)]);
    }, R(3, 3), Positive(3, 3));

    [Fact] public void NormalizeAndCosine() => GradCheck.Check(t => torch.cat([F.normalize(t[0], dim: 1).flatten(), F.cosine_similarity(t[0], t[1])]), R(3, 4), R(3, 4));

    [Fact]
    public void AutogradGradSecondOrder()
    {
        // d/dx (x³) = 3x², and through create_graph, d²/dx² = 6x.
        var x = torch.tensor(new double[] { 0.5, -1.5, 2.0 }).requires_grad_();
        var first = torch.autograd.grad([x.pow(3).sum()], [x], create_graph: true)[0]!;
        var second = torch.autograd.grad([first.sum()], [x])[0]!;
        Expect.Close([0.75, 6.75, 12.0], first.detach().ToArray<double>(), 1e-12);
        Expect.Close([3.0, -9.0, 12.0], second.ToArray<double>(), 1e-12);
    }

    [Fact]
    public void BackwardAccumulatesIntoLeafGrad()
    {
        var w = torch.tensor(new double[] { 1, 2 }).requires_grad_();
        (w * w).sum().backward();
        (w * 3).sum().backward();
        Assert.Equal(new[] { 5.0, 7.0 }, w.grad!.ToArray<double>());
        Assert.True(w.is_leaf);
    }

    [Fact]
    public void NoGradStopsRecording()
    {
        var w = torch.ones(2).requires_grad_();
        Tensor y;
        using (torch.no_grad()) y = w * 2;
        Assert.False(y.requires_grad);
        Assert.True(torch.is_grad_enabled());
        Assert.True((w * 2).requires_grad);
    }
}


namespace MedSsl.Torch.NN;

/// <summary>Parameter initialisation as PyTorch's defaults (kaiming_uniform with a = √5, i.e. U(±1/√fan_in)).</summary>
internal static class Init
{
    public static Tensor Uniform(long[] shape, double bound)
    {
        using (torch.no_grad()) return torch.empty(shape).uniform_(-bound, bound);
    }

    public static Tensor FanInUniform(long[] shape, long fanIn) => Uniform(shape, fanIn > 0 ? 1.0 / Math.Sqrt(fanIn) : 0);
}

/// <summary>y = x Wᵀ + b.</summary>
public sealed class Linear : Module<Tensor, Tensor>
{
    public long in_features { get; }
    public long out_features { get; }

    public Linear(long in_features, long out_features, bool bias = true)
    {
        (this.in_features, this.out_features) = (in_features, out_features);
        register_parameter("weight", Init.FanInUniform([out_features, in_features], in_features));
        if (bias) register_parameter("bias", Init.FanInUniform([out_features], in_features));
    }

    public Tensor weight => Param("weight");
    public Tensor? bias => OptionalParam("bias");

    public override Tensor forward(Tensor x) => F.linear(x, weight, bias);
    protected override string Describe() => $"Linear(in={in_features}, out={out_features}, bias={bias is not null})";
}

/// <summary>2-D convolution over [N, C, H, W].</summary>
public sealed class Conv2d : Module<Tensor, Tensor>
{
    private readonly long stride, padding, dilation, groups;
    public long in_channels { get; }
    public long out_channels { get; }
    public long kernel_size { get; }

    public Conv2d(long in_channels, long out_channels, long kernel_size, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true)
    {
        if (in_channels % groups != 0 || out_channels % groups != 0)
            throw new ArgumentException($"Conv2d: channels ({in_channels}, {out_channels}) must be divisible by groups ({groups})");
        (this.in_channels, this.out_channels, this.kernel_size) = (in_channels, out_channels, kernel_size);
        (this.stride, this.padding, this.dilation, this.groups) = (stride, padding, dilation, groups);
        var fanIn = in_channels / groups * kernel_size * kernel_size;
        register_parameter("weight", Init.FanInUniform([out_channels, in_channels / groups, kernel_size, kernel_size], fanIn));
        if (bias) register_parameter("bias", Init.FanInUniform([out_channels], fanIn));
    }

    public Tensor weight => Param("weight");
    public Tensor? bias => OptionalParam("bias");

    public override Tensor forward(Tensor x) => F.conv2d(x, weight, bias, stride, padding, dilation, groups);
    protected override string Describe() => $"Conv2d({in_channels}, {out_channels}, k={kernel_size}, s={stride}, p={padding})";
}

/// <summary>Transposed 2-D convolution (learned upsampling in decoders).</summary>
public sealed class ConvTranspose2d : Module<Tensor, Tensor>
{
    private readonly long stride, padding, output_padding, groups, dilation;
    public long in_channels { get; }
    public long out_channels { get; }

    public ConvTranspose2d(long in_channels, long out_channels, long kernel_size, long stride = 1, long padding = 0, long output_padding = 0,
        long groups = 1, bool bias = true, long dilation = 1)
    {
        (this.in_channels, this.out_channels) = (in_channels, out_channels);
        (this.stride, this.padding, this.output_padding, this.groups, this.dilation) = (stride, padding, output_padding, groups, dilation);
        // PyTorch computes fan-in from weight.size(1) * kernel area for transposed convolutions.
        var fanIn = out_channels / groups * kernel_size * kernel_size;
        register_parameter("weight", Init.FanInUniform([in_channels, out_channels / groups, kernel_size, kernel_size], fanIn));
        if (bias) register_parameter("bias", Init.FanInUniform([out_channels], fanIn));
    }

    public Tensor weight => Param("weight");
    public Tensor? bias => OptionalParam("bias");

    public override Tensor forward(Tensor x) => F.conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation);
    protected override string Describe() => $"ConvTranspose2d({in_channels}, {out_channels}, s={stride})";
}

/// <summary>Batch normalisation: batch statistics in training (running averages updated), running ones in eval.</summary>
public abstract class BatchNorm : Module<Tensor, Tensor>
{
    private readonly double eps, momentum;
    private readonly bool track_running_stats;
    public long num_features { get; }
    protected abstract int[] AcceptedDims { get; }

    protected BatchNorm(long num_features, double eps, double momentum, bool affine, bool track_running_stats)
    {
        (this.num_features, this.eps, this.momentum, this.track_running_stats) = (num_features, eps, momentum, track_running_stats);
        if (affine)
        {
            register_parameter("weight", torch.ones(num_features));
            register_parameter("bias", torch.zeros(num_features));
        }
        if (track_running_stats)
        {
            register_buffer("running_mean", torch.zeros(num_features));
            register_buffer("running_var", torch.ones(num_features));
            register_buffer("num_batches_tracked", torch.zeros([], DType.Int64));
        }
    }

    public Tensor? running_mean => track_running_stats ? GetBuffer("running_mean") : null;
    public Tensor? running_var => track_running_stats ? GetBuffer("running_var") : null;

    public override Tensor forward(Tensor x)
    {
        if (!AcceptedDims.Contains(x.dim()))
            throw new ArgumentException($"{GetType().Name}: expected a {string.Join(" or ", AcceptedDims)}-d input, got [{string.Join(", ", x.shape)}]");
        var useBatchStats = training || !track_running_stats;
        if (training && track_running_stats)
            using (torch.no_grad()) GetBuffer("num_batches_tracked")!.add_(1);
        return F.batch_norm(x, running_mean, running_var, OptionalParam("weight"), OptionalParam("bias"), useBatchStats, momentum, eps);
    }

    protected override string Describe() => $"{GetType().Name}({num_features})";
}

/// <summary>BatchNorm over [N, C] or [N, C, L].</summary>
public sealed class BatchNorm1d(long num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool track_running_stats = true)
    : BatchNorm(num_features, eps, momentum, affine, track_running_stats)
{
    protected override int[] AcceptedDims => [2, 3];
}

/// <summary>BatchNorm over [N, C, H, W].</summary>
public sealed class BatchNorm2d(long num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool track_running_stats = true)
    : BatchNorm(num_features, eps, momentum, affine, track_running_stats)
{
    protected override int[] AcceptedDims => [4];
}

/// <summary>Per-sample, per-channel normalisation of [N, C, H, W] (no running statistics by default, as PyTorch).</summary>
public sealed class InstanceNorm2d : Module<Tensor, Tensor>
{
    private readonly double eps;
    public long num_features { get; }

    public InstanceNorm2d(long num_features, double eps = 1e-5, bool affine = false)
    {
        (this.num_features, this.eps) = (num_features, eps);
        if (!affine) return;
        register_parameter("weight", torch.ones(num_features));
        register_parameter("bias", torch.zeros(num_features));
    }

    public override Tensor forward(Tensor x) => F.instance_norm(x, weight: OptionalParam("weight"), bias: OptionalParam("bias"), eps: eps);
    protected override string Describe() => $"InstanceNorm2d({num_features})";
}

/// <summary>Normalises over the trailing normalized_shape dims (transformer blocks).</summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    private readonly long[] normalized_shape;
    private readonly double eps;

    public LayerNorm(long[] normalized_shape, double eps = 1e-5, bool elementwise_affine = true)
    {
        (this.normalized_shape, this.eps) = (normalized_shape, eps);
        if (!elementwise_affine) return;
        register_parameter("weight", torch.ones(normalized_shape));
        register_parameter("bias", torch.zeros(normalized_shape));
    }

    public LayerNorm(long normalized_shape, double eps = 1e-5) : this([normalized_shape], eps) { }

    public override Tensor forward(Tensor x) => F.layer_norm(x, normalized_shape, OptionalParam("weight"), OptionalParam("bias"), eps);
    protected override string Describe() => $"LayerNorm([{string.Join(", ", normalized_shape)}])";
}

/// <summary>Zeroes elements with probability p in training (scaling the rest by 1/(1-p)); identity in eval.</summary>
public sealed class Dropout(double p = 0.5) : Module<Tensor, Tensor>
{
    public override Tensor forward(Tensor x) => F.dropout(x, p, training);
    protected override string Describe() => $"Dropout(p={p})";
}

/// <summary>PReLU with a learned slope (one shared, or one per channel).</summary>
public sealed class PReLU : Module<Tensor, Tensor>
{
    public PReLU(long num_parameters = 1, double init = 0.25) => register_parameter("weight", torch.full([num_parameters], init));
    public override Tensor forward(Tensor x) => F.prelu(x, Param("weight"));
}

/// <summary>A stateless function as a module (activations, pooling, flatten).</summary>
public class Lambda(string name, Func<Tensor, Tensor> function) : Module<Tensor, Tensor>
{
    public override Tensor forward(Tensor x) => function(x);
    protected override string Describe() => name;
}

public sealed class ReLU() : Lambda("ReLU()", F.relu);
public sealed class ELU(double alpha = 1.0) : Lambda($"ELU(alpha={alpha})", x => F.elu(x, alpha));
public sealed class LeakyReLU(double negative_slope = 0.01) : Lambda($"LeakyReLU({negative_slope})", x => F.leaky_relu(x, negative_slope));
public sealed class GELU(string approximate = "none") : Lambda("GELU()", x => F.gelu(x, approximate));
public sealed class Sigmoid() : Lambda("Sigmoid()", F.sigmoid);
public sealed class Tanh() : Lambda("Tanh()", F.tanh);
public sealed class Softmax(long dim) : Lambda($"Softmax(dim={dim})", x => x.softmax(dim));
public sealed class LogSoftmax(long dim) : Lambda($"LogSoftmax(dim={dim})", x => x.log_softmax(dim));
public sealed class Identity() : Lambda("Identity()", x => x.alias());
public sealed class Flatten(long start_dim = 1, long end_dim = -1) : Lambda("Flatten()", x => x.flatten(start_dim, end_dim));
public sealed class MaxPool2d(long kernel_size, long? stride = null, long padding = 0)
    : Lambda($"MaxPool2d({kernel_size})", x => F.max_pool2d(x, kernel_size, stride, padding));
public sealed class AvgPool2d(long kernel_size, long? stride = null, long padding = 0)
    : Lambda($"AvgPool2d({kernel_size})", x => F.avg_pool2d(x, kernel_size, stride, padding));
public sealed class AdaptiveAvgPool2d(long output_size) : Lambda($"AdaptiveAvgPool2d({output_size})", x => F.adaptive_avg_pool2d(x, output_size));

/// <summary>Runs its modules in order; they are registered as "0", "1", ... as in PyTorch.</summary>
public sealed class Sequential : Module<Tensor, Tensor>
{
    private readonly List<Module<Tensor, Tensor>> layers = [];

    public Sequential(params Module<Tensor, Tensor>[] modules)
    {
        foreach (var m in modules) append(m);
    }

    public Sequential append(Module<Tensor, Tensor> module)
    {
        layers.Add(register_module(layers.Count.ToString(), module));
        return this;
    }

    public int Count => layers.Count;
    public Module<Tensor, Tensor> this[int index] => layers[index];

    public override Tensor forward(Tensor x)
    {
        // Intermediate activations are freed as soon as the next layer has consumed them
        // (autograd keeps what backward needs alive on the native side).
        var current = x;
        foreach (var layer in layers)
        {
            var next = layer.forward(current);
            if (!ReferenceEquals(current, x)) current.Dispose();
            current = next;
        }
        return ReferenceEquals(current, x) ? x.alias() : current;
    }
}

namespace MedSsl.Torch;

/// <summary>How a loss reduces over elements; values are at::Reduction's. BatchMean (KL only) is sum / batch size.</summary>
public enum Reduction { None = 0, Mean = 1, Sum = 2, BatchMean = 3 }

/// <summary>torch.nn.functional: stateless layers, activations and losses (<c>F.relu(x)</c>, <c>F.cross_entropy(...)</c>).</summary>
public static class F
{
    private static readonly Op conv2d_op = new("aten::conv2d"), conv_transpose2d_op = new("aten::conv_transpose2d", "input");
    private static readonly Op linear_op = new("aten::linear");
    private static readonly Op max_pool2d_op = new("aten::max_pool2d"), avg_pool2d_op = new("aten::avg_pool2d");
    private static readonly Op adaptive_avg_pool2d_op = new("aten::adaptive_avg_pool2d"), adaptive_max_pool2d_op = new("aten::adaptive_max_pool2d");
    private static readonly Op batch_norm_op = new("aten::batch_norm"), instance_norm_op = new("aten::instance_norm"), layer_norm_op = new("aten::layer_norm");
    private static readonly Op group_norm_op = new("aten::group_norm");
    private static readonly Op dropout_op = new("aten::dropout");
    private static readonly Op upsample_bilinear_op = new("aten::upsample_bilinear2d", "vec"), upsample_nearest_op = new("aten::upsample_nearest2d", "vec");
    private static readonly Op elu_op = new("aten::elu"), leaky_relu_op = new("aten::leaky_relu"), prelu_op = new("aten::prelu");
    private static readonly Op gelu_op = new("aten::gelu"), silu_op = new("aten::silu"), softplus_op = new("aten::softplus");
    private static readonly Op cross_entropy_op = new("aten::cross_entropy_loss"), nll_loss_op = new("aten::nll_loss_nd");
    private static readonly Op bce_logits_op = new("aten::binary_cross_entropy_with_logits"), bce_op = new("aten::binary_cross_entropy");
    private static readonly Op kl_div_op = new("aten::kl_div"), mse_loss_op = new("aten::mse_loss"), l1_loss_op = new("aten::l1_loss");
    private static readonly Op cosine_similarity_op = new("aten::cosine_similarity"), one_hot_op = new("aten::one_hot");
    private static readonly Op pad_constant_op = new("aten::constant_pad_nd"), pad_reflect_op = new("aten::reflection_pad2d"), pad_replicate_op = new("aten::replication_pad2d");
    private static readonly Op pairwise_distance_op = new("aten::pairwise_distance");

    // ---- layers ------------------------------------------------------------------------------
    public static Tensor linear(Tensor input, Tensor weight, Tensor? bias = null) => linear_op.Call(input, weight, bias);

    public static Tensor conv2d(Tensor input, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long dilation = 1, long groups = 1) =>
        conv2d_op.Call(input, weight, bias, stride, padding, dilation, groups);

    public static Tensor conv_transpose2d(Tensor input, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0,
        long output_padding = 0, long groups = 1, long dilation = 1) =>
        conv_transpose2d_op.Call(input, weight, bias, stride, padding, output_padding, groups, dilation);

    /// <summary>stride defaults to kernel_size, as in PyTorch.</summary>
    public static Tensor max_pool2d(Tensor input, long kernel_size, long? stride = null, long padding = 0, bool ceil_mode = false) =>
        max_pool2d_op.Call(input, kernel_size, stride ?? kernel_size, padding, 1, ceil_mode);

    public static Tensor avg_pool2d(Tensor input, long kernel_size, long? stride = null, long padding = 0, bool ceil_mode = false) =>
        avg_pool2d_op.Call(input, kernel_size, stride ?? kernel_size, padding, ceil_mode);

    public static Tensor adaptive_avg_pool2d(Tensor input, long output_size) => adaptive_avg_pool2d_op.Call(input, output_size);
    public static Tensor adaptive_avg_pool2d(Tensor input, long[] output_size) => adaptive_avg_pool2d_op.Call(input, output_size);
    public static Tensor adaptive_max_pool2d(Tensor input, long output_size) => adaptive_max_pool2d_op.CallMany(input, output_size)[0];

    /// <summary>Batch norm; in training mode uses batch statistics and updates the running ones in place.</summary>
    public static Tensor batch_norm(Tensor input, Tensor? running_mean, Tensor? running_var, Tensor? weight = null, Tensor? bias = null,
        bool training = false, double momentum = 0.1, double eps = 1e-5) =>
        batch_norm_op.Call(input, weight, bias, running_mean, running_var, training, momentum, eps, true);

    public static Tensor instance_norm(Tensor input, Tensor? running_mean = null, Tensor? running_var = null, Tensor? weight = null,
        Tensor? bias = null, bool use_input_stats = true, double momentum = 0.1, double eps = 1e-5) =>
        instance_norm_op.Call(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, true);

    public static Tensor layer_norm(Tensor input, long[] normalized_shape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
        layer_norm_op.Call(input, normalized_shape, weight, bias, eps);

    public static Tensor group_norm(Tensor input, long num_groups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
        group_norm_op.Call(input, num_groups, weight, bias, eps);

    public static Tensor dropout(Tensor input, double p = 0.5, bool training = true) =>
        p is < 0 or > 1 ? throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must be in [0, 1]") : dropout_op.Call(input, p, training);

    /// <summary>Resizes [N,C,H,W] to size or by scale_factor; mode "nearest" or "bilinear".</summary>
    public static Tensor interpolate(Tensor input, long[]? size = null, double? scale_factor = null, string mode = "nearest", bool align_corners = false)
    {
        if ((size is null) == (scale_factor is null)) throw new ArgumentException("interpolate: give exactly one of size and scale_factor");
        Arg sizeArg = size, scales = scale_factor is { } s ? new[] { s, s } : null;
        return mode switch
        {
            "nearest" => upsample_nearest_op.Call(input, sizeArg, scales),
            "bilinear" => upsample_bilinear_op.Call(input, sizeArg, align_corners, scales),
            _ => throw new ArgumentException($"interpolate: unsupported mode '{mode}' (nearest, bilinear)"),
        };
    }

    /// <summary>Pads the last dims: pad = [left, right, top, bottom]; mode constant, reflect or replicate.</summary>
    public static Tensor pad(Tensor input, long[] pad, string mode = "constant", double value = 0) => mode switch
    {
        "constant" => pad_constant_op.Call(input, pad, value),
        "reflect" => pad_reflect_op.Call(input, pad),
        "replicate" => pad_replicate_op.Call(input, pad),
        _ => throw new ArgumentException($"pad: unsupported mode '{mode}' (constant, reflect, replicate)"),
    };

    // ---- activations ---------------------------------------------------------------------------
    public static Tensor relu(Tensor x) => x.relu();
    public static Tensor elu(Tensor x, double alpha = 1.0) => elu_op.Call(x, alpha);
    public static Tensor leaky_relu(Tensor x, double negative_slope = 0.01) => leaky_relu_op.Call(x, negative_slope);
    public static Tensor prelu(Tensor x, Tensor weight) => prelu_op.Call(x, weight);
    /// <summary>approximate: "none" (erf) or "tanh".</summary>
    public static Tensor gelu(Tensor x, string approximate = "none") => gelu_op.Call(x, approximate);
    public static Tensor silu(Tensor x) => silu_op.Call(x);
    public static Tensor softplus(Tensor x, double beta = 1, double threshold = 20) => softplus_op.Call(x, beta, threshold);
    public static Tensor sigmoid(Tensor x) => x.sigmoid();
    public static Tensor tanh(Tensor x) => x.tanh();
    public static Tensor softmax(Tensor x, long dim) => x.softmax(dim);
    public static Tensor log_softmax(Tensor x, long dim) => x.log_softmax(dim);

    // ---- losses --------------------------------------------------------------------------------

    /// <summary>Cross-entropy of logits [N,C,...] against class indices [N,...] (int64) or class
    /// probabilities shaped like the logits (soft targets). ignore_index applies to index targets.</summary>
    public static Tensor cross_entropy(Tensor input, Tensor target, Tensor? weight = null, long ignore_index = -100,
        Reduction reduction = Reduction.Mean, double label_smoothing = 0) =>
        cross_entropy_op.Call(input, target, weight, (long)Plain(reduction), ignore_index, label_smoothing);

    public static Tensor nll_loss(Tensor log_probs, Tensor target, Tensor? weight = null, long ignore_index = -100, Reduction reduction = Reduction.Mean) =>
        nll_loss_op.Call(log_probs, target, weight, (long)Plain(reduction), ignore_index);

    /// <summary>BCE on logits (numerically stable); weight rescales each element, pos_weight each positive class.</summary>
    public static Tensor binary_cross_entropy_with_logits(Tensor input, Tensor target, Tensor? weight = null, Tensor? pos_weight = null,
        Reduction reduction = Reduction.Mean) =>
        bce_logits_op.Call(input, target, weight, pos_weight, (long)Plain(reduction));

    public static Tensor binary_cross_entropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean) =>
        bce_op.Call(input, target, weight, (long)Plain(reduction));

    /// <summary>KL(target ‖ exp(input)) with input given as log-probabilities, as PyTorch's F.kl_div.</summary>
    public static Tensor kl_div(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, bool log_target = false)
    {
        if (reduction != Reduction.BatchMean) return kl_div_op.Call(input, target, (long)reduction, log_target);
        using var sum = kl_div_op.Call(input, target, (long)Reduction.Sum, log_target);
        return sum / input.size(0);
    }

    public static Tensor mse_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) => mse_loss_op.Call(input, target, (long)Plain(reduction));
    public static Tensor l1_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) => l1_loss_op.Call(input, target, (long)Plain(reduction));

    // ---- similarity --------------------------------------------------------------------------

    /// <summary>x / max(‖x‖_p, eps) along dim (PyTorch's F.normalize).</summary>
    public static Tensor normalize(Tensor x, double p = 2, long dim = 1, double eps = 1e-12)
    {
        using var norm = x.norm(dim, p, keepdim: true);
        using var clamped = norm.clamp_min(eps);
        return x / clamped;
    }

    public static Tensor cosine_similarity(Tensor x1, Tensor x2, long dim = 1, double eps = 1e-8) => cosine_similarity_op.Call(x1, x2, dim, eps);
    public static Tensor pairwise_distance(Tensor x1, Tensor x2, double p = 2, double eps = 1e-6) => pairwise_distance_op.Call(x1, x2, p, eps);
    public static Tensor one_hot(Tensor indices, long num_classes = -1) => one_hot_op.Call(indices, num_classes);

    private static Reduction Plain(Reduction r) =>
        r == Reduction.BatchMean ? throw new ArgumentException("batchmean reduction applies to kl_div only") : r;
}

using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Runtime;

/// <summary>Channels-last (NHWC) memory layout for 4-d tensors, which TorchSharp 0.107 does not expose
/// (<c>x.contiguous(memory_format=torch.channels_last)</c> in PyTorch): the same values and shape [N, C, H, W], strides
/// (H·W·C, 1, W·C, C). libtorch's convolutions and batch norm keep the layout of their input, and oneDNN can skip its
/// reorders when input and weights are NHWC. Values are copied exactly; only the order in memory changes.</summary>
public static class ChannelsLast
{
    /// <summary>A channels-last copy of a 4-d tensor (other ranks are returned as they are, as an alias).</summary>
    public static Tensor Of(Tensor x)
    {
        if (x.dim() != 4) return x.alias();
        long c = x.size(1), h = x.size(2), w = x.size(3);
        var result = torch.empty_strided(x.shape, [h * w * c, 1, w * c, c], x.dtype, x.device);
        using (torch.no_grad()) result.copy_(x);
        return result.requires_grad_(x.requires_grad);
    }

    /// <summary>True when <paramref name="x"/> is 4-d with channels-last strides.</summary>
    public static bool Is(Tensor x)
    {
        if (x.dim() != 4) return false;
        var s = x.stride();
        long c = x.size(1), h = x.size(2), w = x.size(3);
        return s[1] == 1 && s[3] == c && s[2] == w * c && s[0] == h * w * c;
    }

    /// <summary>Moves every 4-d parameter and buffer of <paramref name="module"/> (convolution weights) to channels-last in
    /// place, keeping the tensors (optimizers built before or after see the same ones).</summary>
    public static void Apply(nn.Module module)
    {
        using var noGrad = torch.no_grad();
        foreach (var p in module.parameters())
            if (p.dim() == 4 && !Is(p))
                using (var copy = Of(p)) p.set_(copy);
    }
}

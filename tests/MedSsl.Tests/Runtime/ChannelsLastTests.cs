using MedSsl.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Runtime;

/// <summary>Channels-last copies: the same values in NHWC order, kept by convolutions, and modules moved in place.</summary>
public class ChannelsLastTests
{
    [Fact]
    public void A_copy_has_the_same_values_and_nhwc_strides()
    {
        using var x = torch.arange(2 * 3 * 4 * 5, dtype: ScalarType.Float32).reshape(2, 3, 4, 5);
        using var y = ChannelsLast.Of(x);
        Assert.Equal([60L, 1, 15, 3], y.stride());
        Assert.True(ChannelsLast.Is(y));
        Assert.False(ChannelsLast.Is(x));
        Assert.True(x.equal(y).all().ToBoolean());
        // In memory, channel 1 of pixel (0, 0) (value 20) comes right after channel 0 (value 0), then channel 2 (40).
        using var memory = y.as_strided([120], [1]);
        Assert.Equal([0f, 20f, 40f, 1f], memory[..4].data<float>().ToArray());
    }

    [Fact]
    public void A_network_moved_to_channels_last_computes_what_it_did_and_keeps_its_parameters()
    {
        torch.manual_seed(3);
        using var conv = nn.Conv2d(3, 8, 3, padding: 1);
        using var x = torch.randn(2, 3, 6, 6);
        using var before = conv.call(x);
        var weight = conv.weight!;
        ChannelsLast.Apply(conv);
        Assert.Equal(weight.Handle, conv.weight!.Handle);   // the same tensor, its storage replaced
        Assert.True(ChannelsLast.Is(conv.weight!));
        using var xl = ChannelsLast.Of(x);
        using var after = conv.call(xl);
        Assert.True(ChannelsLast.Is(after));
        Assert.True(before.allclose(after, rtol: 1e-5, atol: 1e-5));
    }
}

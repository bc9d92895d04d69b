using MedSsl.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Runtime;

/// <summary>bfloat16 autocast reached through libtorch's C++ API: on inside a scope only, cast weights not kept across
/// scopes (an optimizer's update must be seen by the next step).</summary>
public class AutocastTests
{
    [Fact]
    public void Linear_layers_run_in_bfloat16_inside_the_scope_and_in_float32_outside()
    {
        using var x = torch.ones(2, 3);
        using var w = torch.full(4, 3, 0.5, requires_grad: true);
        using (Autocast.CpuBf16())
        {
            using var inside = nn.functional.linear(x, w);
            Assert.Equal(ScalarType.BFloat16, inside.dtype);
            using (Autocast.CpuBf16()) { }   // a nested scope leaves the outer one on
            using var stillInside = nn.functional.linear(x, w);
            Assert.Equal(ScalarType.BFloat16, stillInside.dtype);
        }
        using var outside = nn.functional.linear(x, w);
        Assert.Equal(ScalarType.Float32, outside.dtype);
        Assert.Equal(1.5f, outside[0, 0].ToSingle());
    }

    [Fact]
    public void A_weight_changed_between_scopes_is_cast_afresh()
    {
        using var x = torch.ones(1, 2);
        using var w = torch.ones(1, 2, requires_grad: true);   // a leaf requiring grad: the kind autocast caches
        float Output()
        {
            using var scope = Autocast.CpuBf16();
            using var y = nn.functional.linear(x, w);
            return y.to(ScalarType.Float32).ToSingle();
        }
        Assert.Equal(2f, Output());
        using (torch.no_grad()) w.mul_(3);
        Assert.Equal(6f, Output());
    }
}

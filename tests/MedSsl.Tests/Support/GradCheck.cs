using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Support;

/// <summary>Compares autograd's gradient of f with central finite differences in float64.</summary>
internal static class GradCheck
{
    public static void Check(Func<Tensor[], Tensor> f, params Tensor[] inputs) => Check(f, 1e-6, 1e-5, 1e-4, inputs);

    public static void Check(Func<Tensor[], Tensor> f, double eps, double atol, double rtol, params Tensor[] inputs)
    {
        using var scope = torch.NewDisposeScope();
        var leaves = inputs.Select(i => i.to(ScalarType.Float64).detach().requires_grad_()).ToArray();
        var output = f(leaves);
        // A fixed random projection makes a vector-valued f scalar without hiding any output element.
        var weights = torch.rand(output.shape, ScalarType.Float64, generator: new Generator(1234)) + 0.5;
        var analytic = torch.autograd.grad([(output * weights).sum()], leaves);
        using var noGrad = torch.no_grad();
        for (var k = 0; k < leaves.Length; k++)
        {
            var values = leaves[k].detach().clone();
            var flat = values.reshape(-1);
            var numeric = new double[flat.numel()];
            for (var i = 0; i < numeric.Length; i++)
            {
                var original = flat[i].ToDouble();
                flat[i].fill_(original + eps);
                var plus = Evaluate(f, leaves, k, values, weights);
                flat[i].fill_(original - eps);
                var minus = Evaluate(f, leaves, k, values, weights);
                flat[i].fill_(original);
                numeric[i] = (plus - minus) / (2 * eps);
            }
            var got = analytic[k]!.reshape(-1).data<double>().ToArray();
            for (var i = 0; i < numeric.Length; i++)
                Assert.True(Math.Abs(got[i] - numeric[i]) <= atol + rtol * Math.Abs(numeric[i]),
                    $"input {k} element {i}: autograd {got[i]:G10} vs finite difference {numeric[i]:G10}");
        }
    }

    private static double Evaluate(Func<Tensor[], Tensor> f, Tensor[] leaves, int k, Tensor replaced, Tensor weights)
    {
        var args = leaves.Select((l, j) => j == k ? replaced : l.detach()).ToArray();
        return (f(args) * weights).sum().ToDouble();
    }
}

using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace MedSsl.Models;

/// <summary>A multilayer perceptron: Linear → activation for each hidden width, then a Linear output
/// (no activation), e.g. SSLDEC's half-moons network 2 → 4×10 (ReLU) → 2.</summary>
public static class Mlp
{
    public static Sequential Create(long inputs, IReadOnlyList<long> hidden, long outputs, Func<nn.Module<Tensor, Tensor>>? activation = null)
    {
        activation ??= () => nn.ReLU();
        var net = nn.Sequential();
        var width = inputs;
        foreach (var h in hidden)
        {
            net.append(nn.Linear(width, h)).append(activation());
            width = h;
        }
        return net.append(nn.Linear(width, outputs));
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Data.Augmentation;

/// <summary>The one augmentation interface: a stochastic transform of a batch whose draws come from
/// <paramref name="generator"/> only, so the same generator state gives the same batch. Weak and strong views
/// (FixMatch) are two instances; SSLDEC's point jitter is a third.</summary>
public interface IAugmentation
{
    Tensor Apply(Tensor batch, Generator generator);
}

/// <summary>Adds N(0, σ²) noise to every coordinate: the stochastic augmentation of points [N, D] (SSLDEC's half
/// moons; Enguehard et al. 2019, Fig. 1 trains on augmented inputs).</summary>
public sealed class GaussianJitter(double sigma) : IAugmentation
{
    public double Sigma { get; } = sigma >= 0 ? sigma : throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "σ must be ≥ 0");

    public Tensor Apply(Tensor batch, Generator generator) =>
        batch + torch.randn(batch.shape, batch.dtype, batch.device, generator: generator) * Sigma;

    public override string ToString() => $"GaussianJitter(σ = {Sigma})";
}

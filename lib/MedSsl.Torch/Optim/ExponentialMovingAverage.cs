using MedSsl.Torch.NN;

namespace MedSsl.Torch.Optim;

/// <summary>Keeps target's parameters an exponential moving average of source's:
/// θ_target ← decay·θ_target + (1 − decay)·θ_source, with buffers (BN statistics) copied, as
/// FixMatch's EMA model and DINO's teacher. Both modules must have the same architecture.</summary>
public sealed class ExponentialMovingAverage
{
    private readonly Module source, target;

    public double decay { get; set; }

    public ExponentialMovingAverage(Module source, Module target, double decay)
    {
        if (decay is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(decay), decay, "decay must be in [0, 1]");
        (this.source, this.target, this.decay) = (source, target, decay);
        target.load_state_dict(source.state_dict().ToDictionary(e => e.name, e => e.value));
        target.requires_grad_(false);
    }

    public void update()
    {
        using var noGrad = torch.no_grad();
        foreach (var ((_, s), (_, t)) in source.named_parameters().Zip(target.named_parameters()))
            t.lerp_(s, 1 - decay);
        foreach (var ((_, s), (_, t)) in source.named_buffers().Zip(target.named_buffers()))
            t.copy_(s);
    }
}

namespace MedSsl.Torch.Optim;

/// <summary>Sets every group's learning rate to initial_lr × factor(t), where t counts calls to
/// <see cref="step"/> (epochs or iterations, as the caller steps it).</summary>
public abstract class LRScheduler
{
    private readonly Optimizer optimizer;

    public int last_step { get; private set; }

    protected LRScheduler(Optimizer optimizer) => this.optimizer = optimizer;

    /// <summary>The multiplier of the initial learning rate after t steps.</summary>
    public abstract double Factor(int t);

    public void step()
    {
        last_step++;
        foreach (var g in optimizer.param_groups) g.lr = g.initial_lr * Factor(last_step);
    }

    public IReadOnlyList<double> get_last_lr() => optimizer.param_groups.Select(g => g.lr).ToList();
}

/// <summary>Multiplies by gamma every step_size steps.</summary>
public sealed class StepLR(Optimizer optimizer, int step_size, double gamma = 0.1) : LRScheduler(optimizer)
{
    public override double Factor(int t) => Math.Pow(gamma, t / step_size);
}

/// <summary>Cosine from 1 down to eta_min/lr over T_max steps (closed form of PyTorch's CosineAnnealingLR); eta_min_factor = eta_min / initial lr.</summary>
public sealed class CosineAnnealingLR(Optimizer optimizer, int T_max, double eta_min_factor = 0) : LRScheduler(optimizer)
{
    public override double Factor(int t) => eta_min_factor + (1 - eta_min_factor) * (1 + Math.Cos(Math.PI * Math.Min(t, T_max) / T_max)) / 2;
}

/// <summary>(1 − t/total)^power, the "poly" decay of segmentation training (SSL4MIS uses power 0.9).</summary>
public sealed class PolyLR(Optimizer optimizer, int total_steps, double power = 0.9) : LRScheduler(optimizer)
{
    public override double Factor(int t) => Math.Pow(1 - Math.Min(t, total_steps) / (double)total_steps, power);
}

/// <summary>Linear decay from 1 to end_factor over total_steps.</summary>
public sealed class LinearDecayLR(Optimizer optimizer, int total_steps, double end_factor = 0) : LRScheduler(optimizer)
{
    public override double Factor(int t) => 1 + (end_factor - 1) * Math.Min(t, total_steps) / total_steps;
}

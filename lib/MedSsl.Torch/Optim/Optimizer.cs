namespace MedSsl.Torch.Optim;

/// <summary>A set of parameters sharing a learning rate and weight decay (e.g. no decay on biases and norms).</summary>
public sealed class ParamGroup(IEnumerable<Tensor> parameters, double? lr = null, double? weight_decay = null)
{
    public IReadOnlyList<Tensor> Parameters { get; } = parameters.ToList();
    public double lr { get; set; } = lr ?? double.NaN;
    public double weight_decay { get; set; } = weight_decay ?? double.NaN;
    /// <summary>The learning rate schedulers scale from.</summary>
    public double initial_lr { get; internal set; }
}

/// <summary>Base of the optimizers: parameter groups, zero_grad, and a step that runs under
/// no_grad in its own dispose scope so no temporary outlives it.</summary>
public abstract class Optimizer : IDisposable
{
    private readonly Dictionary<Tensor, Dictionary<string, Tensor>> state = new(ReferenceEqualityComparer.Instance);

    public IReadOnlyList<ParamGroup> param_groups { get; }

    protected Optimizer(IEnumerable<ParamGroup> groups, double lr, double weight_decay)
    {
        if (lr < 0) throw new ArgumentOutOfRangeException(nameof(lr), lr, "learning rate must be non-negative");
        param_groups = groups.ToList();
        foreach (var g in param_groups)
        {
            if (double.IsNaN(g.lr)) g.lr = lr;
            if (double.IsNaN(g.weight_decay)) g.weight_decay = weight_decay;
            g.initial_lr = g.lr;
        }
    }

    protected static IEnumerable<ParamGroup> OneGroup(IEnumerable<Tensor> parameters) => [new ParamGroup(parameters)];

    /// <summary>Clears the gradients (set to none, PyTorch's default since 2.0).</summary>
    public void zero_grad()
    {
        foreach (var g in param_groups)
            foreach (var p in g.Parameters) p.grad = null;
    }

    /// <summary>One training step — zero_grad, forward, backward, step — returning the loss, detached. The forward
    /// graph lives in a dispose scope that ends with backward, so its activations are freed before the update
    /// allocates, the order PyTorch gets from <c>loss_fn(net(x), y).backward()</c>; holding them through the update
    /// leaves glibc's heap fragmented and RSS drifting by a third over 2000 steps (docs/benchmarks.md).</summary>
    public Tensor minimize(Func<Tensor> loss)
    {
        zero_grad();
        Tensor value;
        using (torch.NewDisposeScope())
        {
            var graph = loss();
            graph.backward();
            value = graph.detach().MoveToOuterDisposeScope();
        }
        step();
        return value;
    }

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void step()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var group in param_groups)
            foreach (var p in group.Parameters)
            {
                using var grad = p.grad;
                if (grad is not null) Update(p, grad, group, State(p));
            }
    }

    /// <summary>Updates one parameter in place (grad mode is off; temporaries are freed by the step's scope).</summary>
    protected abstract void Update(Tensor parameter, Tensor grad, ParamGroup group, Dictionary<string, Tensor> state);

    /// <summary>Per-parameter state (momentum buffers, moments); its tensors outlive the step's scope.</summary>
    private Dictionary<string, Tensor> State(Tensor p)
    {
        if (!state.TryGetValue(p, out var s)) state[p] = s = [];
        return s;
    }

    /// <summary>Stores a state tensor for a parameter, taking it out of the step's dispose scope.</summary>
    protected static Tensor Keep(Dictionary<string, Tensor> state, string key, Tensor value) => state[key] = value.DetachFromDisposeScope();

    public void Dispose()
    {
        foreach (var s in state.Values)
            foreach (var t in s.Values) t.Dispose();
        state.Clear();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (PyTorch's algorithm).</summary>
public sealed class SGD : Optimizer
{
    private readonly double momentum, dampening;
    private readonly bool nesterov;

    public SGD(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false)
        : base(groups, lr, weight_decay)
    {
        if (nesterov && (momentum <= 0 || dampening != 0)) throw new ArgumentException("Nesterov momentum requires momentum > 0 and zero dampening");
        (this.momentum, this.dampening, this.nesterov) = (momentum, dampening, nesterov);
    }

    public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false)
        : this(OneGroup(parameters), lr, momentum, dampening, weight_decay, nesterov) { }

    protected override void Update(Tensor p, Tensor grad, ParamGroup group, Dictionary<string, Tensor> state)
    {
        var d = group.weight_decay != 0 ? grad + group.weight_decay * p : grad;
        if (momentum != 0)
        {
            if (state.TryGetValue("momentum_buffer", out var buf)) buf.mul_(momentum).add_(d, 1 - dampening);
            else buf = Keep(state, "momentum_buffer", d.clone());
            d = nesterov ? d + momentum * buf : buf;
        }
        p.add_(d, -group.lr);
    }
}

/// <summary>Adam (Kingma &amp; Ba) with bias correction; weight_decay is L2 added to the gradient, as torch.optim.Adam.</summary>
public class Adam : Optimizer
{
    private readonly double beta1, beta2, eps;
    private readonly bool decoupled;
    // Step counts stay in .NET so the update never waits on a device to read one back.
    private readonly Dictionary<Tensor, int> steps = new(ReferenceEqualityComparer.Instance);

    public Adam(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weight_decay = 0)
        : this(groups, lr, beta1, beta2, eps, weight_decay, decoupled: false) { }

    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weight_decay = 0)
        : this(OneGroup(parameters), lr, beta1, beta2, eps, weight_decay, decoupled: false) { }

    protected Adam(IEnumerable<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weight_decay, bool decoupled)
        : base(groups, lr, weight_decay)
    {
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), "betas must be in [0, 1)");
        (this.beta1, this.beta2, this.eps, this.decoupled) = (beta1, beta2, eps, decoupled);
    }

    protected override void Update(Tensor p, Tensor grad, ParamGroup group, Dictionary<string, Tensor> state)
    {
        if (!state.TryGetValue("exp_avg", out var m))
        {
            m = Keep(state, "exp_avg", torch.zeros_like(p));
            Keep(state, "exp_avg_sq", torch.zeros_like(p));
        }
        var v = state["exp_avg_sq"];
        var t = steps[p] = steps.GetValueOrDefault(p) + 1;
        if (group.weight_decay != 0)
        {
            if (decoupled) p.mul_(1 - group.lr * group.weight_decay);
            else grad = grad + group.weight_decay * p;
        }
        m.lerp_(grad, 1 - beta1);
        v.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
        var biasCorrection1 = 1 - Math.Pow(beta1, t);
        var biasCorrection2 = 1 - Math.Pow(beta2, t);
        var denom = (v.sqrt() / Math.Sqrt(biasCorrection2)).add_(eps);
        p.addcdiv_(m, denom, -group.lr / biasCorrection1);
    }
}

/// <summary>AdamW (Loshchilov &amp; Hutter): weight decay applied to the weights, decoupled from the gradient.</summary>
public sealed class AdamW : Adam
{
    public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weight_decay = 1e-2)
        : base(groups, lr, beta1, beta2, eps, weight_decay, decoupled: true) { }

    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weight_decay = 1e-2)
        : base(OneGroup(parameters), lr, beta1, beta2, eps, weight_decay, decoupled: true) { }
}

using MedSsl.Torch.Serialization;

namespace MedSsl.Torch.NN;

/// <summary>Base of every layer and model: registers parameters, buffers and child modules by
/// name (in order), so traversal, train/eval, device moves, freezing and state dicts work for any
/// model built from registered pieces. Subclasses read their tensors back through the registry
/// (<see cref="Param"/>, <see cref="GetBuffer"/>), so <see cref="to(Device)"/> can replace them.</summary>
public abstract class Module : IDisposable
{
    private readonly OrderedDictionary<string, Tensor> ownParameters = new();
    private readonly OrderedDictionary<string, Tensor?> ownBuffers = new();
    private readonly OrderedDictionary<string, Module> ownChildren = new();

    public bool training { get; private set; } = true;

    // ---- registration ------------------------------------------------------------------------

    /// <summary>Registers a trainable tensor (requires_grad set, owned by the module, not by any dispose scope).</summary>
    protected Tensor register_parameter(string name, Tensor value)
    {
        CheckName(name);
        value.DetachFromDisposeScope();
        if (!value.requires_grad) value.requires_grad = true;
        ownParameters[name] = value;
        return value;
    }

    /// <summary>Registers state that is saved and moved with the module but not trained (running statistics).</summary>
    protected Tensor? register_buffer(string name, Tensor? value)
    {
        CheckName(name);
        value?.DetachFromDisposeScope();
        ownBuffers[name] = value;
        return value;
    }

    protected T register_module<T>(string name, T module) where T : Module
    {
        CheckName(name);
        ownChildren[name] = module;
        return module;
    }

    protected Tensor Param(string name) => ownParameters[name];
    protected Tensor? OptionalParam(string name) => ownParameters.TryGetValue(name, out var p) ? p : null;
    protected Tensor? GetBuffer(string name) => ownBuffers[name];

    /// <summary>Replaces a buffer's tensor (e.g. a counter), disposing the old one.</summary>
    protected void SetBuffer(string name, Tensor value)
    {
        var old = ownBuffers[name];
        ownBuffers[name] = value.DetachFromDisposeScope();
        if (!ReferenceEquals(old, value)) old?.Dispose();
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: invalid member name '{name}' (non-empty, no dots)");
        if (ownParameters.ContainsKey(name) || ownBuffers.ContainsKey(name) || ownChildren.ContainsKey(name))
            throw new ArgumentException($"{GetType().Name}: '{name}' is already registered");
    }

    // ---- traversal -----------------------------------------------------------------------------

    public IEnumerable<(string name, Tensor parameter)> named_parameters(bool recurse = true)
    {
        foreach (var (name, p) in ownParameters) yield return (name, p);
        if (!recurse) yield break;
        foreach (var (prefix, child) in ownChildren)
            foreach (var (name, p) in child.named_parameters()) yield return ($"{prefix}.{name}", p);
    }

    /// <summary>All trainable tensors, in registration order (what an optimizer takes).</summary>
    public IEnumerable<Tensor> parameters(bool recurse = true) => named_parameters(recurse).Select(p => p.parameter);

    public IEnumerable<(string name, Tensor buffer)> named_buffers(bool recurse = true)
    {
        foreach (var (name, b) in ownBuffers) if (b is not null) yield return (name, b);
        if (!recurse) yield break;
        foreach (var (prefix, child) in ownChildren)
            foreach (var (name, b) in child.named_buffers()) yield return ($"{prefix}.{name}", b);
    }

    public IEnumerable<(string name, Module module)> named_children() => ownChildren.Select(c => (c.Key, c.Value));

    /// <summary>This module ("") and every descendant, with dotted names.</summary>
    public IEnumerable<(string name, Module module)> named_modules()
    {
        yield return ("", this);
        foreach (var (prefix, child) in ownChildren)
            foreach (var (name, m) in child.named_modules()) yield return (name.Length == 0 ? prefix : $"{prefix}.{name}", m);
    }

    /// <summary>Number of scalar parameters (trainable only when asked).</summary>
    public long parameter_count(bool trainable_only = false) =>
        parameters().Where(p => !trainable_only || p.requires_grad).Sum(p => p.numel());

    // ---- modes ---------------------------------------------------------------------------------

    public virtual Module train(bool mode = true)
    {
        training = mode;
        foreach (var child in ownChildren.Values) child.train(mode);
        return this;
    }

    public Module eval() => train(false);

    /// <summary>Turns gradient tracking of every parameter on or off (freezing a backbone).</summary>
    public Module requires_grad_(bool requires_grad = true)
    {
        foreach (var p in parameters()) p.requires_grad = requires_grad;
        return this;
    }

    /// <summary>Moves (or converts) every parameter and buffer, keeping requires_grad.</summary>
    public Module to(Device device) => Map(t => t.to(device));

    public Module to(DType dtype) => Map(t => t.dtype.IsFloatingPoint() ? t.to(dtype) : t.alias());

    private Module Map(Func<Tensor, Tensor> convert)
    {
        using (torch.no_grad())
        {
            foreach (var name in ownParameters.Keys.ToList())
            {
                var old = ownParameters[name];
                var moved = convert(old).DetachFromDisposeScope();
                moved.requires_grad = old.requires_grad;
                ownParameters[name] = moved;
                old.Dispose();
            }
            foreach (var name in ownBuffers.Keys.ToList())
            {
                if (ownBuffers[name] is not { } old) continue;
                ownBuffers[name] = convert(old).DetachFromDisposeScope();
                old.Dispose();
            }
        }
        foreach (var child in ownChildren.Values) child.Map(convert);
        return this;
    }

    /// <summary>Clears every parameter's gradient.</summary>
    public void zero_grad()
    {
        foreach (var p in parameters()) p.grad = null;
    }

    // ---- state -----------------------------------------------------------------------------

    /// <summary>Each module's parameters then buffers, depth first, by dotted name — PyTorch's order.
    /// The tensors themselves, not copies.</summary>
    public IReadOnlyList<(string name, Tensor value)> state_dict() =>
        named_modules().SelectMany(m => m.module.named_parameters(recurse: false).Concat(m.module.named_buffers(recurse: false))
            .Select(e => (m.name.Length == 0 ? e.Item1 : $"{m.name}.{e.Item1}", e.Item2))).ToList();

    /// <summary>Copies values into this module's tensors. Every mismatch — missing and unexpected names,
    /// shapes, dtypes — is reported together in one <see cref="StateDictMismatchException"/>.</summary>
    public void load_state_dict(IReadOnlyDictionary<string, Tensor> state, bool strict = true, string? source = null)
    {
        var own = state_dict().ToDictionary(e => e.name, e => e.value);
        var problems = new List<string>();
        if (strict)
        {
            problems.AddRange(own.Keys.Where(k => !state.ContainsKey(k)).Select(k => $"missing: {k}"));
            problems.AddRange(state.Keys.Where(k => !own.ContainsKey(k)).Select(k => $"unexpected: {k}"));
        }
        foreach (var (name, target) in own)
        {
            if (!state.TryGetValue(name, out var value)) continue;
            if (!value.shape.SequenceEqual(target.shape))
                problems.Add($"shape of {name}: expected [{string.Join(", ", target.shape)}], got [{string.Join(", ", value.shape)}]");
            else if (value.dtype != target.dtype)
                problems.Add($"dtype of {name}: expected {target.dtype}, got {value.dtype}");
        }
        if (problems.Count > 0) throw new StateDictMismatchException(source ?? GetType().Name, problems);
        using (torch.no_grad())
            foreach (var (name, target) in own)
                if (state.TryGetValue(name, out var value)) target.copy_(value);
    }

    /// <summary>Saves the state dict as a safetensors file (temp file, then rename).</summary>
    public void save(string path) => Safetensors.Save(path, state_dict());

    /// <summary>Loads a safetensors file written by <see cref="save"/> (or PyTorch's safetensors).</summary>
    public void load(string path, bool strict = true)
    {
        var state = Safetensors.Load(path);
        try { load_state_dict(state, strict, path); }
        finally { foreach (var t in state.Values) t.Dispose(); }
    }

    public override string ToString() => ToString(0);

    private string ToString(int indent)
    {
        if (ownChildren.Count == 0) return Describe();
        var pad = new string(' ', indent + 2);
        var lines = ownChildren.Select(c => $"{pad}({c.Key}): {c.Value.ToString(indent + 2)}");
        return $"{GetType().Name}(\n{string.Join("\n", lines)}\n{new string(' ', indent)})";
    }

    /// <summary>One-line description of a leaf module, e.g. "Linear(in=4, out=10)".</summary>
    protected virtual string Describe() => GetType().Name + "()";

    public virtual void Dispose()
    {
        foreach (var p in ownParameters.Values) p.Dispose();
        foreach (var b in ownBuffers.Values) b?.Dispose();
        foreach (var c in ownChildren.Values) c.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A module with a typed forward; <c>module.call(x)</c> runs it.</summary>
public abstract class Module<TIn, TOut> : Module
{
    public abstract TOut forward(TIn input);

    public TOut call(TIn input) => forward(input);
}

/// <summary>Raised by load_state_dict with every mismatch found.</summary>
public sealed class StateDictMismatchException(string source, IReadOnlyList<string> problems)
    : Exception($"{source}: state dict does not match the module ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):\n  " + string.Join("\n  ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

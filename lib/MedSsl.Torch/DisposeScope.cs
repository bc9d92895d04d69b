namespace MedSsl.Torch;

/// <summary>Frees, when disposed, every tensor created on this thread while it was the innermost
/// scope (TorchSharp's model). Scopes nest; a result that must outlive the scope is moved out with
/// <see cref="Tensor.MoveToOuterDisposeScope"/> or detached with <see cref="Tensor.DetachFromDisposeScope"/>.</summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? current;

    private readonly HashSet<Tensor> tensors = new(ReferenceEqualityComparer.Instance);
    private bool disposed;

    internal DisposeScope? Outer { get; }

    internal DisposeScope() { Outer = current; current = this; }

    internal static DisposeScope? Current => current;

    /// <summary>Tensors this scope will free.</summary>
    public int Count => tensors.Count;

    internal void Add(Tensor t) { tensors.Add(t); t.Scope = this; }

    internal void Remove(Tensor t) { tensors.Remove(t); t.Scope = null; }

    /// <summary>Frees everything in this scope except the given tensors, which stay in it.</summary>
    public void DisposeEverythingBut(params Tensor[] keep)
    {
        var kept = new HashSet<Tensor>(keep, ReferenceEqualityComparer.Instance);
        foreach (var t in tensors.Where(t => !kept.Contains(t)).ToList()) { Remove(t); t.Dispose(); }
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (current != this)
            throw new InvalidOperationException("dispose scopes must be disposed innermost first, on the thread that opened them");
        current = Outer;
        foreach (var t in tensors) { t.Scope = null; t.Dispose(); }
        tensors.Clear();
    }
}

using System.Runtime.InteropServices;

namespace MedSsl.Torch;

/// <summary>A handle to one libtorch tensor. Disposing it (or its dispose scope) releases this
/// reference at once; otherwise the finalizer does. Views and aliases share storage as in PyTorch.</summary>
public sealed partial class Tensor : IDisposable
{
    private sealed class TensorHandle : SafeHandle
    {
        public TensorHandle(IntPtr p) : base(IntPtr.Zero, true) => SetHandle(p);
        public override bool IsInvalid => handle == IntPtr.Zero;
        protected override bool ReleaseHandle() { Native.msl_tensor_free(handle); return true; }
    }

    private readonly TensorHandle handle;

    internal DisposeScope? Scope { get; set; }

    /// <summary>Takes ownership of a handle returned by the shim and registers it in the current dispose scope.</summary>
    internal Tensor(IntPtr p)
    {
        handle = new TensorHandle(Native.Check(p));
        DisposeScope.Current?.Add(this);
    }

    internal IntPtr Handle => handle.IsClosed
        ? throw new ObjectDisposedException(nameof(Tensor), "this tensor was disposed (directly or by its dispose scope)")
        : handle.DangerousGetHandle();

    public bool IsDisposed => handle.IsClosed;

    public void Dispose() => handle.Dispose();

    /// <summary>Moves this tensor from its dispose scope to the enclosing one (or out of all scopes).</summary>
    public Tensor MoveToOuterDisposeScope()
    {
        var outer = Scope?.Outer;
        Scope?.Remove(this);
        outer?.Add(this);
        return this;
    }

    /// <summary>Takes this tensor out of every dispose scope: the caller (or the GC) now owns it.</summary>
    public Tensor DetachFromDisposeScope()
    {
        Scope?.Remove(this);
        return this;
    }

    /// <summary>A new handle to the same tensor (same storage, same autograd node), owned separately.</summary>
    public Tensor alias() => new(Native.msl_tensor_alias(Handle));

    // ---- metadata ------------------------------------------------------------------------

    public unsafe long[] shape
    {
        get
        {
            var h = Handle;
            var n = Native.msl_tensor_ndim(h);
            var sizes = new long[n];
            fixed (long* p = sizes) Native.msl_tensor_sizes(h, p, n);
            GC.KeepAlive(this);
            return sizes;
        }
    }

    public long size(int dim) { var s = shape; return s[dim < 0 ? dim + s.Length : dim]; }
    public int dim() { var d = Native.msl_tensor_ndim(Handle); GC.KeepAlive(this); return d; }
    public long numel() { var n = Native.msl_tensor_numel(Handle); GC.KeepAlive(this); return n; }
    public DType dtype { get { var d = (DType)Native.msl_tensor_dtype(Handle); GC.KeepAlive(this); return d; } }

    public Device device
    {
        get
        {
            var h = Handle;
            var d = new Device((DeviceType)Native.msl_tensor_device_type(h), Native.msl_tensor_device_index(h));
            GC.KeepAlive(this);
            return d;
        }
    }

    public bool is_leaf { get { var v = Native.msl_tensor_is_leaf(Handle) != 0; GC.KeepAlive(this); return v; } }

    public bool requires_grad
    {
        get { var v = Native.msl_tensor_requires_grad(Handle) != 0; GC.KeepAlive(this); return v; }
        set { Native.Check(Native.msl_tensor_set_requires_grad(Handle, value ? 1 : 0)); GC.KeepAlive(this); }
    }

    /// <summary>Sets requires_grad and returns this tensor (PyTorch's requires_grad_()).</summary>
    public Tensor requires_grad_(bool value = true) { requires_grad = value; return this; }

    /// <summary>The accumulated gradient, a new handle each read; null when none has been computed.</summary>
    public unsafe Tensor? grad
    {
        get
        {
            IntPtr g;
            Native.Check(Native.msl_tensor_grad(Handle, &g));
            GC.KeepAlive(this);
            return g == IntPtr.Zero ? null : new Tensor(g);
        }
        set
        {
            Native.Check(Native.msl_tensor_set_grad(Handle, value?.Handle ?? IntPtr.Zero));
            GC.KeepAlive(this);
            GC.KeepAlive(value);
        }
    }

    // ---- data in and out -----------------------------------------------------------------

    /// <summary>Copies the values (moved to CPU, in row-major order) into a new array; T must match the dtype.</summary>
    public unsafe T[] ToArray<T>() where T : unmanaged
    {
        var expected = DTypeExtensions.Of<T>();
        if (dtype != expected)
            throw new ArgumentException($"ToArray<{typeof(T).Name}> needs a {expected} tensor, this one is {dtype}; convert with .to({expected}) first");
        var result = new T[numel()];
        fixed (T* p = result) Native.Check(Native.msl_tensor_copy_to(Handle, p, (long)result.Length * sizeof(T)));
        GC.KeepAlive(this);
        return result;
    }

    /// <summary>The single value of a one-element tensor.</summary>
    public unsafe T item<T>() where T : unmanaged
    {
        int ok = 0;
        var v = Native.msl_tensor_item(Handle, &ok);
        GC.KeepAlive(this);
        if (ok == 0) throw TorchException.FromNative();
        return typeof(T) == typeof(bool) ? (T)(object)(v != 0) : (T)Convert.ChangeType(v, typeof(T));
    }

    public override string ToString()
    {
        if (IsDisposed) return "Tensor(disposed)";
        var text = Native.TakeString(Native.msl_tensor_repr(Handle));
        GC.KeepAlive(this);
        return text;
    }

    // ---- autograd ------------------------------------------------------------------------

    /// <summary>Accumulates d(this)/d(leaf) into every leaf's grad (this must be a scalar unless gradient is given).</summary>
    public void backward(Tensor? gradient = null, bool? retain_graph = null, bool create_graph = false) =>
        torch.autograd.backward([this], gradient is null ? null : [gradient], retain_graph, create_graph);

    public Tensor detach() => Ops.detach.Call(this);
    public Tensor detach_() { Ops.detach_.CallVoid(this); return this; }
}

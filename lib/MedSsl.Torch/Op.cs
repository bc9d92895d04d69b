using System.Runtime.InteropServices;
using System.Text;

namespace MedSsl.Torch;

/// <summary>An argument of an ATen operator. Converts implicitly from what C# callers have:
/// tensors, numbers, bools, int lists, tensor lists, strings, devices and dtypes.
/// <see cref="Default"/> leaves the schema's default in place.</summary>
public readonly struct Arg
{
    internal readonly ArgKind Kind;
    internal readonly long I;
    internal readonly double D;
    internal readonly object? Obj;

    private Arg(ArgKind kind, long i = 0, double d = 0, object? obj = null) { Kind = kind; I = i; D = d; Obj = obj; }

    public static readonly Arg Default = new(ArgKind.Default);
    public static readonly Arg None = new(ArgKind.None);

    public static implicit operator Arg(Tensor? t) => t is null ? None : new(ArgKind.Tensor, obj: t);
    public static implicit operator Arg(long v) => new(ArgKind.Int, i: v);
    public static implicit operator Arg(int v) => new(ArgKind.Int, i: v);
    public static implicit operator Arg(double v) => new(ArgKind.Double, d: v);
    public static implicit operator Arg(bool v) => new(ArgKind.Bool, i: v ? 1 : 0);
    public static implicit operator Arg(long[]? v) => v is null ? None : new(ArgKind.Ints, obj: v);
    public static implicit operator Arg(double[]? v) => v is null ? None : new(ArgKind.Doubles, obj: v);
    public static implicit operator Arg(Tensor[]? v) => v is null ? None : new(ArgKind.Tensors, obj: v);
    public static implicit operator Arg(string? v) => v is null ? None : new(ArgKind.String, obj: v);
    public static implicit operator Arg(Device v) => new(ArgKind.Device, i: (long)v.Type, d: v.Index);
    public static implicit operator Arg(Device? v) => v is { } d ? d : None;
    public static implicit operator Arg(DType v) => new(ArgKind.Int, i: (long)v);
    public static implicit operator Arg(DType? v) => v is { } t ? t : None;
    public static implicit operator Arg(long? v) => v is { } x ? x : None;
    public static implicit operator Arg(double? v) => v is { } x ? x : None;
    public static implicit operator Arg(bool? v) => v is { } x ? x : None;
    public static implicit operator Arg(Generator? g) => g is null ? None : new(ArgKind.Generator, obj: g);

    /// <summary>A <c>Tensor?[]</c> argument (advanced indexing), where null entries mean "this dim untouched".</summary>
    public static Arg OptionalTensors(Tensor?[] v) => new(ArgKind.OptionalTensors, obj: v);
}

/// <summary>A handle to one ATen operator (name + overload), resolved through the c10 dispatcher
/// on first use and called boxed: arguments not given take the schema's defaults.</summary>
public sealed class Op
{
    private readonly string name, overload;
    private IntPtr handle;

    public Op(string name, string overload = "") { this.name = name; this.overload = overload; }

    private IntPtr Handle => handle != IntPtr.Zero ? handle : handle = Native.Check(Native.msl_op_find(name, overload));

    /// <summary>The operator's schema as libtorch declares it (useful when an argument is wrong).</summary>
    public string Schema => Native.TakeString(Native.msl_op_schema(Handle));

    public override string ToString() => overload.Length > 0 ? $"{name}.{overload}" : name;

    /// <summary>Calls an operator that returns one tensor.</summary>
    public Tensor Call(params ReadOnlySpan<Arg> args)
    {
        Span<NativeArg> results = stackalloc NativeArg[1];
        var n = Invoke(args, results);
        if (n != 1 || results[0].Kind != ArgKind.Tensor)
        {
            DisposeResults(results[..n]);
            throw new TorchException($"{this} returned {n} values, expected one tensor");
        }
        return new Tensor(results[0].P);
    }

    /// <summary>Calls an operator that returns several tensors (max with dim, sort, ...) or a tensor list (chunk, split).</summary>
    public Tensor[] CallMany(params ReadOnlySpan<Arg> args)
    {
        Span<NativeArg> results = stackalloc NativeArg[8];
        var n = Invoke(args, results);
        if (n == 1 && results[0].Kind == ArgKind.Tensors) return TakeTensorList(results[0]);
        var tensors = new Tensor[n];
        for (var k = 0; k < n; k++)
        {
            if (results[k].Kind != ArgKind.Tensor)
            {
                DisposeResults(results[k..n]);
                throw new TorchException($"{this} result {k} is not a tensor");
            }
            tensors[k] = new Tensor(results[k].P);
        }
        return tensors;
    }

    /// <summary>Calls an operator for its side effect (in-place ops whose returned alias is not needed).</summary>
    public void CallVoid(params ReadOnlySpan<Arg> args)
    {
        Span<NativeArg> results = stackalloc NativeArg[8];
        DisposeResults(results[..Invoke(args, results)]);
    }

    /// <summary>Calls an operator that returns a number (aten::_local_scalar_dense, ...).</summary>
    public double CallScalar(params ReadOnlySpan<Arg> args)
    {
        Span<NativeArg> results = stackalloc NativeArg[1];
        var n = Invoke(args, results);
        if (n == 1 && results[0].Kind == ArgKind.Double) return results[0].D;
        if (n == 1 && results[0].Kind is ArgKind.Int or ArgKind.Bool) return results[0].I;
        DisposeResults(results[..n]);
        throw new TorchException($"{this} did not return a number");
    }

    private unsafe int Invoke(ReadOnlySpan<Arg> args, Span<NativeArg> results)
    {
        var scratchCount = 0;
        foreach (var a in args)
            scratchCount += a.Obj switch { long[] v => v.Length, double[] v => v.Length, Tensor?[] v => v.Length, _ => 0 };
        // List payloads are copied into one stack buffer of 8-byte slots (longs, doubles, handles).
        var scratch = scratchCount <= 256 ? stackalloc long[scratchCount] : new long[scratchCount];
        var native = stackalloc NativeArg[args.Length];
        List<IntPtr>? strings = null; // allocated only for string arguments
        var offset = 0;
        try
        {
            fixed (long* scratchBase = scratch)
            {
                for (var k = 0; k < args.Length; k++)
                {
                    var a = args[k];
                    ref var n = ref native[k];
                    n = new NativeArg { Kind = a.Kind, I = a.I, D = a.D };
                    switch (a.Kind)
                    {
                        case ArgKind.Device: n.N = (long)a.D; break;
                        case ArgKind.Tensor: n.P = ((Tensor)a.Obj!).Handle; break;
                        case ArgKind.Generator: n.P = ((Generator)a.Obj!).Handle; break;
                        case ArgKind.String:
                            n.P = Marshal.StringToCoTaskMemUTF8((string)a.Obj!);
                            (strings ??= []).Add(n.P);
                            break;
                        case ArgKind.Ints:
                            var ints = (long[])a.Obj!;
                            ints.CopyTo(scratch[offset..]);
                            (n.P, n.N) = ((IntPtr)(scratchBase + offset), ints.Length);
                            offset += ints.Length;
                            break;
                        case ArgKind.Doubles:
                            var doubles = (double[])a.Obj!;
                            MemoryMarshal.Cast<double, long>(doubles).CopyTo(scratch[offset..]);
                            (n.P, n.N) = ((IntPtr)(scratchBase + offset), doubles.Length);
                            offset += doubles.Length;
                            break;
                        case ArgKind.Tensors:
                        case ArgKind.OptionalTensors:
                            var list = (Tensor?[])a.Obj!;
                            for (var j = 0; j < list.Length; j++)
                                scratch[offset + j] = list[j] is { } t ? (long)t.Handle
                                    : a.Kind == ArgKind.OptionalTensors ? 0 : throw new ArgumentNullException(nameof(args), $"{this}: tensor list entry {j} is null");
                            (n.P, n.N) = ((IntPtr)(scratchBase + offset), list.Length);
                            offset += list.Length;
                            break;
                    }
                }
                int count;
                fixed (NativeArg* r = results) count = Native.msl_op_call(Handle, native, args.Length, r, results.Length);
                // The tensors must outlive the native call: keep the managed owners reachable until here.
                foreach (var a in args) GC.KeepAlive(a.Obj);
                if (count < 0) throw TorchException.FromNative();
                return count;
            }
        }
        finally
        {
            if (strings is not null) foreach (var s in strings) Marshal.FreeCoTaskMem(s);
        }
    }

    private static unsafe Tensor[] TakeTensorList(NativeArg list)
    {
        var handles = (IntPtr*)list.P;
        var tensors = new Tensor[list.N];
        for (var k = 0; k < list.N; k++) tensors[k] = new Tensor(handles[k]);
        Native.msl_free(list.P);
        return tensors;
    }

    private static void DisposeResults(Span<NativeArg> results)
    {
        foreach (var r in results)
        {
            if (r.Kind == ArgKind.Tensor) Native.msl_tensor_free(r.P);
            else if (r.Kind == ArgKind.Tensors) foreach (var t in TakeTensorList(r)) t.Dispose();
            else if (r.Kind == ArgKind.Ints) Native.msl_free(r.P);
        }
    }
}

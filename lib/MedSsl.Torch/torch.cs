using System.Runtime.InteropServices;

namespace MedSsl.Torch;

/// <summary>PyTorch's top-level functions: tensor creation, joins, seeds, threads, grad mode,
/// autograd and CUDA facts. Named as in PyTorch so notebooks read like the papers' code.</summary>
public static class torch
{
    public const DType float32 = DType.Float32, float64 = DType.Float64, int64 = DType.Int64, int32 = DType.Int32;
    public const DType uint8 = DType.UInt8, @bool = DType.Bool, float16 = DType.Float16;

    private static readonly Op zeros_op = new("aten::zeros"), ones_op = new("aten::ones"), full_op = new("aten::full");
    private static readonly Op empty_op = new("aten::empty", "memory_format"), eye_op = new("aten::eye");
    private static readonly Op rand_op = new("aten::rand", "generator"), randn_op = new("aten::randn", "generator");
    private static readonly Op randint_op = new("aten::randint", "low_generator"), randperm_op = new("aten::randperm", "generator");
    private static readonly Op arange_op = new("aten::arange", "start_step"), linspace_op = new("aten::linspace");
    private static readonly Op zeros_like_op = new("aten::zeros_like"), ones_like_op = new("aten::ones_like");
    private static readonly Op full_like_op = new("aten::full_like"), rand_like_op = new("aten::rand_like"), randn_like_op = new("aten::randn_like");
    private static readonly Op multinomial_op = new("aten::multinomial"), cdist_op = new("aten::cdist");
    private static readonly Op einsum_op = new("aten::einsum"), meshgrid_op = new("aten::meshgrid", "indexing");

    // ---- creation (dtype defaults to float32, device to cpu, as in PyTorch) -----------------
    public static Tensor zeros(long[] size, DType? dtype = null, Device? device = null) => zeros_op.Call(size, dtype, Arg.Default, device);
    public static Tensor ones(long[] size, DType? dtype = null, Device? device = null) => ones_op.Call(size, dtype, Arg.Default, device);
    public static Tensor full(long[] size, double value, DType? dtype = null, Device? device = null) =>
        full_op.Call(size, value, dtype ?? DType.Float32, Arg.Default, device);
    public static Tensor empty(long[] size, DType? dtype = null, Device? device = null) => empty_op.Call(size, dtype, Arg.Default, device);
    public static Tensor eye(long n, DType? dtype = null, Device? device = null) => eye_op.Call(n, dtype, Arg.Default, device);
    public static Tensor zeros(params long[] size) => zeros(size, null);
    public static Tensor ones(params long[] size) => ones(size, null);
    public static Tensor zeros_like(Tensor t) => zeros_like_op.Call(t);
    public static Tensor ones_like(Tensor t) => ones_like_op.Call(t);
    public static Tensor full_like(Tensor t, double value) => full_like_op.Call(t, value);
    public static Tensor rand_like(Tensor t) => rand_like_op.Call(t);
    public static Tensor randn_like(Tensor t) => randn_like_op.Call(t);

    /// <summary>Uniform [0, 1).</summary>
    public static Tensor rand(long[] size, DType? dtype = null, Device? device = null, Generator? generator = null) =>
        rand_op.Call(size, generator, dtype, Arg.Default, device);
    public static Tensor rand(params long[] size) => rand(size, null);
    /// <summary>Standard normal.</summary>
    public static Tensor randn(long[] size, DType? dtype = null, Device? device = null, Generator? generator = null) =>
        randn_op.Call(size, generator, dtype, Arg.Default, device);
    public static Tensor randn(params long[] size) => randn(size, null);
    /// <summary>Integers in [low, high), int64 by default.</summary>
    public static Tensor randint(long low, long high, long[] size, DType? dtype = null, Device? device = null, Generator? generator = null) =>
        randint_op.Call(low, high, size, generator, dtype ?? DType.Int64, Arg.Default, device);
    public static Tensor randperm(long n, Device? device = null, Generator? generator = null) =>
        randperm_op.Call(n, generator, DType.Int64, Arg.Default, device);
    public static Tensor multinomial(Tensor probs, long num_samples, bool replacement = false, Generator? generator = null) =>
        multinomial_op.Call(probs, num_samples, replacement, generator);

    public static Tensor arange(double end, DType? dtype = null, Device? device = null) => arange(0, end, 1, dtype, device);
    /// <summary>[start, end) by step; int64 when all three are whole numbers and no dtype is given (as PyTorch).</summary>
    public static Tensor arange(double start, double end, double step = 1, DType? dtype = null, Device? device = null)
    {
        var whole = start == Math.Floor(start) && end == Math.Floor(end) && step == Math.Floor(step);
        return arange_op.Call(start, end, step, dtype ?? (whole ? DType.Int64 : DType.Float32), Arg.Default, device);
    }
    public static Tensor linspace(double start, double end, long steps, DType? dtype = null, Device? device = null) =>
        linspace_op.Call(start, end, steps, dtype, Arg.Default, device);

    /// <summary>A tensor holding a copy of the values, shaped as given (default: 1-d).</summary>
    public static unsafe Tensor tensor<T>(ReadOnlySpan<T> data, params long[] shape) where T : unmanaged
    {
        if (shape.Length == 0) shape = [data.Length];
        long count = 1;
        foreach (var s in shape) count *= s;
        if (count != data.Length)
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] holds {count} values, the data has {data.Length}");
        fixed (T* p = data)
        fixed (long* s = shape)
            return new Tensor(Native.msl_tensor_from_data(p, s, shape.Length, (int)DTypeExtensions.Of<T>()));
    }

    public static Tensor tensor<T>(T[] data, params long[] shape) where T : unmanaged => tensor((ReadOnlySpan<T>)data, shape);

    /// <summary>A tensor from a rectangular .NET array (T[,], T[,,], ...), keeping its shape.</summary>
    public static Tensor tensor<T>(Array data) where T : unmanaged
    {
        var shape = Enumerable.Range(0, data.Rank).Select(d => (long)data.GetLength(d)).ToArray();
        var flat = new T[data.Length];
        Buffer.BlockCopy(data, 0, flat, 0, data.Length * Marshal.SizeOf<T>());
        return tensor(flat, shape);
    }

    public static Tensor tensor(float[,] data) => tensor<float>(data);
    public static Tensor tensor(double[,] data) => tensor<double>(data);

    /// <summary>A 0-d tensor.</summary>
    public static Tensor scalar_tensor(double value, DType dtype = DType.Float32) => full([], value, dtype);

    // ---- joins and selection ---------------------------------------------------------------
    public static Tensor cat(Tensor[] tensors, long dim = 0) => Ops.cat.Call(tensors, dim);
    public static Tensor stack(Tensor[] tensors, long dim = 0) => Ops.stack.Call(tensors, dim);
    public static Tensor where(Tensor condition, Tensor x, Tensor y) => Ops.where.Call(condition, x, y);
    public static Tensor where(Tensor condition, Tensor x, double y) => Ops.where_scalar_other.Call(condition, x, y);
    public static Tensor matmul(Tensor a, Tensor b) => Ops.matmul.Call(a, b);
    public static Tensor bmm(Tensor a, Tensor b) => Ops.bmm.Call(a, b);
    public static Tensor einsum(string equation, params Tensor[] operands) => einsum_op.Call(equation, operands);
    /// <summary>Pairwise p-norm distances between the rows of x1 [.., P, M] and x2 [.., R, M].</summary>
    public static Tensor cdist(Tensor x1, Tensor x2, double p = 2) => cdist_op.Call(x1, x2, p);
    public static Tensor[] meshgrid(Tensor[] tensors, string indexing = "ij") => meshgrid_op.CallMany(tensors, indexing);
    public static Tensor maximum(Tensor a, Tensor b) => a.maximum(b);
    public static Tensor minimum(Tensor a, Tensor b) => a.minimum(b);

    // ---- scopes and modes ------------------------------------------------------------------

    /// <summary>Opens a dispose scope: every tensor created on this thread until it is disposed is freed with it.</summary>
    public static DisposeScope NewDisposeScope() => new();

    /// <summary>Disables gradient recording until disposed (<c>using (torch.no_grad()) { ... }</c>).</summary>
    public static GradModeScope no_grad() => new(false);

    /// <summary>Enables gradient recording until disposed (inside a no_grad region).</summary>
    public static GradModeScope enable_grad() => new(true);

    public static bool is_grad_enabled() => Native.msl_grad_enabled() != 0;

    /// <summary>Seeds the global CPU (and every CUDA) generator: same seed, same numbers.</summary>
    public static void manual_seed(ulong seed) => Native.Check(Native.msl_manual_seed(seed));

    public static void set_num_threads(int n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "thread count must be at least 1");
        Native.msl_set_num_threads(n);
    }

    public static int get_num_threads() => Native.msl_get_num_threads();

    /// <summary>The libtorch version the shim was built against, e.g. "1.13.1".</summary>
    public static string version => Marshal.PtrToStringUTF8(Native.msl_torch_version())!;

    /// <summary>libtorch's build configuration (BLAS, oneDNN, OpenMP, CUDA).</summary>
    public static string show_config() => Native.TakeString(Native.msl_show_config());

    /// <summary>Native tensors currently alive (handles not yet freed): a leak check.</summary>
    public static long live_tensors => Native.msl_live_tensors();

    /// <summary>Bytes the native heap (glibc malloc, under libtorch's CPU allocator) holds in use: the leak check
    /// that RSS is not, since RSS also counts freed memory the allocator keeps.</summary>
    public static long native_heap_in_use_bytes => NativeHeap.InUseBytes();

    public static class cuda
    {
        public static bool is_available() => device_count() > 0;
        public static int device_count() => Native.msl_cuda_device_count();
        public static string get_device_name(int index = 0) => Native.TakeString(Native.msl_cuda_device_name(index));
        public static void synchronize() => Native.Check(Native.msl_cuda_synchronize());
    }

    public static class autograd
    {
        /// <summary>Accumulates gradients of the given tensors into the leaves' grad.</summary>
        public static unsafe void backward(Tensor[] tensors, Tensor?[]? grad_tensors = null, bool? retain_graph = null, bool create_graph = false)
        {
            if (grad_tensors is not null && grad_tensors.Length != tensors.Length)
                throw new ArgumentException($"backward: {tensors.Length} tensors but {grad_tensors.Length} grad_tensors");
            var handles = stackalloc IntPtr[tensors.Length];
            var grads = stackalloc IntPtr[tensors.Length];
            for (var k = 0; k < tensors.Length; k++)
            {
                handles[k] = tensors[k].Handle;
                grads[k] = grad_tensors?[k]?.Handle ?? IntPtr.Zero;
            }
            Native.Check(Native.msl_backward(handles, tensors.Length, grad_tensors is null ? null : grads,
                retain_graph is null ? -1 : retain_graph.Value ? 1 : 0, create_graph ? 1 : 0));
            GC.KeepAlive(tensors);
            GC.KeepAlive(grad_tensors);
        }

        /// <summary>torch.autograd.grad: gradients of outputs w.r.t. inputs, without touching .grad.
        /// An entry is null for an input the outputs do not depend on (only with allow_unused).</summary>
        public static unsafe Tensor?[] grad(Tensor[] outputs, Tensor[] inputs, Tensor?[]? grad_outputs = null,
            bool? retain_graph = null, bool create_graph = false, bool allow_unused = false)
        {
            if (grad_outputs is not null && grad_outputs.Length != outputs.Length)
                throw new ArgumentException($"grad: {outputs.Length} outputs but {grad_outputs.Length} grad_outputs");
            var outs = stackalloc IntPtr[outputs.Length];
            var gos = stackalloc IntPtr[outputs.Length];
            var ins = stackalloc IntPtr[inputs.Length];
            var results = stackalloc IntPtr[inputs.Length];
            for (var k = 0; k < outputs.Length; k++) { outs[k] = outputs[k].Handle; gos[k] = grad_outputs?[k]?.Handle ?? IntPtr.Zero; }
            for (var k = 0; k < inputs.Length; k++) ins[k] = inputs[k].Handle;
            Native.Check(Native.msl_autograd_grad(outs, outputs.Length, ins, inputs.Length, grad_outputs is null ? null : gos,
                retain_graph is null ? -1 : retain_graph.Value ? 1 : 0, create_graph ? 1 : 0, allow_unused ? 1 : 0, results));
            GC.KeepAlive(outputs);
            GC.KeepAlive(inputs);
            GC.KeepAlive(grad_outputs);
            var grads = new Tensor?[inputs.Length];
            for (var k = 0; k < inputs.Length; k++) grads[k] = results[k] == IntPtr.Zero ? null : new Tensor(results[k]);
            return grads;
        }
    }
}

/// <summary>Restores the previous grad mode when disposed.</summary>
public readonly struct GradModeScope : IDisposable
{
    private readonly bool previous;

    internal GradModeScope(bool enabled)
    {
        previous = Native.msl_grad_enabled() != 0;
        Native.msl_set_grad_enabled(enabled ? 1 : 0);
    }

    public void Dispose() => Native.msl_set_grad_enabled(previous ? 1 : 0);
}

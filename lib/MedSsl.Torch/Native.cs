using System.Reflection;
using System.Runtime.InteropServices;

namespace MedSsl.Torch;

/// <summary>The C ABI of lib/MedSsl.Native. Every call that can fail returns -1 or null and
/// leaves libtorch's message in msl_last_error; <see cref="Check(int)"/> turns it into a
/// <see cref="TorchException"/>.</summary>
internal static unsafe partial class Native
{
    private const string Lib = "medssl_native";

    static Native()
    {
        // Load the shim from beside this assembly (artifacts/lib, bin/, a publish folder), so
        // notebooks and tools need no LD_LIBRARY_PATH; the shim's RUNPATH finds libtorch.
        NativeLibrary.SetDllImportResolver(typeof(Native).Assembly, (name, assembly, path) =>
        {
            if (name != Lib) return IntPtr.Zero;
            var dir = Path.GetDirectoryName(assembly.Location) ?? AppContext.BaseDirectory;
            var file = Path.Combine(dir, "libmedssl_native.so");
            return File.Exists(file) ? NativeLibrary.Load(file) : IntPtr.Zero;
        });
        msl_set_num_threads(DefaultThreadCount());
    }

    /// <summary>All cores unless MEDSSL_THREADS says otherwise (libtorch starts with 1 on some VMs).</summary>
    internal static int DefaultThreadCount() =>
        int.TryParse(Environment.GetEnvironmentVariable("MEDSSL_THREADS"), out var n) && n > 0 ? n : Environment.ProcessorCount;

    internal static void Check(int rc)
    {
        if (rc < 0) throw TorchException.FromNative();
    }

    internal static IntPtr Check(IntPtr p)
    {
        if (p == IntPtr.Zero) throw TorchException.FromNative();
        return p;
    }

    /// <summary>Reads and frees a malloc'd UTF-8 string from the shim.</summary>
    internal static string TakeString(IntPtr p)
    {
        Check(p);
        try { return Marshal.PtrToStringUTF8(p)!; }
        finally { msl_free(p); }
    }

    [LibraryImport(Lib)] internal static partial IntPtr msl_last_error();
    [LibraryImport(Lib)] internal static partial void msl_free(IntPtr p);
    [LibraryImport(Lib)] internal static partial long msl_live_tensors();

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr msl_op_find(string name, string overload);
    [LibraryImport(Lib)] internal static partial IntPtr msl_op_schema(IntPtr op);
    [LibraryImport(Lib)] internal static partial int msl_op_call(IntPtr op, NativeArg* args, int nargs, NativeArg* results, int maxResults);

    [LibraryImport(Lib)] internal static partial void msl_tensor_free(IntPtr t);
    [LibraryImport(Lib)] internal static partial IntPtr msl_tensor_alias(IntPtr t);
    [LibraryImport(Lib)] internal static partial IntPtr msl_tensor_from_data(void* data, long* sizes, int ndim, int dtype);
    [LibraryImport(Lib)] internal static partial int msl_tensor_copy_to(IntPtr t, void* dst, long nbytes);
    [LibraryImport(Lib)] internal static partial int msl_tensor_ndim(IntPtr t);
    [LibraryImport(Lib)] internal static partial int msl_tensor_sizes(IntPtr t, long* sizes, int max);
    [LibraryImport(Lib)] internal static partial int msl_tensor_dtype(IntPtr t);
    [LibraryImport(Lib)] internal static partial int msl_tensor_device_type(IntPtr t);
    [LibraryImport(Lib)] internal static partial int msl_tensor_device_index(IntPtr t);
    [LibraryImport(Lib)] internal static partial long msl_tensor_numel(IntPtr t);
    [LibraryImport(Lib)] internal static partial int msl_tensor_is_leaf(IntPtr t);
    [LibraryImport(Lib)] internal static partial int msl_tensor_requires_grad(IntPtr t);
    [LibraryImport(Lib)] internal static partial int msl_tensor_set_requires_grad(IntPtr t, int value);
    [LibraryImport(Lib)] internal static partial int msl_tensor_grad(IntPtr t, IntPtr* grad);
    [LibraryImport(Lib)] internal static partial int msl_tensor_set_grad(IntPtr t, IntPtr grad);
    [LibraryImport(Lib)] internal static partial double msl_tensor_item(IntPtr t, int* ok);
    [LibraryImport(Lib)] internal static partial IntPtr msl_tensor_repr(IntPtr t);

    [LibraryImport(Lib)] internal static partial int msl_backward(IntPtr* tensors, int n, IntPtr* grads, int retainGraph, int createGraph);
    [LibraryImport(Lib)] internal static partial int msl_autograd_grad(IntPtr* outputs, int nOut, IntPtr* inputs, int nIn, IntPtr* gradOutputs,
        int retainGraph, int createGraph, int allowUnused, IntPtr* results);
    [LibraryImport(Lib)] internal static partial int msl_grad_enabled();
    [LibraryImport(Lib)] internal static partial void msl_set_grad_enabled(int enabled);

    [LibraryImport(Lib)] internal static partial int msl_manual_seed(ulong seed);
    [LibraryImport(Lib)] internal static partial IntPtr msl_generator_new(ulong seed, int deviceType);
    [LibraryImport(Lib)] internal static partial void msl_generator_free(IntPtr g);
    [LibraryImport(Lib)] internal static partial int msl_generator_set_seed(IntPtr g, ulong seed);

    [LibraryImport(Lib)] internal static partial void msl_set_num_threads(int n);
    [LibraryImport(Lib)] internal static partial int msl_get_num_threads();
    [LibraryImport(Lib)] internal static partial IntPtr msl_torch_version();
    [LibraryImport(Lib)] internal static partial IntPtr msl_show_config();
    [LibraryImport(Lib)] internal static partial int msl_cuda_device_count();
    [LibraryImport(Lib)] internal static partial IntPtr msl_cuda_device_name(int index);
    [LibraryImport(Lib)] internal static partial int msl_cuda_synchronize();
}

/// <summary>One argument or result of a boxed operator call; mirrors msl_arg in the shim.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeArg
{
    public ArgKind Kind;
    public int Reserved;
    public long I;
    public double D;
    public IntPtr P;
    public long N;
}

internal enum ArgKind : int
{
    Default = 0, None = 1, Tensor = 2, Int = 3, Double = 4, Bool = 5, Ints = 6, Tensors = 7,
    OptionalTensors = 8, String = 9, Device = 10, Generator = 11, Doubles = 12,
}

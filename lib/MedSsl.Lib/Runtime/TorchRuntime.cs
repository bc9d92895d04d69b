using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace MedSsl.Runtime;

/// <summary>TorchSharp cannot load its native glue: which library, what it lacks, and what to run.</summary>
public sealed class TorchSharpLoadException(string message) : Exception(message);

/// <summary>What this process runs on: TorchSharp, libtorch, the libstdc++ repair, threads, BLAS and CUDA
/// (<c>medssl doctor</c>), and the check that makes a broken install fail with one clear message.</summary>
public static class TorchRuntime
{
    /// <summary>libtorch's intra-op threads set to <paramref name="threads"/> until the scope is disposed, then restored
    /// (0 leaves them as they are). Small networks spend less CPU time on one thread than on several that wait.</summary>
    public static IDisposable IntraOpThreads(int threads) => new ThreadScope(threads);

    private sealed class ThreadScope : IDisposable
    {
        private readonly int previous = torch.get_num_threads();

        public ThreadScope(int threads)
        {
            if (threads > 0) torch.set_num_threads(threads);
        }

        public void Dispose() => torch.set_num_threads(previous);
    }

    /// <summary>TorchSharp's native glue, in the folder of the libtorch it was built for (its RUNPATH is $ORIGIN).</summary>
    public static string LibTorchSharpPath =>
        Path.Combine(Path.GetDirectoryName(typeof(torch).Assembly.Location)!, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    public static string TorchSharpVersion =>
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(torch).Assembly.GetName().Version!.ToString();

    /// <summary>The NuGet package that brought libtorch, as "name/version" (lib/Directory.Packages.props pins it).</summary>
    public static string LibTorchPackage =>
        typeof(TorchRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "LibTorchPackage")?.Value ?? "unknown/unknown";

    /// <summary>libtorch's version (TorchSharp 0.107 runs on libtorch 2.10.0).</summary>
    public static string LibTorchVersion => LibTorchPackage.Split('/')[1];

    /// <summary>"applied" (this copy was repaired at build time), "not needed" (the system's libstdc++ has every
    /// version it needs), or "missing" (it needs versions the system lacks: it will not load).</summary>
    public static string LibStdCxxRepair
    {
        get
        {
            if (!OperatingSystem.IsLinux()) return "not needed";
            var library = new ElfLibrary(LibTorchSharpPath);
            if (Runtime.LibStdCxxRepair.MissingVersions(library, new ElfLibrary(Runtime.LibStdCxxRepair.LoadedLibStdCxx())).Count > 0) return "missing";
            return Runtime.LibStdCxxRepair.IsRepaired(library) ? "applied" : "not needed";
        }
    }

    /// <summary>The BLAS behind libtorch's matmul. The CPU libtorch from NuGet links Intel MKL statically into
    /// libtorch_cpu.so, so it is asked for its version there; null when that library has no MKL.</summary>
    public static string? Blas()
    {
        var torchCpu = Path.Combine(Path.GetDirectoryName(LibTorchSharpPath)!, "libtorch_cpu.so");
        if (!NativeLibrary.TryLoad(torchCpu, out var handle) || !NativeLibrary.TryGetExport(handle, "MKL_Get_Version_String", out var export))
            return null;
        var buffer = new byte[256];
        unsafe
        {
            fixed (byte* b = buffer) ((delegate* unmanaged<byte*, int, void>)export)(b, buffer.Length);
        }
        return System.Text.Encoding.ASCII.GetString(buffer).TrimEnd('\0', ' ');
    }

    /// <summary>Throws <see cref="TorchSharpLoadException"/> when TorchSharp's native glue needs libstdc++ versions this
    /// system lacks — the case TorchSharp itself misreports as a missing package reference.</summary>
    public static void EnsureLoadable()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(LibTorchSharpPath)) return;   // TorchSharp reports a missing file itself
        var libStdCxx = Runtime.LibStdCxxRepair.LoadedLibStdCxx();
        var missing = Runtime.LibStdCxxRepair.MissingVersions(new ElfLibrary(LibTorchSharpPath), new ElfLibrary(libStdCxx));
        if (missing.Count == 0) return;
        throw new TorchSharpLoadException(
            $"TorchSharp cannot load: {LibTorchSharpPath} needs {string.Join(", ", missing.Select(m => m.Version).Distinct())} from libstdc++, "
            + $"which {libStdCxx} lacks. This copy was not repaired at build time: rebuild with `dotnet build MedSsl.Lib.sln -c Release` "
            + "(or run lib/scripts/setup.sh); environment.md explains the repair.");
    }

    // A library-level module initializer is the point: the check must run at `#r` in a notebook, before any cell.
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "runs the load check at #r in notebooks")]
    internal static void CheckOnLoad()
    {
        EnsureLoadable();
        NativeAllocator.Configure();
    }
}

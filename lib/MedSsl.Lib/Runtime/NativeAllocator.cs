using System.Globalization;
using System.Runtime.InteropServices;

namespace MedSsl.Runtime;

/// <summary>glibc's malloc policy for libtorch's tensors. By default glibc raises its mmap threshold to the size of each
/// large block it frees, so later tensors of that size come from the main heap; there, repeated [N, N] temporaries
/// (t-SNE's gradient, 5 MB at N = 800) left 2.2 GB free but unreturned after 400 iterations, and RSS grew with every
/// run although the bytes in use stayed flat (docs/benchmarks.md). Pinning the threshold at 1 MiB keeps every block of
/// 1 MiB or more in its own mapping, returned to the system when the tensor is disposed.
/// <c>MEDSSL_MMAP_THRESHOLD=BYTES</c> sets another threshold; <c>0</c> leaves glibc's default.</summary>
public static partial class NativeAllocator
{
    public const int DefaultMmapThreshold = 1 << 20;
    private const int MallocMmapThreshold = -3;   // M_MMAP_THRESHOLD in <malloc.h>

    /// <summary>The threshold in force (bytes), or null when glibc's dynamic default is left alone.</summary>
    public static int? MmapThreshold { get; private set; }

    internal static void Configure()
    {
        if (!OperatingSystem.IsLinux()) return;
        var setting = Environment.GetEnvironmentVariable("MEDSSL_MMAP_THRESHOLD");
        var threshold = string.IsNullOrWhiteSpace(setting) ? DefaultMmapThreshold
            : int.TryParse(setting, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) ? bytes
            : throw new ArgumentException($"MEDSSL_MMAP_THRESHOLD must be a number of bytes (0 keeps glibc's default), not '{setting}'");
        if (threshold > 0 && mallopt(MallocMmapThreshold, threshold) == 1) MmapThreshold = threshold;
    }

    [LibraryImport("libc.so.6")]
    private static partial int mallopt(int parameter, int value);
}

using System.Globalization;
using System.Runtime.InteropServices;

namespace MedSsl.Runtime;

/// <summary>glibc's malloc and libtorch's tensors. glibc's own policy is kept by default, as in PyTorch: it raises its
/// mmap threshold to the size of each large block it frees, so a training step's activations come back from the heap
/// instead of fresh, zero-filled mappings. Pinning the threshold at 1 MiB made the standard step 1.45× slower (every
/// activation a new mapping, twice the kernel time), while RSS under glibc's own policy stayed flat over 2000 steps
/// (docs/benchmarks.md). Exact t-SNE's [N, N] temporaries are the one case where freed heap piles up (about 2 GB at
/// N = 2000); it hands free memory back every few iterations with <see cref="ReturnFreeMemory"/>.
/// <c>MEDSSL_MMAP_THRESHOLD=BYTES</c> pins a threshold for a memory-tight machine.</summary>
public static partial class NativeAllocator
{
    private const int MallocMmapThreshold = -3;   // M_MMAP_THRESHOLD in <malloc.h>

    /// <summary>The threshold pinned by <c>MEDSSL_MMAP_THRESHOLD</c> (bytes), or null: glibc's dynamic default.</summary>
    public static int? MmapThreshold { get; private set; }

    internal static void Configure()
    {
        if (!OperatingSystem.IsLinux()) return;
        var setting = Environment.GetEnvironmentVariable("MEDSSL_MMAP_THRESHOLD");
        if (string.IsNullOrWhiteSpace(setting)) return;
        var threshold = int.TryParse(setting, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) ? bytes
            : throw new ArgumentException($"MEDSSL_MMAP_THRESHOLD must be a number of bytes (0 keeps glibc's default), not '{setting}'");
        if (threshold > 0 && mallopt(MallocMmapThreshold, threshold) == 1) MmapThreshold = threshold;
    }

    /// <summary>Hands the free memory of every malloc arena back to the system (glibc's <c>malloc_trim(0)</c>); true
    /// when some was. Costs a walk of the free lists, and the pages fault in again when next used: call it between
    /// rounds of large temporaries, not per tensor.</summary>
    public static bool ReturnFreeMemory() => OperatingSystem.IsLinux() && malloc_trim(0) == 1;

    /// <summary>Training steps between two <see cref="ReturnFreeMemory"/> calls of <see cref="TrainingStepDone"/>
    /// (0: never). A step frees everything it allocated, but under load glibc's per-thread arenas (libtorch's OpenMP
    /// workers allocate in their own) keep freed blocks they cannot hand back from the middle of a heap, and RSS crept
    /// up over thousands of steps with the bytes in use flat (docs/benchmarks.md, "Memory over 2000 steps"). One trim
    /// every 250 steps costs a few milliseconds of page faults, well under 0.1 % of the steps it follows.</summary>
    public static int TrimEveryTrainingSteps { get; set; } = 250;

    private static int trainingSteps;

    /// <summary>Counts a training step (every trainer of the process together) and hands free heap memory back every
    /// <see cref="TrimEveryTrainingSteps"/> steps; <see cref="Training.Trainer"/> calls it after each step.</summary>
    public static void TrainingStepDone()
    {
        var every = TrimEveryTrainingSteps;
        if (every > 0 && Interlocked.Increment(ref trainingSteps) % every == 0) ReturnFreeMemory();
    }

    [LibraryImport("libc.so.6")]
    private static partial int mallopt(int parameter, int value);

    [LibraryImport("libc.so.6")]
    private static partial int malloc_trim(nuint pad);
}

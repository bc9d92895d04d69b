using System.Runtime.InteropServices;

namespace MedSsl.Torch;

/// <summary>glibc's malloc, which libtorch's CPU allocator sits on: how much it holds in use. RSS is no leak check
/// for a training loop: glibc keeps freed blocks, so RSS swings with the heap's layout while the bytes in use stay flat (docs/benchmarks.md).</summary>
internal static partial class NativeHeap
{
    /// <summary>Bytes malloc has handed out and not had back (arenas + mmapped blocks), all threads: what a leak grows.</summary>
    internal static long InUseBytes()
    {
        var info = mallinfo2();
        return (long)(info.uordblks + info.hblkhd);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [LibraryImport("libc")] private static partial MallInfo2 mallinfo2();
}

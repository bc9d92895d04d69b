using System.Runtime.InteropServices;

namespace MedSsl.Runtime;

/// <summary>Memory of this process, for leak checks: RSS follows the allocator's arenas, the native heap in use
/// (glibc's mallinfo2) is what libtorch's tensors really hold.</summary>
public static partial class ProcessMemory
{
    /// <summary>Resident set size (VmRSS), in MiB.</summary>
    public static double ResidentMb() => StatusMb("VmRSS:");

    /// <summary>The largest resident set size so far (VmHWM), in MiB.</summary>
    public static double PeakResidentMb() => StatusMb("VmHWM:");

    private static double StatusMb(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }

    /// <summary>Bytes of the C heap in use (mallinfo2: uordblks + hblkhd, i.e. arena chunks and mmapped blocks), in MiB.</summary>
    public static double NativeHeapInUseMb()
    {
        var info = mallinfo2();
        return (info.uordblks + info.hblkhd) / 1048576.0;
    }

    /// <summary>Free bytes the C heap keeps in its arenas (mallinfo2: fordblks, summed over every arena), in MiB: memory
    /// that counts in RSS once touched but holds no tensor. Growing RSS with flat <see cref="NativeHeapInUseMb"/> and
    /// growing free bytes is retained heap, not a leak.</summary>
    public static double NativeHeapFreeMb() => mallinfo2().fordblks / 1048576.0;

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [LibraryImport("libc.so.6")]
    private static partial MallInfo2 mallinfo2();
}

namespace MedSsl.Data;

/// <summary>The memory one load may allocate: every reader charges the bytes it is about to allocate (raw and
/// decoded) before allocating them, so a manifest of files that are each within their format's bound, or one
/// small compressed file that inflates to gigabytes, ends in a <see cref="DataFormatException"/> naming the file
/// instead of running the process out of memory. A loader (a manifest, an IDX pair) shares one budget across
/// its files; a reader called on its own gets a fresh one.</summary>
public sealed class LoadBudget
{
    private long used;

    /// <summary>Half the memory available to this process, at most 8 GiB.</summary>
    public static long DefaultBytes => Math.Min(8L << 30, Math.Max(256L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2));

    public LoadBudget(long? limitBytes = null)
    {
        Limit = limitBytes ?? DefaultBytes;
        if (Limit <= 0) throw new ArgumentOutOfRangeException(nameof(limitBytes), "a load budget must be positive");
    }

    /// <summary>Bytes this load may allocate in all.</summary>
    public long Limit { get; }

    /// <summary>Bytes charged so far.</summary>
    public long Used => Interlocked.Read(ref used);

    /// <summary>Charges <paramref name="bytes"/> for <paramref name="what"/> of <paramref name="path"/>, or throws
    /// (charging nothing) when they do not fit. Thread-safe.</summary>
    public void Charge(string path, long bytes, string what)
    {
        if (bytes < 0) throw new DataFormatException(path, $"{what} would need a negative size ({bytes} bytes): corrupt sizes");
        while (true)
        {
            var before = Interlocked.Read(ref used);
            var after = before > Limit - bytes ? long.MaxValue : before + bytes;
            if (after > Limit)
                throw new DataFormatException(path, $"{what} needs {Mib(bytes)} MiB, beyond this load's memory budget of {Mib(Limit)} MiB " +
                    $"({Mib(before)} MiB already used): use fewer or smaller files");
            if (Interlocked.CompareExchange(ref used, after, before) == before) return;
        }
    }

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
}

using System.Globalization;

namespace MedSsl.Cli.Notebooks;

/// <summary>Checks of command-line values shared by <c>run</c> and <c>sweep</c>: each throws a
/// <see cref="FormatException"/> naming the option and the value, so the command exits 2 before running anything.</summary>
internal static class CommandInputs
{
    /// <summary>About 11.5 days: longer would overflow the timers a cell timeout arms.</summary>
    public const double MaxCellTimeoutSeconds = 1e6;

    public static TimeSpan CellTimeout(double seconds)
    {
        if (!double.IsFinite(seconds) || seconds <= 0 || seconds > MaxCellTimeoutSeconds)
            throw new FormatException($"--cell-timeout {seconds.ToString(CultureInfo.InvariantCulture)}: must be a number of seconds above 0 and at most {MaxCellTimeoutSeconds.ToString(CultureInfo.InvariantCulture)}");
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Creates <paramref name="folder"/> if needed and proves it writable by creating and removing a file in it.</summary>
    public static void WritableFolder(string folder)
    {
        if (File.Exists(folder)) throw new FormatException($"--out {folder}: is a file, not a folder");
        var probe = Path.Combine(folder, $".medssl-write-test-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new FormatException($"--out {folder}: cannot write there ({e.Message})");
        }
    }
}

using System.Diagnostics;

namespace MedSsl.Tests.Runner;

/// <summary>Live processes found by their command line (Linux /proc), to prove a stopped run left none behind.</summary>
internal static class Processes
{
    /// <summary>Ids of live processes whose command line contains <paramref name="marker"/> (e.g. a unique --out folder).</summary>
    public static List<int> WithArgument(string marker)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                var state = File.ReadAllText(Path.Combine(dir, "stat")).Split(')').Last().Trim();
                if (cmdline.Contains(marker, StringComparison.Ordinal) && !state.StartsWith('Z')) found.Add(pid);
            }
            catch (IOException) { } // ended while we looked
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    /// <summary>Waits up to <paramref name="limit"/> for <paramref name="condition"/>; true when it held.</summary>
    public static bool WaitFor(Func<bool> condition, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > limit) return false;
            Thread.Sleep(100);
        }
        return true;
    }

    public static void Signal(int pid, string signal) => Medssl.Exec("kill", $"-{signal}", pid.ToString());
}

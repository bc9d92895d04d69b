using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MedSsl.Training;

/// <summary>Where a training step's time goes, phase by phase (<c>medssl bench method</c>). Off unless
/// <see cref="Current"/> is set on the training thread; then <see cref="Trainer"/> times batch assembly, the method's
/// step, evaluation and its own bookkeeping, <see cref="OptimizerSteps.Minimize"/> times zero_grad, forward (with the
/// loss), backward, freeing the graph and the optimizer step, and <see cref="EmaTeacher{TModule}"/> its update. Off, a
/// hook costs one thread-static read. libtorch runs synchronously on the CPU, so time around a call is the call's time.
/// Each phase gets wall time and the process's CPU time (all threads: libtorch's workers too), which a loaded machine
/// inflates far less than wall time.
/// Phases may nest (augmentation inside batch assembly); <see cref="EndStep"/> closes a step.</summary>
public sealed partial class StepPhases
{
    [ThreadStatic] private static StepPhases? current;

    /// <summary>The recorder of the current thread, or null (the default: no timing).</summary>
    public static StepPhases? Current { get => current; set => current = value; }

    private readonly List<string> order = [];
    private readonly Dictionary<string, (List<double> Wall, List<double> Cpu)> perStep = [];
    private readonly Dictionary<string, (double Wall, double Cpu)> open = [];

    /// <summary>Steps closed so far.</summary>
    public int Steps { get; private set; }

    /// <summary>Phase names in the order first seen.</summary>
    public IReadOnlyList<string> Phases => order;

    /// <summary>Wall milliseconds of <paramref name="phase"/> in each closed step (0 where a step did not run it).</summary>
    public IReadOnlyList<double> Times(string phase) => perStep.TryGetValue(phase, out var t) ? t.Wall : [];

    /// <summary>Process CPU milliseconds (all threads) of <paramref name="phase"/> in each closed step.</summary>
    public IReadOnlyList<double> CpuTimes(string phase) => perStep.TryGetValue(phase, out var t) ? t.Cpu : [];

    /// <summary>When a phase started: wall timestamp and process CPU nanoseconds; default when timing is off (no clock read).</summary>
    public readonly record struct Mark(long Wall, long CpuNs);

    public static Mark Start() => current is null ? default : new(Stopwatch.GetTimestamp(), ProcessCpuNs());

    /// <summary>Adds the time since <paramref name="start"/> to <paramref name="phase"/> of the open step.</summary>
    public static void Stop(string phase, Mark start)
    {
        if (current is { } c && start.Wall != 0)
            c.Add(phase, Stopwatch.GetElapsedTime(start.Wall).TotalMilliseconds, (ProcessCpuNs() - start.CpuNs) / 1e6);
    }

    public void Add(string phase, double wallMs, double cpuMs)
    {
        if (!perStep.ContainsKey(phase))
        {
            order.Add(phase);
            perStep[phase] = ([.. Enumerable.Repeat(0.0, Steps)], [.. Enumerable.Repeat(0.0, Steps)]);
        }
        var (wall, cpu) = open.GetValueOrDefault(phase);
        open[phase] = (wall + wallMs, cpu + cpuMs);
    }

    /// <summary>Closes the open step: every phase gets its time in it (0 if it did not run).</summary>
    public void EndStep()
    {
        foreach (var phase in order)
        {
            var (wall, cpu) = open.GetValueOrDefault(phase);
            perStep[phase].Wall.Add(wall);
            perStep[phase].Cpu.Add(cpu);
        }
        open.Clear();
        Steps++;
    }

    /// <summary>Forgets every step recorded so far (after warm-up).</summary>
    public void Clear()
    {
        order.Clear();
        perStep.Clear();
        open.Clear();
        Steps = 0;
    }

    private static long ProcessCpuNs()
    {
        if (!OperatingSystem.IsLinux()) return (long)(Process.GetCurrentProcess().TotalProcessorTime.Ticks * 100);
        clock_gettime(2, out var t);   // CLOCK_PROCESS_CPUTIME_ID
        return t.Seconds * 1_000_000_000 + t.Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds, Nanoseconds;
    }

    [LibraryImport("libc.so.6", EntryPoint = "clock_gettime")]
    private static partial int clock_gettime(int clock, out TimeSpec time);
}

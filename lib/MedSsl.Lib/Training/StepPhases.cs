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
/// Phases may nest (augmentation inside batch assembly); <see cref="EndStep"/> closes a step. Each closed step also gets
/// its <see cref="StepCounters"/> from clock to clock (the end of the previous step, or <see cref="BeginRun"/>, to its own
/// end): what the phases leave unattributed, and the managed allocations, collections and JIT compilation behind it.</summary>
public sealed partial class StepPhases
{
    [ThreadStatic] private static StepPhases? current;

    /// <summary>The recorder of the current thread, or null (the default: no timing).</summary>
    public static StepPhases? Current { get => current; set => current = value; }

    private readonly List<string> order = [];
    private readonly Dictionary<string, (List<double> Wall, List<double> Cpu, List<long> Allocated)> perStep = [];
    private readonly Dictionary<string, (double Wall, double Cpu, long Allocated)> open = [];
    private readonly List<StepCounters> whole = [];
    private Snapshot stepStart = Snapshot.Now();

    /// <summary>Steps closed so far.</summary>
    public int Steps { get; private set; }

    /// <summary>Phase names in the order first seen.</summary>
    public IReadOnlyList<string> Phases => order;

    /// <summary>Wall milliseconds of <paramref name="phase"/> in each closed step (0 where a step did not run it).</summary>
    public IReadOnlyList<double> Times(string phase) => perStep.TryGetValue(phase, out var t) ? t.Wall : [];

    /// <summary>Process CPU milliseconds (all threads) of <paramref name="phase"/> in each closed step.</summary>
    public IReadOnlyList<double> CpuTimes(string phase) => perStep.TryGetValue(phase, out var t) ? t.Cpu : [];

    /// <summary>Managed bytes the training thread allocated in <paramref name="phase"/> in each closed step.</summary>
    public IReadOnlyList<long> AllocatedBytes(string phase) => perStep.TryGetValue(phase, out var t) ? t.Allocated : [];

    /// <summary>Each closed step from clock to clock: the whole step as the process lived it, phases or not.</summary>
    public IReadOnlyList<StepCounters> Whole => whole;

    /// <summary>When a phase started: wall timestamp, process CPU nanoseconds and the thread's allocated bytes; default
    /// when timing is off (no clock read).</summary>
    public readonly record struct Mark(long Wall, long CpuNs, long Allocated);

    public static Mark Start() => current is null ? default : new(Stopwatch.GetTimestamp(), ProcessCpuNs(), GC.GetAllocatedBytesForCurrentThread());

    /// <summary>Adds the time since <paramref name="start"/> to <paramref name="phase"/> of the open step.</summary>
    public static void Stop(string phase, Mark start)
    {
        if (current is { } c && start.Wall != 0)
            c.Add(phase, Stopwatch.GetElapsedTime(start.Wall).TotalMilliseconds, (ProcessCpuNs() - start.CpuNs) / 1e6,
                GC.GetAllocatedBytesForCurrentThread() - start.Allocated);
    }

    public void Add(string phase, double wallMs, double cpuMs, long allocatedBytes = 0)
    {
        if (!perStep.ContainsKey(phase))
        {
            order.Add(phase);
            perStep[phase] = ([.. Enumerable.Repeat(0.0, Steps)], [.. Enumerable.Repeat(0.0, Steps)], [.. Enumerable.Repeat(0L, Steps)]);
        }
        var (wall, cpu, allocated) = open.GetValueOrDefault(phase);
        open[phase] = (wall + wallMs, cpu + cpuMs, allocated + allocatedBytes);
    }

    /// <summary>Starts the clock of the next step anew: <see cref="Trainer"/> calls it when a phase of training begins,
    /// so a step's counters hold the step alone, not the work done between two trainer runs.</summary>
    public void BeginRun() => stepStart = Snapshot.Now();

    /// <summary>Closes the open step: every phase gets its time in it (0 if it did not run), and the step its counters
    /// since the previous step ended (or the run began).</summary>
    public void EndStep()
    {
        var now = Snapshot.Now();
        whole.Add(now.Since(stepStart));
        stepStart = now;
        foreach (var phase in order)
        {
            var (wall, cpu, allocated) = open.GetValueOrDefault(phase);
            var (walls, cpus, allocations) = perStep[phase];
            walls.Add(wall);
            cpus.Add(cpu);
            allocations.Add(allocated);
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
        whole.Clear();
        Steps = 0;
        stepStart = Snapshot.Now();
    }

    /// <summary>The process's counters at one instant; all are cheap reads (no collection, no thread suspension).</summary>
    private readonly record struct Snapshot(long Wall, long CpuNs, long Allocated, int Gen0, int Gen1, int Gen2, TimeSpan GcPause, TimeSpan Jit, long JitMethods)
    {
        public static Snapshot Now() => new(Stopwatch.GetTimestamp(), ProcessCpuNs(), GC.GetAllocatedBytesForCurrentThread(),
            GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(),
            System.Runtime.JitInfo.GetCompilationTime(), System.Runtime.JitInfo.GetCompiledMethodCount());

        public StepCounters Since(Snapshot start) => new(
            Stopwatch.GetElapsedTime(start.Wall, Wall).TotalMilliseconds, (CpuNs - start.CpuNs) / 1e6, Allocated - start.Allocated,
            Gen0 - start.Gen0, Gen1 - start.Gen1, Gen2 - start.Gen2, (GcPause - start.GcPause).TotalMilliseconds,
            (Jit - start.Jit).TotalMilliseconds, JitMethods - start.JitMethods);
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

/// <summary>One training step from clock to clock. <paramref name="WallMs"/> and <paramref name="CpuMs"/> (process CPU, all
/// threads) are what the phases should add up to; <paramref name="AllocatedBytes"/> the managed bytes the training thread
/// allocated; <paramref name="Gen0Collections"/>, <paramref name="Gen1Collections"/>, <paramref name="Gen2Collections"/>
/// the garbage collections that began (a gen-1 collection also counts as gen 0, a gen-2 one as both);
/// <paramref name="GcPauseMs"/> the wall time the runtime was paused for them; <paramref name="JitMs"/> and
/// <paramref name="JitMethods"/> the time and methods the JIT compiled, on any thread (tiered compilation recompiles hot
/// methods in the background during the first hundreds of steps). Counts and bytes do not depend on the machine's load;
/// times do.</summary>
public readonly record struct StepCounters(double WallMs, double CpuMs, long AllocatedBytes, int Gen0Collections, int Gen1Collections,
    int Gen2Collections, double GcPauseMs, double JitMs, long JitMethods);

namespace MedSsl.Training;

/// <summary>One row of a <see cref="StepPhaseTable"/>: a phase's wall-time median and quartiles, its process-CPU
/// median and mean, and the median of the managed bytes the training thread allocated in it, over the steps.
/// <paramref name="Depth"/> is its nesting under the row above it (0: a part of the step; 1: inside the method's step
/// or the batch; 2: inside the method's own code).</summary>
public sealed record StepPhaseRow(string Phase, int Depth, double WallMedian, double WallQ1, double WallQ3, double CpuMedian, double CpuMean,
    double AllocatedBytesMedian);

/// <summary>Where the steps <paramref name="First"/> … <paramref name="First"/> + <paramref name="Steps"/> − 1 of a
/// <see cref="StepPhases"/> recording went: the phase rows, and per step (means over the steps unless named a median)
/// the whole step's wall and CPU time from clock to clock, the managed bytes the training thread allocated, the
/// garbage collections by generation and their pause, and the JIT's compilation time and methods.</summary>
public sealed record StepPhaseTable(int First, int Steps, IReadOnlyList<StepPhaseRow> Rows, double WallMsPerStep, double CpuMsPerStep,
    double AllocatedBytesMedian, double AllocatedBytesPerStep, double Gen0PerStep, double Gen1PerStep, double Gen2PerStep,
    double GcPauseMsPerStep, double JitMsPerStep, long JitMethods)
{
    /// <summary>The row of the whole step, clock to clock.</summary>
    public const string Whole = "step, clock to clock";
    /// <summary>The row of the trainer's phases added up per step (batch, method step, freeing the batch, evaluation, bookkeeping).</summary>
    public const string SumOfPhases = "step (sum of phases)";
    /// <summary>The row of the whole step minus the sum of its phases: time no hook saw (between the trainer's phases,
    /// or on other threads while none was open).</summary>
    public const string Unattributed = "other (unattributed)";

    private static readonly string[] Outer = ["batch", "train step", "free batch", "evaluation", "bookkeeping"];
    private static readonly string[] Inner = ["zero_grad", "forward + loss", "backward", "free graph", "optimizer", "EMA update"];

    /// <summary>The table of <paramref name="steps"/> steps of <paramref name="phases"/> from step <paramref name="first"/>
    /// (0-based; the warm-up is skipped by starting after it).</summary>
    public static StepPhaseTable Of(StepPhases phases, int first, int steps)
    {
        if (first < 0 || steps < 1 || first + steps > phases.Steps)
            throw new ArgumentOutOfRangeException(nameof(steps), $"steps {first} … {first + steps - 1} of a recording of {phases.Steps} steps");
        Series Of(string phase) => new([.. phases.Times(phase).Skip(first).Take(steps)], [.. phases.CpuTimes(phase).Skip(first).Take(steps)],
            [.. phases.AllocatedBytes(phase).Skip(first).Take(steps).Select(b => (double)b)]);
        Series Combine(IEnumerable<Series> plus, IEnumerable<Series> minus)
        {
            var result = new Series(new double[steps], new double[steps], new double[steps]);
            foreach (var (series, sign) in plus.Select(p => (p, 1.0)).Concat(minus.Select(p => (p, -1.0))))
                for (var i = 0; i < series.Wall.Length; i++)
                {
                    result.Wall[i] += sign * series.Wall[i];
                    result.Cpu[i] += sign * series.Cpu[i];
                    result.Allocated[i] += sign * series.Allocated[i];
                }
            return result;
        }
        var counters = phases.Whole.Skip(first).Take(steps).ToArray();
        var whole = new Series([.. counters.Select(c => c.WallMs)], [.. counters.Select(c => c.CpuMs)], [.. counters.Select(c => (double)c.AllocatedBytes)]);
        var sum = Combine(Outer.Select(Of), []);
        var rows = new List<StepPhaseRow>();
        void Row(string label, int depth, Series values, bool always = false)
        {
            if (!always && (values.Wall.Length == 0 || values.Wall.All(v => v == 0))) return;
            var wall = values.Wall.Order().ToArray();
            rows.Add(new(label, depth, Quantile(wall, 0.5), Quantile(wall, 0.25), Quantile(wall, 0.75), Quantile([.. values.Cpu.Order()], 0.5),
                values.Cpu.Average(), Quantile([.. values.Allocated.Order()], 0.5)));
        }
        Row(Whole, 0, whole, always: true);
        Row(SumOfPhases, 0, sum, always: true);
        Row("batch assembly", 0, Of("batch"));
        foreach (var phase in phases.Phases.Where(p => p.StartsWith("augment", StringComparison.Ordinal))) Row("of which " + phase, 1, Of(phase));
        Row("method step", 0, Of("train step"));
        foreach (var phase in Inner) Row(phase, 1, Of(phase));
        Row("method's own code", 1, Combine([Of("train step")], Inner.Select(Of)));
        foreach (var phase in phases.Phases.Where(p => p.StartsWith("method:", StringComparison.Ordinal))) Row("of which " + phase["method:".Length..].Trim(), 2, Of(phase));
        Row("free batch tensors", 0, Of("free batch"));
        Row("evaluation", 0, Of("evaluation"));
        Row("trainer bookkeeping", 0, Of("bookkeeping"));
        Row(Unattributed, 0, Combine([whole], [sum]), always: true);
        return new StepPhaseTable(first, steps, rows, whole.Wall.Average(), whole.Cpu.Average(),
            Quantile([.. counters.Select(c => (double)c.AllocatedBytes).Order()], 0.5), counters.Average(c => (double)c.AllocatedBytes),
            counters.Average(c => c.Gen0Collections), counters.Average(c => c.Gen1Collections), counters.Average(c => c.Gen2Collections),
            counters.Average(c => c.GcPauseMs), counters.Average(c => c.JitMs), counters.Sum(c => c.JitMethods));
    }

    /// <summary>The row named <paramref name="phase"/>.</summary>
    public StepPhaseRow this[string phase] => Rows.FirstOrDefault(r => r.Phase == phase)
        ?? throw new KeyNotFoundException($"no row '{phase}' (rows: {string.Join(", ", Rows.Select(r => r.Phase))})");

    /// <summary>One quantity per step: wall ms, CPU ms, allocated bytes.</summary>
    private sealed record Series(double[] Wall, double[] Cpu, double[] Allocated);

    /// <summary>Linear-interpolation quantile of sorted values (numpy's default).</summary>
    public static double Quantile(double[] sorted, double q)
    {
        if (sorted.Length == 0) return double.NaN;
        var position = q * (sorted.Length - 1);
        var low = (int)Math.Floor(position);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
    }
}

using System.Diagnostics;
using MedSsl.Data;
using MedSsl.Reports;
using MedSsl.Training;

namespace MedSsl.Experiments;

/// <summary>The seeds a protocol runs. Settings are fixed on exploration seeds (0, 1, …); the notebooks' claims are
/// evaluated on fresh seeds (<see cref="FirstFresh"/> onwards) that played no part in choosing them.</summary>
public sealed record SeedPlan(IReadOnlyList<int> Seeds, bool Fresh)
{
    /// <summary>The first evaluation seed: far from the exploration seeds 0…n that settings were chosen on.</summary>
    public const int FirstFresh = 1000;

    /// <summary>n fresh seeds, 1000 … 1000 + n − 1: the seeds a notebook's claims are evaluated on.</summary>
    public static SeedPlan Evaluation(int count) => new([.. Enumerable.Range(FirstFresh, Positive(count))], Fresh: true);

    /// <summary>n exploration seeds, 0 … n − 1: the seeds settings are chosen on.</summary>
    public static SeedPlan Exploration(int count) => new([.. Enumerable.Range(0, Positive(count))], Fresh: false);

    public int Count => Seeds.Count;

    /// <summary>What the notebook says about its seeds.</summary>
    public string Description => Fresh
        ? $"{Count} fresh evaluation seeds ({Seeds[0]}–{Seeds[^1]}); the settings were fixed beforehand on exploration seeds 0, 1, … and not changed for these"
        : $"{Count} exploration seeds ({Seeds[0]}–{Seeds[^1]}): the seeds settings are chosen on, not the evaluation seeds";

    /// <summary><paramref name="seed"/> if it is one of the plan's seeds (the example run a notebook's figures show is
    /// one the protocol trains), else a named error.</summary>
    public int RequireExample(int seed) => Seeds.Contains(seed) ? seed
        : throw new ArgumentException($"Seed {seed} is not one of this profile's seeds ({Seeds[0]}–{Seeds[^1]}): the figures show a run the protocol trains", nameof(seed));

    private static int Positive(int count) => count > 0 ? count : throw new ArgumentOutOfRangeException(nameof(count), count, "a protocol needs at least one seed");
}

/// <summary>
/// An experiment as the paper's protocol section states it: the seeds, the grid of settings, how one run is trained,
/// how it is evaluated into typed rows, and the claims those rows decide. <see cref="ProtocolRunner"/> owns the loop.
/// Two runs that share a seed share every draw made from it (the data, the labelled subset, initial weights: see
/// <see cref="RandomStreams"/>), which is what pairs them.
/// </summary>
/// <typeparam name="TSetting">One point of the grid (a record: method, λ, labelled fraction, …).</typeparam>
/// <typeparam name="TRun">What training one point for one seed leaves (the trained networks); disposed by the runner
/// unless kept as the example.</typeparam>
/// <typeparam name="TRow">One evaluated run (or one row per class, organ, source… of it).</typeparam>
public abstract class Protocol<TSetting, TRun, TRow> where TSetting : notnull where TRun : IDisposable where TRow : ISeededRow
{
    /// <summary>Names the CSV of all rows (<c>&lt;stem&gt;.&lt;name&gt;.csv</c>).</summary>
    public virtual string Name => "runs";

    public abstract SeedPlan Seeds { get; }

    /// <summary>The settings every seed runs, in order.</summary>
    public abstract IReadOnlyList<TSetting> Grid { get; }

    /// <summary>Trains one point of the grid for one seed. Training goes through <paramref name="trainer"/> (its
    /// progress and cancellation are the runner's).</summary>
    public abstract TRun Train(int seed, TSetting setting, Trainer trainer);

    /// <summary>The rows of one trained run, measured on validation and test data.</summary>
    public abstract IEnumerable<TRow> Evaluate(int seed, TSetting setting, TRun run);

    /// <summary>The claims the rows decide, declared once.</summary>
    public virtual IEnumerable<Claim<TRow>> Claims => [];

    /// <summary>Whether this run is kept for the notebook's figures (so they show the very models the numbers come from).</summary>
    public virtual bool IsExample(int seed, TSetting setting) => false;

    /// <summary>Before a seed's first setting: draw what all settings of this seed share.</summary>
    public virtual void BeginSeed(int seed) { }

    /// <summary>After a seed's last setting (also when a run failed): free what <see cref="BeginSeed"/> made.</summary>
    public virtual void EndSeed(int seed) { }

    /// <summary>How a setting reads in progress lines and errors.</summary>
    public virtual string Describe(TSetting setting) => setting.ToString() ?? "";
}

/// <summary>The one loop over seeds × settings: progress per run, cancellation between runs (and between steps, through
/// the trainer), the example runs kept, every other run disposed as soon as it is evaluated, everything disposed when
/// a run fails.</summary>
public static class ProtocolRunner
{
    public static ProtocolResult<TSetting, TRun, TRow> Run<TSetting, TRun, TRow>(Protocol<TSetting, TRun, TRow> protocol,
        ITrainingProgress? progress = null, CancellationToken? cancellation = null)
        where TSetting : notnull where TRun : IDisposable where TRow : ISeededRow
    {
        var token = cancellation ?? RunCancellation.Current;
        var grid = protocol.Grid;
        if (grid.Count == 0) throw new ArgumentException($"protocol {protocol.GetType().Name} has an empty grid");
        var total = protocol.Seeds.Count * grid.Count;
        var rows = new List<TRow>();
        var examples = new List<(int Seed, TSetting Setting, TRun Run)>();
        var owned = progress is null;
        progress ??= TrainingProgressDisplay.ForCurrentHost();
        var watch = Stopwatch.StartNew();
        var done = 0;
        try
        {
            foreach (var seed in protocol.Seeds.Seeds)
            {
                protocol.BeginSeed(seed);
                try
                {
                    foreach (var setting in grid)
                    {
                        token.ThrowIfCancellationRequested();
                        var label = $"run {done + 1}/{total} (seed {seed}, {protocol.Describe(setting)})";
                        using var trainer = new Trainer { Cancellation = token, Progress = new PrefixedProgress(progress, label) };
                        var run = protocol.Train(seed, setting, trainer);
                        var keep = protocol.IsExample(seed, setting);
                        try { rows.AddRange(protocol.Evaluate(seed, setting, run)); }
                        catch
                        {
                            run.Dispose();
                            throw;
                        }
                        if (keep) examples.Add((seed, setting, run));
                        else run.Dispose();
                        done++;
                        progress.Report(new TrainingStatus("protocol", done, total, null, null));
                    }
                }
                finally { protocol.EndSeed(seed); }
            }
        }
        catch
        {
            foreach (var example in examples) example.Run.Dispose();
            throw;
        }
        finally
        {
            if (owned) progress.Dispose();
        }
        var claims = ClaimTable.Evaluate(protocol.Claims, rows);
        return new ProtocolResult<TSetting, TRun, TRow>(new Study<TRow>(protocol.Name, rows), protocol.Seeds, examples, claims, watch.Elapsed);
    }

    /// <summary>Progress lines of one run, prefixed with which run it is; disposing it leaves the shared display open.</summary>
    private sealed class PrefixedProgress(ITrainingProgress inner, string prefix) : ITrainingProgress
    {
        public void Report(TrainingStatus status) => inner.Report(status with { Phase = $"{prefix} {status.Phase}" });

        public void Dispose() { }
    }
}

/// <summary>What a protocol run leaves: every row (as a <see cref="Study{TRow}"/>), the seeds, the example runs, the
/// evaluated claims and the wall time.</summary>
public sealed class ProtocolResult<TSetting, TRun, TRow>(Study<TRow> study, SeedPlan seeds,
    IReadOnlyList<(int Seed, TSetting Setting, TRun Run)> examples, ClaimTable claims, TimeSpan elapsed) : IDisposable
    where TSetting : notnull where TRun : IDisposable where TRow : ISeededRow
{
    public Study<TRow> Study { get; } = study;
    public IReadOnlyList<TRow> Rows => Study.Rows;
    public SeedPlan Seeds { get; } = seeds;
    public IReadOnlyList<(int Seed, TSetting Setting, TRun Run)> Examples { get; } = examples;
    public ClaimTable Claims { get; } = claims;
    public TimeSpan Elapsed { get; } = elapsed;

    /// <summary>The kept run of this setting (the example seed's).</summary>
    public TRun Example(TSetting setting)
    {
        foreach (var example in Examples)
            if (EqualityComparer<TSetting>.Default.Equals(example.Setting, setting)) return example.Run;
        throw new KeyNotFoundException($"no example run was kept for {setting}");
    }

    /// <summary>results.json in the run's output folder: <paramref name="headline"/>'s values, the seeds and the
    /// <c>claims</c> array; the CSV of all rows beside it. Returns the path, or null where the context has no folder.</summary>
    public string? Save(object headline, RunContext? context = null) =>
        ResultsFile.Save(headline, Study, Claims, Seeds, context ?? RunContext.Current);

    public void Dispose()
    {
        foreach (var example in Examples) example.Run.Dispose();
    }
}

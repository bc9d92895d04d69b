using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Training;

/// <summary>Evaluates every <paramref name="Every"/> steps (and after the last); <paramref name="StopWhen"/> ends the
/// phase early when it returns true for the metrics just computed.</summary>
public sealed record Evaluation(int Every, Func<IReadOnlyDictionary<string, double>> Evaluate,
    Func<IReadOnlyDictionary<string, double>, bool>? StopWhen = null);

/// <summary>One step as it happened.</summary>
public sealed record StepRecord(string Phase, int Step, LossTerms Losses);

/// <summary>What a phase did: its steps, the mean of each loss term, the last evaluation, and whether it stopped early.</summary>
public sealed record PhaseResult(string Phase, int Steps, LossTerms MeanLosses, IReadOnlyDictionary<string, double>? Metrics, bool StoppedEarly);

/// <summary>A training stopped by its cancellation token (a notebook interrupt, a cell timeout, Ctrl+C).</summary>
public sealed class TrainingInterruptedException(string phase, int step, CancellationToken token)
    : OperationCanceledException($"interrupted: training phase '{phase}' stopped before step {step}", token);

/// <summary>The one training loop. It puts the method's networks in train mode; for each batch of a phase it checks the
/// cancellation token, runs <see cref="ITrainingMethod{TBatch}.TrainStep"/> in a dispose scope (the batch's and
/// the step's tensors are freed when it returns), records the loss terms, reports progress, evaluates on its cadence
/// (eval mode, no gradients) and writes checkpoints (safetensors, atomic). Every method — SSLDEC's Algorithm 1,
/// FixMatch, cross-teaching — is a sequence of phases run by it.</summary>
public sealed class Trainer : IDisposable
{
    private readonly List<StepRecord> history = [];
    private readonly List<(string Phase, int Step, IReadOnlyDictionary<string, double> Metrics)> evaluations = [];
    private ITrainingProgress? progress;

    /// <summary>Stops training between steps; by default the notebook cell's (<see cref="RunCancellation.Current"/>).</summary>
    public CancellationToken Cancellation { get; init; } = RunCancellation.Current;

    /// <summary>Where progress goes; by default the display for the current host (notebook line, CI lines, terminal bar).</summary>
    public ITrainingProgress Progress
    {
        get => progress ??= TrainingProgressDisplay.ForCurrentHost();
        init => progress = value;
    }

    /// <summary>Folder for checkpoints (one safetensors file per network and optimizer, replaced atomically), or null.</summary>
    public string? CheckpointFolder { get; init; }

    /// <summary>Write checkpoints every this many steps of a phase (0: only at a phase's end when a folder is set).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Moves the method's networks' 4-d weights to channels-last (NHWC) before a phase's first step, so that
    /// oneDNN's convolutions, and the batch norms after them, run in that layout (<see cref="Runtime.ChannelsLast"/>). The
    /// values are the same; results agree with NCHW to float rounding, not bit for bit (other kernels), so no study sets it.</summary>
    public bool ChannelsLastWeights { get; init; }

    public IReadOnlyList<StepRecord> History => history;
    public IReadOnlyList<(string Phase, int Step, IReadOnlyDictionary<string, double> Metrics)> Evaluations => evaluations;

    /// <summary>Runs one phase: <paramref name="method"/>'s train step on each of <paramref name="batches"/>, at most
    /// <paramref name="steps"/> of them (the sequence may be endless then). <paramref name="afterStep"/> runs after each
    /// step (learning-rate schedules).</summary>
    public PhaseResult Run<TBatch>(ITrainingMethod<TBatch> method, IEnumerable<TBatch> batches, string phase,
        int? steps = null, Evaluation? evaluation = null, Action<int>? afterStep = null)
    {
        if (steps is < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "a phase cannot have a negative number of steps");
        if (evaluation is { Every: < 1 }) throw new ArgumentException("evaluation needs Every ≥ 1", nameof(evaluation));
        var sums = new List<(string Name, double Sum)>();
        IReadOnlyDictionary<string, double>? metrics = null;
        var step = 0;
        var stoppedEarly = false;
        using var batch = batches.GetEnumerator();
        SetTraining(method, true);   // evaluations switch to eval mode and back
        if (ChannelsLastWeights)
            foreach (var network in method.Networks.Values) Runtime.ChannelsLast.Apply(network);
        StepPhases.Current?.BeginRun();
        while (steps is null || step < steps)
        {
            if (Cancellation.IsCancellationRequested) throw new TrainingInterruptedException(phase, step + 1, Cancellation);
            LossTerms losses;
            var t = StepPhases.Start();
            using (torch.NewDisposeScope())
            {
                if (!batch.MoveNext()) break;
                StepPhases.Stop("batch", t);
                t = StepPhases.Start();
                losses = method.TrainStep(batch.Current);
                StepPhases.Stop("train step", t);
                t = StepPhases.Start();
            }
            StepPhases.Stop("free batch", t);
            t = StepPhases.Start();
            Runtime.NativeAllocator.TrainingStepDone();
            step++;
            history.Add(new StepRecord(phase, step, losses));
            foreach (var (name, value) in losses)
            {
                var k = sums.FindIndex(s => s.Name == name);
                if (k < 0) sums.Add((name, value));
                else sums[k] = (name, sums[k].Sum + value);
            }
            afterStep?.Invoke(step);
            if (evaluation is not null && step % evaluation.Every == 0)
            {
                StepPhases.Stop("bookkeeping", t);
                t = StepPhases.Start();
                metrics = Evaluate(method, evaluation, phase, step);
                if (evaluation.StopWhen?.Invoke(metrics) == true) stoppedEarly = true;
                StepPhases.Stop("evaluation", t);
                t = StepPhases.Start();
            }
            if (CheckpointFolder is not null && CheckpointEvery > 0 && step % CheckpointEvery == 0) SaveCheckpoint(method);
            Progress.Report(new TrainingStatus(phase, step, steps, losses, metrics));
            StepPhases.Stop("bookkeeping", t);
            StepPhases.Current?.EndStep();
            if (stoppedEarly) break;
        }
        if (evaluation is not null && !stoppedEarly && step % evaluation.Every != 0) metrics = Evaluate(method, evaluation, phase, step);
        if (CheckpointFolder is not null) SaveCheckpoint(method);
        var means = new LossTerms();
        foreach (var (name, sum) in sums) means.Add(name, sum / Math.Max(step, 1));
        return new PhaseResult(phase, step, means, metrics, stoppedEarly);
    }

    /// <summary>Runs <paramref name="evaluate"/> with the method's networks in eval mode and without gradients, in its own dispose scope; each network gets its training flag back.</summary>
    public static T Evaluate<TBatch, T>(ITrainingMethod<TBatch> method, Func<T> evaluate) =>
        EvalMode.Evaluate(method.Networks.Values, () =>
        {
            using var scope = torch.NewDisposeScope();
            return evaluate();
        });

    private IReadOnlyDictionary<string, double> Evaluate<TBatch>(ITrainingMethod<TBatch> method, Evaluation evaluation, string phase, int step)
    {
        var metrics = Evaluate(method, evaluation.Evaluate);
        evaluations.Add((phase, step, metrics));
        return metrics;
    }

    private void SaveCheckpoint<TBatch>(ITrainingMethod<TBatch> method)
    {
        foreach (var (name, network) in method.Networks) network.SaveSafetensors(Path.Combine(CheckpointFolder!, name + ".safetensors"));
        foreach (var (name, optimizer) in method.Optimizers) optimizer.SaveSafetensors(Path.Combine(CheckpointFolder!, name + ".optimizer.safetensors"));
    }

    private static void SetTraining<TBatch>(ITrainingMethod<TBatch> method, bool training)
    {
        foreach (var network in method.Networks.Values) network.train(training);
    }

    public void Dispose() => progress?.Dispose();
}

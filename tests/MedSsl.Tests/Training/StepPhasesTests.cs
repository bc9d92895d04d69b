using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Training;

/// <summary>The phase recorder behind <c>medssl bench method</c>: per-step bookkeeping, and the trainer's hooks.</summary>
public class StepPhasesTests
{
    [Fact]
    public void A_phase_first_seen_late_reads_zero_in_earlier_steps_and_repeats_within_a_step_add_up()
    {
        var phases = new StepPhases();
        phases.Add("forward", 2, 1);
        phases.EndStep();
        phases.Add("forward", 3, 2);
        phases.Add("ema", 0.5, 0.25);
        phases.Add("ema", 0.5, 0.25);
        phases.EndStep();
        phases.EndStep();
        Assert.Equal(3, phases.Steps);
        Assert.Equal(["forward", "ema"], phases.Phases);
        Assert.Equal([2.0, 3.0, 0.0], phases.Times("forward"));
        Assert.Equal([0.0, 1.0, 0.0], phases.Times("ema"));
        Assert.Equal([0.0, 0.5, 0.0], phases.CpuTimes("ema"));
        phases.Clear();
        Assert.Equal(0, phases.Steps);
        Assert.Empty(phases.Times("forward"));
        Assert.Empty(phases.Whole);
    }

    [Fact]
    public void The_table_adds_up_the_phases_and_shows_what_the_whole_step_holds_beyond_them()
    {
        // Hand values for four steps; the recorder's own clock gives each whole step (microseconds here).
        double[] batch = [1, 3, 2, 10], step = [10, 12, 11, 14], forward = [4, 5, 4, 6], backward = [5, 6, 6, 7];
        var phases = new StepPhases();
        for (var i = 0; i < 4; i++)
        {
            phases.Add("batch", batch[i], batch[i] / 2, 1000);
            phases.Add("train step", step[i], step[i] / 2, 100);
            phases.Add("forward + loss", forward[i], forward[i] / 2, 60);
            phases.Add("backward", backward[i], backward[i] / 2, 30);
            phases.EndStep();
        }
        var table = StepPhaseTable.Of(phases, first: 1, steps: 3);   // the first step is warm-up

        // Steps 2–4: batch 3, 2, 10 ms → median 3, quartiles 2.5 and 6.5 (numpy's linear rule); CPU 1.5, 1, 5 → median 1.5, mean 2.5.
        var batchRow = table["batch assembly"];
        Assert.Equal((3.0, 2.5, 6.5, 1.5, 2.5), (batchRow.WallMedian, batchRow.WallQ1, batchRow.WallQ3, batchRow.CpuMedian, batchRow.CpuMean));
        Assert.Equal(1000, batchRow.AllocatedBytesMedian);
        // Sum of phases per step: 15, 13, 24 → median 15; the method's own code: step − forward − backward = 1, 1, 1.
        Assert.Equal(15, table[StepPhaseTable.SumOfPhases].WallMedian);
        Assert.Equal(1100, table[StepPhaseTable.SumOfPhases].AllocatedBytesMedian);
        Assert.Equal(1, table["method's own code"].WallMedian);
        Assert.Equal(10, table["method's own code"].AllocatedBytesMedian);
        Assert.Equal(1, table["method's own code"].Depth);
        // What no phase saw: each whole step minus its phases, step by step.
        double[] unattributed = [.. Enumerable.Range(1, 3).Select(i => phases.Whole[i].WallMs - (batch[i] + step[i])).Order()];
        Assert.Equal(unattributed[1], table[StepPhaseTable.Unattributed].WallMedian, 9);
        Assert.Equal(Enumerable.Range(1, 3).Average(i => phases.Whole[i].CpuMs), table.CpuMsPerStep, 9);
        Assert.Equal(3, table.Steps);
        Assert.DoesNotContain(table.Rows, r => r.Phase == "optimizer");   // never recorded: no row
    }

    [Fact]
    public void A_table_outside_the_recording_names_the_steps_it_has()
    {
        var phases = new StepPhases();
        phases.EndStep();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => StepPhaseTable.Of(phases, first: 1, steps: 1));
        Assert.Contains("steps 1 … 1 of a recording of 1 steps", e.Message);
    }

    [Fact]
    public void A_step_counts_what_it_allocates_and_not_what_ran_between_two_trainer_runs()
    {
        using var net = nn.Linear(1, 1);
        using var sgd = optim.SGD(net.parameters(), 0.1);
        var phases = new StepPhases();
        StepPhases.Current = phases;
        byte[] between;
        try
        {
            using var trainer = new Trainer { Progress = new NoProgress() };
            var fit = new Fit(net, sgd) { AllocateInStep = 1 << 20 };
            trainer.Run(fit, Enumerable.Range(0, 2).Select(_ => torch.ones(2, 1)), "first", 2);
            between = new byte[8 << 20];   // work between two runs (a relabeling, an evaluation)
            trainer.Run(fit, Enumerable.Range(0, 2).Select(_ => torch.ones(2, 1)), "second", 2);
        }
        finally { StepPhases.Current = null; }
        Assert.Equal(8 << 20, between.Length);
        Assert.Equal(4, phases.Whole.Count);
        Assert.All(phases.AllocatedBytes("train step"), b => Assert.InRange(b, 1 << 20, (1 << 20) + (64 << 10)));
        Assert.All(phases.Whole, c => Assert.InRange(c.AllocatedBytes, 1 << 20, 2 << 20));
        Assert.All(phases.Whole, c => Assert.True(c.WallMs >= 0 && c.CpuMs >= 0 && c.Gen0Collections >= c.Gen1Collections && c.Gen1Collections >= c.Gen2Collections, c.ToString()));
    }

    [Fact]
    public void Off_by_default_the_hooks_read_no_clock_and_record_nothing()
    {
        Assert.Null(StepPhases.Current);
        var mark = StepPhases.Start();
        Assert.Equal(default, mark);
        StepPhases.Stop("forward", mark);   // no recorder: nothing to do, nothing thrown
    }

    [Fact]
    public void The_trainer_records_batch_forward_backward_and_optimizer_of_every_step()
    {
        using var net = nn.Linear(1, 1);
        using var sgd = optim.SGD(net.parameters(), 0.1);
        var phases = new StepPhases();
        StepPhases.Current = phases;
        try
        {
            using var trainer = new Trainer { Progress = new NoProgress() };
            trainer.Run(new Fit(net, sgd), Enumerable.Range(0, 4).Select(_ => torch.ones(2, 1)), "fit", 4);
        }
        finally { StepPhases.Current = null; }
        Assert.Equal(4, phases.Steps);
        foreach (var phase in new[] { "batch", "train step", "zero_grad", "forward + loss", "backward", "free graph", "optimizer", "bookkeeping" })
        {
            Assert.Contains(phase, phases.Phases);
            Assert.All(phases.Times(phase), t => Assert.True(t > 0, $"{phase}: {t} ms"));
        }
        // The parts inside the method's step cannot take longer than the step.
        for (var i = 0; i < 4; i++)
            Assert.True(new[] { "zero_grad", "forward + loss", "backward", "free graph", "optimizer" }.Sum(p => phases.Times(p)[i]) <= phases.Times("train step")[i]);
    }

    private sealed class Fit(nn.Module<Tensor, Tensor> net, optim.Optimizer sgd) : ITrainingMethod<Tensor>
    {
        /// <summary>Managed bytes each step allocates in the method's own code.</summary>
        public int AllocateInStep { get; init; }
        public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["net"] = net };
        public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["sgd"] = sgd };

        public LossTerms TrainStep(Tensor x)
        {
            var scratch = new byte[AllocateInStep];
            return new(("mse", sgd.Minimize(() => nn.functional.mse_loss(net.call(x), x * 2))), ("scratch", scratch.Length));
        }

        public Tensor Predict(Tensor inputs) => net.call(inputs);
    }

    private sealed class NoProgress : ITrainingProgress
    {
        public void Report(TrainingStatus status) { }
        public void Dispose() { }
    }
}

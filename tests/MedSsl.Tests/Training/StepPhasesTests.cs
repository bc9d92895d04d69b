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
        public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["net"] = net };
        public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["sgd"] = sgd };
        public LossTerms TrainStep(Tensor x) => new(("mse", sgd.Minimize(() => nn.functional.mse_loss(net.call(x), x * 2))));
        public Tensor Predict(Tensor inputs) => net.call(inputs);
    }

    private sealed class NoProgress : ITrainingProgress
    {
        public void Report(TrainingStatus status) { }
        public void Dispose() { }
    }
}

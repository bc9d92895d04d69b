using MedSsl.Tests.Support;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Training;

/// <summary>The one training loop on a small regression: steps, evaluation cadence, early stop, cancellation,
/// checkpoints and batch sources.</summary>
public class TrainerTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("medssl-trainer-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>y = 2x + 1 fitted by one linear layer with SGD.</summary>
    private sealed class Regression : ITrainingMethod<TensorBatch>, IDisposable
    {
        public readonly TorchSharp.Modules.Linear Net = nn.Linear(1, 1);
        private readonly optim.Optimizer sgd;
        public bool TrainingDuringStep, TrainingDuringEvaluation = true;

        public Regression() => sgd = optim.SGD(Net.parameters(), 0.1);

        public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["net"] = Net };
        public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["sgd"] = sgd };

        public LossTerms TrainStep(TensorBatch batch)
        {
            TrainingDuringStep = Net.training;
            return new LossTerms(("mse", sgd.Minimize(() => nn.functional.mse_loss(Net.call(batch.Inputs), batch.Targets))));
        }

        public Tensor Predict(Tensor inputs) => Net.call(inputs);

        public double Error()
        {
            TrainingDuringEvaluation = Net.training;
            using var x = torch.linspace(-1, 1, 11).reshape(11, 1);
            return (Predict(x) - (x * 2 + 1)).abs().max().ToDouble();
        }

        public void Dispose() { Net.Dispose(); sgd.Dispose(); }
    }

    private static IEnumerable<TensorBatch> Endless(Generator g)
    {
        while (true)
        {
            var x = torch.rand([16, 1], generator: g) * 2 - 1;
            yield return new TensorBatch(x, x * 2 + 1);
        }
    }

    [Fact]
    public void RunsTheStepsEvaluatesOnItsCadenceAndStopsEarly()
    {
        torch.manual_seed(0);
        using var method = new Regression();
        using var g = new Generator(3);
        var progress = new SilentProgress();
        using var trainer = new Trainer { Progress = progress, Cancellation = CancellationToken.None };
        var fixedSteps = trainer.Run(method, Endless(g), "fixed", steps: 30, new Evaluation(10, () => new Dictionary<string, double> { ["error"] = method.Error() }));
        Assert.Equal(30, fixedSteps.Steps);
        Assert.Equal([10, 20, 30], trainer.Evaluations.Select(e => e.Step));
        Assert.True(method.TrainingDuringStep);
        Assert.False(method.TrainingDuringEvaluation);    // evaluation runs in eval mode
        Assert.Equal(30, progress.Reports);
        Assert.Equal(trainer.History.Average(s => s.Losses["mse"]), fixedSteps.MeanLosses["mse"], 12);

        var early = trainer.Run(method, Endless(g), "until good", steps: 10_000,
            new Evaluation(5, () => new Dictionary<string, double> { ["error"] = method.Error() }, m => m["error"] < 0.05));
        Assert.True(early.StoppedEarly);
        Assert.True(early.Steps < 10_000 && early.Steps % 5 == 0);
        Assert.True(early.Metrics!["error"] < 0.05);

        var finite = trainer.Run(method, Endless(g).Take(7), "seven batches");
        Assert.Equal(7, finite.Steps);
    }

    [Fact]
    public void ALeaseOfTheCallersTrainerReturnsOnlyItsOwnStepsAndLeavesTheTrainerOpen()
    {
        using var method = new Regression();
        using var g = new Generator(5);
        var progress = new SilentProgress();
        using var trainer = new Trainer { Progress = progress, Cancellation = CancellationToken.None };
        trainer.Run(method, Endless(g), "before", steps: 4);
        List<StepRecord> leased;
        using (var lease = new TrainerLease(trainer))
        {
            Assert.Same(trainer, lease.Trainer);
            lease.Trainer.Run(method, Endless(g), "leased", steps: 3);
            leased = lease.Steps();
        }
        Assert.Equal(["leased", "leased", "leased"], leased.Select(s => s.Phase));
        Assert.Equal([1, 2, 3], leased.Select(s => s.Step));
        Assert.False(progress.Disposed);    // the caller's trainer goes on
        trainer.Run(method, Endless(g), "after", steps: 1);
        Assert.Equal(8, trainer.History.Count);

        using var own = new TrainerLease(null);
        Assert.NotSame(trainer, own.Trainer);
        Assert.Empty(own.Steps());
    }

    /// <summary>Conv → batch norm → ReLU → mean, regressed on a target, with Adam.</summary>
    private sealed class ConvRegression : ITrainingMethod<TensorBatch>, IDisposable
    {
        public readonly TorchSharp.Modules.Sequential Net = nn.Sequential(nn.Conv2d(3, 8, 3, padding: 1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 2, 3, padding: 1));
        private readonly optim.Optimizer adam;

        public ConvRegression() => adam = optim.Adam(Net.parameters(), 1e-2);

        public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["net"] = Net };
        public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["adam"] = adam };

        public LossTerms TrainStep(TensorBatch batch) =>
            new(("mse", adam.Minimize(() => nn.functional.mse_loss(Predict(batch.Inputs), batch.Targets))));

        public Tensor Predict(Tensor inputs) => Net.call(inputs).mean([2, 3]);

        public void Dispose() { Net.Dispose(); adam.Dispose(); }
    }

    [Fact]
    public void ChannelsLastWeightsTrainTheSameNetworkInNhwc()
    {
        List<TensorBatch> batches;
        using (var g = new Generator(6))
            batches = [.. Enumerable.Range(0, 5).Select(_ => new TensorBatch(torch.randn([4, 3, 8, 8], generator: g), torch.randn([4, 2], generator: g)))];
        double[] Losses(bool channelsLast, out bool weightsInNhwc)
        {
            torch.manual_seed(11);
            using var method = new ConvRegression();
            using var trainer = new Trainer { Progress = new SilentProgress(), Cancellation = CancellationToken.None, ChannelsLastWeights = channelsLast };
            trainer.Run(method, batches, "conv");
            weightsInNhwc = method.Net.parameters().Where(p => p.dim() == 4).All(MedSsl.Runtime.ChannelsLast.Is);
            return [.. trainer.History.Select(r => r.Losses["mse"])];
        }
        var nchw = Losses(false, out var nchwWeights);
        var nhwc = Losses(true, out var nhwcWeights);
        Assert.False(nchwWeights);
        Assert.True(nhwcWeights);   // Adam's in-place updates keep the layout
        Assert.Equal(5, nhwc.Length);
        for (var k = 0; k < nchw.Length; k++) Assert.Equal(nchw[k], nhwc[k], 4);
        foreach (var b in batches) { b.Inputs.Dispose(); b.Targets.Dispose(); }
    }

    [Fact]
    public void ACancelledTokenStopsBetweenStepsWithAnInterruptedError()
    {
        using var method = new Regression();
        using var g = new Generator(4);
        using var cancellation = new CancellationTokenSource();
        using var trainer = new Trainer { Progress = new SilentProgress(), Cancellation = cancellation.Token };
        var e = Assert.Throws<TrainingInterruptedException>(() =>
            trainer.Run(method, Endless(g), "long", steps: 1000, afterStep: step => { if (step == 12) cancellation.Cancel(); }));
        Assert.StartsWith("interrupted", e.Message);
        Assert.Contains("step 13", e.Message);
        Assert.Equal(12, trainer.History.Count);
    }

    [Fact]
    public void TheDefaultTokenIsTheNotebookCellsAndCheckpointsAreWritten()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        RunCancellation.Current = cancelled.Token;
        try
        {
            using var trainer = new Trainer { Progress = new SilentProgress() };
            Assert.Equal(cancelled.Token, trainer.Cancellation);
        }
        finally { RunCancellation.Current = CancellationToken.None; }

        using var method = new Regression();
        using var g = new Generator(5);
        using var checkpointing = new Trainer { Progress = new SilentProgress(), Cancellation = CancellationToken.None, CheckpointFolder = dir, CheckpointEvery = 4 };
        checkpointing.Run(method, Endless(g), "fit", steps: 9);
        Assert.Equal(["net.safetensors", "sgd.optimizer.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());
        using var restored = nn.Linear(1, 1);
        restored.LoadSafetensors(Path.Combine(dir, "net.safetensors"));
        Assert.Equal(method.Net.weight!.data<float>().ToArray(), restored.weight!.data<float>().ToArray());
    }

    [Fact]
    public void ShuffledBatchesVisitEveryItemOncePerEpochAndAugment()
    {
        using var x = torch.arange(10, dtype: ScalarType.Float32).reshape(10, 1);
        using var y = torch.arange(10, dtype: ScalarType.Int64);
        using var g = new Generator(7);
        var batches = Batches.Shuffled(x, y, 4, g, epochs: 2).ToList();
        Assert.Equal([4L, 4, 2, 4, 4, 2], batches.Select(b => b.Inputs.size(0)));
        var firstEpoch = batches.Take(3).SelectMany(b => b.Targets.data<long>().ToArray()).ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), firstEpoch.Order());
        Assert.All(batches, b => Assert.Equal(b.Targets.data<long>().ToArray().Select(v => (float)v), b.Inputs.reshape(-1).data<float>().ToArray()));
        using var g2 = new Generator(7);
        Assert.Equal(firstEpoch, Batches.Shuffled(x, y, 4, g2).SelectMany(b => b.Targets.data<long>().ToArray()));
        using var g3 = new Generator(8);
        var jittered = Batches.Shuffled(x, y, 10, g3, augment: new MedSsl.Data.Augmentation.GaussianJitter(0.5)).Single();
        var offsets = (jittered.Inputs.reshape(-1) - jittered.Targets.to(ScalarType.Float32)).data<float>().ToArray();
        Assert.Contains(offsets, o => Math.Abs(o) > 1e-3);
        Assert.Throws<ArgumentException>(() => Batches.Shuffled(x, y[..5], 4, g).ToList());
    }

    [Fact]
    public void SemiSupervisedBatchesHoldMuUnlabelledPerLabelledInTwoViews()
    {
        var data = MedSsl.Data.Synthetic.SyntheticUltrasound.Make(60, seed: 2, imageSize: 32);
        var labelled = data.Subset([.. Enumerable.Range(0, 10)]);
        var unlabelled = data.Subset([.. Enumerable.Range(10, 50)]);
        var sampler = new MedSsl.Data.Sampling.LabelledUnlabelledSampler(10, 50, batchSize: 4, mu: 3, seed: 1);
        using var g = new Generator(9);
        using var scope = torch.NewDisposeScope();
        var batch = Batches.SemiSupervised(labelled, unlabelled, sampler, new MedSsl.Data.Augmentation.WeakAugment(),
            new MedSsl.Data.Augmentation.RandAugment(), g).Take(2).Last();
        Assert.Equal([4L, 1, 32, 32], batch.Labelled.shape);
        Assert.Equal([4L, data.LabelNames.Count], batch.Labels.shape);
        Assert.Equal([12L, 1, 32, 32], batch.UnlabelledWeak.shape);
        Assert.Equal(batch.UnlabelledWeak.shape, batch.UnlabelledStrong.shape);
        Assert.True((batch.UnlabelledWeak - batch.UnlabelledStrong).abs().sum().ToDouble() > 0, "the two views should differ");
        Assert.All(batch.Labels.sum(1).data<float>().ToArray(), n => Assert.True(n >= 1));   // every image has an organ or "other"
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Data.Synthetic;
using MedSsl.Experiments;
using MedSsl.Methods;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Cli.Commands;

/// <summary><c>medssl bench method NAME</c>: one method's real training step at its notebook's workshop size, phase by
/// phase. It runs the study's own training code (the same data, network, batches, augmentations, optimizer and
/// schedule as the workshop profile's first run of seed 1000) under a <see cref="Trainer"/> that stops after warm-up
/// plus the timed steps, with <see cref="StepPhases"/> recording: batch assembly (index, copy, augmentation in the
/// batch source), the method's step (of which zero_grad, forward + loss, backward, freeing the graph, optimizer, EMA
/// update; the rest is the method's own code: views made inside the step, a teacher's forward, pseudo-labels, loss
/// read-outs), the trainer's evaluation and bookkeeping, and the whole step from clock to clock, so that what no phase
/// saw is a row of its own. Median and interquartile range over the timed steps, CPU mean, and per step the managed
/// allocations, garbage collections and JIT compilation. A method trained in two kinds of step (INERRANT's segmenter
/// and confidence network) gets a table for each.</summary>
internal static class MethodBench
{
    public static readonly IReadOnlyList<string> Names = ["fixmatch", "pica", "dino", "cass", "finetune", "multimix", "crossteaching", "ssldec", "inerrant"];
    public static readonly IReadOnlyList<string> Backbones = ["cnn", "vit"];

    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = string.Join(", ", Names) };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var steps = new Option<int>("--steps") { Description = "timed steps", DefaultValueFactory = _ => 30 };
        var warmup = new Option<int>("--warmup") { Description = "steps run before timing (enough for .NET's tiered JIT to settle)", DefaultValueFactory = _ => DefaultWarmup };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: the study's setting; libtorch's default where it has none)" };
        var backbone = new Option<string?>("--backbone") { Description = "dino and finetune: cnn (the default) or vit" };
        var channelsLast = new Option<bool>("--channels-last") { Description = "the trainer moves the method's convolution weights to channels-last (NHWC) first" };
        var command = new Command("method", "one method's training step at its workshop size, phase by phase") { name, json, steps, warmup, threads, backbone, channelsLast };
        command.SetAction(r => Run(r.GetValue(name)!, r.GetValue(json), r.GetValue(steps), r.GetValue(warmup), r.GetValue(threads), r.GetValue(backbone), r.GetValue(channelsLast)));
        return command;
    }

    private const int Seed = SeedPlan.FirstFresh;

    /// <summary>Warm-up steps by default. .NET compiles a method quickly first and recompiles it optimised on a background
    /// thread after 30 calls (tiered compilation); in FixMatch's step that went on until step 50–75, 850 methods
    /// recompiled in steps 6–45, and the process CPU of those steps was ~6 ms per step above the settled ~18.</summary>
    public const int DefaultWarmup = 100;

    /// <summary>One kind of step measured: its name, what was trained, its table, the steps of that kind in one workshop
    /// run (0: set by the method's rounds), and the end-of-run evaluation's time where the study has one outside the trainer.</summary>
    private sealed record Stage(string Name, string Setting, Measured Steps, int WorkshopSteps, double? EvaluationMs = null);

    /// <summary>The timed steps' table, and the methods the JIT compiled and its time during the warm-up.</summary>
    private sealed record Measured(StepPhaseTable Table, long WarmupJitMethods, double WarmupJitMs);

    private static int Run(string name, bool json, int steps, int warmup, int? threads, string? backbone, bool channelsLast)
    {
        if (!Names.Contains(name)) { Console.Error.WriteLine($"bench method: unknown method '{name}' (one of {string.Join(", ", Names)})"); return 2; }
        if (steps < 1 || warmup < 0) { Console.Error.WriteLine("bench method: --steps must be at least 1 and --warmup at least 0"); return 2; }
        if (backbone is not null && name is not ("dino" or "finetune")) { Console.Error.WriteLine($"bench method: --backbone applies to dino and finetune only, not to {name}"); return 2; }
        if (backbone is not null && !Backbones.Contains(backbone))
        {
            Console.Error.WriteLine($"bench method: unknown backbone '{backbone}' (one of {string.Join(", ", Backbones)})");
            return 2;
        }
        var studyThreads = name is "fixmatch" ? FixMatchStudySettings.For(RunProfile.Workshop).Threads
            : name is "pica" ? PicaSettings.For(RunProfile.Workshop).Threads : 0;
        if ((threads ?? studyThreads) is > 0 and var n) torch.set_num_threads(n);

        List<Stage> stages;
        try { stages = Train(name, backbone ?? "cnn", new Measure(warmup, steps, channelsLast)); }
        catch (EndedEarlyException e) { Console.Error.WriteLine($"bench method: {e.Message}"); return 1; }
        var report = new Dictionary<string, object?>
        {
            ["method"] = name,
            ["threads"] = torch.get_num_threads(),
            ["channels_last"] = channelsLast,
            ["omp_wait_policy"] = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"),
            ["steps"] = steps,
            ["warmup"] = warmup,
            ["stages"] = stages.Select(Json).ToList(),
        };
        if (json) { Console.WriteLine(JsonSerializer.Serialize(report)); return 0; }
        Console.WriteLine($"{name}, workshop size, {torch.get_num_threads()} thread(s){(channelsLast ? ", channels-last weights" : "")}, OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "(unset)"}");
        foreach (var stage in stages) Print(stage, warmup);
        return 0;
    }

    private static Dictionary<string, object?> Json(Stage stage)
    {
        var t = stage.Steps.Table;
        return new()
        {
            ["stage"] = stage.Name,
            ["setting"] = stage.Setting,
            ["wall_ms_per_step"] = Math.Round(t.WallMsPerStep, 3),
            ["cpu_ms_per_step"] = Math.Round(t.CpuMsPerStep, 3),
            ["allocated_bytes_median"] = t.AllocatedBytesMedian,
            ["allocated_bytes_per_step"] = Math.Round(t.AllocatedBytesPerStep),
            ["gen0_gcs_per_step"] = Math.Round(t.Gen0PerStep, 4),
            ["gen1_gcs_per_step"] = Math.Round(t.Gen1PerStep, 4),
            ["gen2_gcs_per_step"] = Math.Round(t.Gen2PerStep, 4),
            ["gc_pause_ms_per_step"] = Math.Round(t.GcPauseMsPerStep, 3),
            ["jit_ms_per_step"] = Math.Round(t.JitMsPerStep, 3),
            ["jit_methods"] = t.JitMethods,
            ["warmup_jit_methods"] = stage.Steps.WarmupJitMethods,
            ["warmup_jit_ms"] = Math.Round(stage.Steps.WarmupJitMs, 1),
            ["workshop_steps_per_run"] = stage.WorkshopSteps > 0 ? stage.WorkshopSteps : null,
            ["evaluation_ms_per_run"] = stage.EvaluationMs is { } e ? Math.Round(e, 1) : null,
            ["phases"] = t.Rows.Select(r => new Dictionary<string, object>
            {
                ["phase"] = r.Phase, ["depth"] = r.Depth, ["median_ms"] = Math.Round(r.WallMedian, 3), ["q1_ms"] = Math.Round(r.WallQ1, 3),
                ["q3_ms"] = Math.Round(r.WallQ3, 3), ["cpu_median_ms"] = Math.Round(r.CpuMedian, 3), ["cpu_mean_ms"] = Math.Round(r.CpuMean, 3),
                ["allocated_bytes_median"] = r.AllocatedBytesMedian,
            }).ToList(),
        };
    }

    private static void Print(Stage stage, int warmup)
    {
        var t = stage.Steps.Table;
        Console.WriteLine();
        Console.WriteLine($"{stage.Name}: {stage.Setting}");
        Console.WriteLine($"{t.Steps} timed steps after {warmup}: {t.WallMsPerStep:F1} ms wall, {t.CpuMsPerStep:F1} ms CPU per step (means, clock to clock); " +
            (stage.WorkshopSteps > 0 ? $"{stage.WorkshopSteps} steps per workshop run" : "steps per run set by its rounds"));
        Console.WriteLine($"per step: {t.AllocatedBytesMedian / 1024:F1} KiB managed allocation (median; mean {t.AllocatedBytesPerStep / 1024:F1} KiB), " +
            $"{t.Gen0PerStep:F3} gen-0 / {t.Gen1PerStep:F3} gen-1 / {t.Gen2PerStep:F3} gen-2 GCs ({t.GcPauseMsPerStep:F2} ms paused), " +
            $"JIT {t.JitMsPerStep:F2} ms ({Methods(t.JitMethods)} over the {t.Steps} steps; {Methods(stage.Steps.WarmupJitMethods)}, " +
            $"{stage.Steps.WarmupJitMs:F0} ms in the warm-up)");
        if (t.JitMsPerStep > 0.01 * t.CpuMsPerStep)
            Console.WriteLine($"note: the JIT was still compiling during the timed steps ({Methods(t.JitMethods)}, {t.JitMsPerStep:F2} ms per step), " +
                "which adds CPU to them: raise --warmup, or set DOTNET_TieredCompilation=0 to compile optimised code once");
        Console.WriteLine();
        Console.WriteLine($"| {"phase",-46} | {"wall median ms",14} | {"wall IQR ms",17} | {"CPU median ms",13} | {"CPU mean ms",11} | {"CPU share",9} | {"KiB allocated",13} |");
        Console.WriteLine($"| {new string('-', 46)} | {new string('-', 13)}: | {new string('-', 16)}: | {new string('-', 12)}: | {new string('-', 10)}: | {new string('-', 8)}: | {new string('-', 12)}: |");
        var whole = t[StepPhaseTable.Whole].CpuMedian;
        foreach (var r in t.Rows)
            Console.WriteLine($"| {new string(' ', 2 * r.Depth) + r.Phase,-46} | {r.WallMedian,14:F2} | {$"{r.WallQ1:F2} – {r.WallQ3:F2}",17} | {r.CpuMedian,13:F2} | {r.CpuMean,11:F2} | {(whole > 0 ? r.CpuMedian / whole : 0),9:P0} | {r.AllocatedBytesMedian / 1024,13:F1} |");
        if (stage.EvaluationMs is { } ev)
            Console.WriteLine($"\nend-of-run evaluation (not in the step): {ev:F0} ms per run, {ev / stage.WorkshopSteps:F2} ms per workshop step");
    }

    private static string Methods(long count) => count == 1 ? "1 method" : $"{count} methods";

    /// <summary>Records one kind of step: a fresh <see cref="StepPhases"/> on this thread and a trainer that stops after
    /// warm-up plus the timed steps; the table covers the timed steps alone.</summary>
    private sealed class Measure(int warmup, int steps, bool channelsLast)
    {
        /// <summary>The steps one recording runs: warm-up plus timed.</summary>
        public int Total => warmup + steps;

        public Measured Steps(string stage, Action<Trainer> train)
        {
            var phases = new StepPhases();
            using var stop = new CancellationTokenSource();
            using var trainer = new Trainer { Cancellation = stop.Token, Progress = new StopAfter(warmup + steps, stop), ChannelsLastWeights = channelsLast };
            StepPhases.Current = phases;
            try { train(trainer); }
            catch (TrainingInterruptedException) { }
            finally { StepPhases.Current = null; }
            if (phases.Steps < warmup + steps) throw new EndedEarlyException($"{stage}: the run ended after {phases.Steps} steps, before warm-up plus {steps}");
            var warm = phases.Whole.Take(warmup).ToArray();
            return new(StepPhaseTable.Of(phases, warmup, steps), warm.Sum(c => c.JitMethods), warm.Sum(c => c.JitMs));
        }
    }

    private sealed class EndedEarlyException(string message) : Exception(message);

    /// <summary>Trains the method as its study does, each kind of step until <paramref name="measure"/> stops it.</summary>
    private static List<Stage> Train(string name, string backbone, Measure measure)
    {
        var profile = RunProfile.Workshop;
        switch (name)
        {
            case "fixmatch":
            {
                var settings = FixMatchStudySettings.For(profile);
                var (weak, strong) = (new Timed(settings.Weak, "augment (weak)"), new Timed(settings.Strong, "augment (strong)"));
                settings = settings with { Weak = weak, Strong = strong };
                var data = FixMatchRuns.MakeData(settings);
                var combinations = LabelCombinations.Of(data.Where(DataSplit.Labelled));
                using var pretrained = PicaStudy.NewBackbone(profile, Seed);   // random weights of the deep-clustering backbone's shape
                var setting = new FixMatchSetting(StudyModel.TwoHead, Initialisation.DeepClustering, settings.LabelFractions[0]);
                var table = measure.Steps("FixMatch step", trainer => FixMatchRuns.Train(data, combinations, settings, setting, pretrained, Seed, trainer).Dispose());
                // The weak view is drawn for the labelled and the unlabelled images, the strong one for the unlabelled only.
                var unlabelled = strong.Images / (double)strong.Calls;
                var labelled = (weak.Images - strong.Images) / (double)strong.Calls;
                // The study's end-of-run scoring (validation thresholds, test F1, pseudo-label outcomes), timed on a
                // one-step run: its cost does not depend on the weights.
                using var run = FixMatchRuns.Train(data, combinations, settings with { Steps = 1 }, setting, pretrained, Seed, new Trainer { Progress = new StopAfter(int.MaxValue, null) });
                var times = Enumerable.Range(0, 3).Select(_ =>
                {
                    var sw = Stopwatch.StartNew();
                    FixMatchRuns.Evaluate(data, setting, Seed, run);
                    return sw.Elapsed.TotalMilliseconds;
                }).Order().ToArray();
                return [new("FixMatch step", $"{setting}; per step {labelled:F1} labelled + 2 × {unlabelled:F1} unlabelled images of {settings.ImageSize}², " +
                    $"widths {string.Join(",", settings.Widths)}, {data.LabelNames.Count} classes, {combinations.K} combinations", table, settings.Steps, times[1])];
            }
            case "pica":
            {
                var settings = PicaSettings.For(profile);
                var data = PicaStudy.MakeData(settings);
                var setting = PicaStudy.AtDefault("lsd");
                var options = PicaStudy.Options(settings, PicaStudy.Clusters(data), setting, Seed);
                var unlabelled = data.Where(DataSplit.Unlabelled);
                var exams = Enumerable.Range(0, unlabelled.Count).Select(unlabelled.ExamId).Distinct().Count();
                var perEpoch = (exams + options.ExamsPerBatch - 1) / options.ExamsPerBatch;
                var table = measure.Steps("PICA step", trainer => PicaRuns.Train(data, settings, setting, Seed, trainer).Dispose());
                return [new("PICA step", setting.ToString(), table, options.Epochs * Math.Max(1, perEpoch))];
            }
            case "finetune":
            {
                // Notebook 05's fine-tuning of a pre-trained backbone (every arm: DINO, CASS, supervised) with a new
                // linear head, at the largest labelled fraction (full batches); the starting weights do not change its cost.
                var s = S4miClassificationSettings.For(profile);
                var data = SyntheticSkinLesions.Make(s.Images, Seed, s.ImageSize);
                var (x, y) = data.Images.Batch(data.Images.IndicesOf(DataSplit.Labelled));
                using (x) using (y)
                {
                    var dim = backbone == "cnn" ? s.CnnWidths[^1] : s.VitDim;
                    torch.manual_seed(Seed);
                    using var tuning = new MultiLabelFineTuning(new BackboneWithHead(s.Architecture(backbone).Create(), nn.Linear(dim, SyntheticSkinLesions.FindingNames.Count)),
                        new FineTuningOptions { LearningRate = s.FineTuneLearningRate, Augment = new WeakAugment(), Seed = Seed });
                    using var generator = new SeededRandom(Seed, RandomStreams.BatchOrder).TorchGenerator();
                    var phase = $"fine-tuning ({backbone})";
                    var table = measure.Steps(phase, trainer => trainer.Run(tuning, Batches.Shuffled(x, y, s.BatchSize, generator, epochs: 1_000_000), phase));
                    return [new(phase, $"{backbone} backbone + linear head, batch {s.BatchSize} of {s.ImageSize}², {SyntheticSkinLesions.FindingNames.Count} findings, " +
                        $"{s.LabelFractions.Max():P0} labelled", table, backbone == "vit" ? s.VitFineTuneSteps : s.FineTuneSteps)];
                }
            }
            case "dino" or "cass":
            {
                var s = S4miClassificationSettings.For(profile);
                var data = SyntheticSkinLesions.Make(s.Images, Seed, s.ImageSize);
                using var x = data.Images.Batch(data.Images.IndicesOf(DataSplit.Labelled)).Images;
                long Dim(string b) => b == "cnn" ? s.CnnWidths[^1] : s.VitDim;
                using var generator = new SeededRandom(Seed, RandomStreams.PretrainingBatches).TorchGenerator();
                var batches = Batches.Unlabelled(x, s.BatchSize, generator, epochs: 1_000_000);
                if (name == "dino")
                {
                    BackboneWithHead Make() => new(s.Architecture(backbone).Create(), new DinoHead(Dim(backbone), s.Prototypes, hidden: 4 * Dim(backbone), bottleneck: Dim(backbone)));
                    torch.manual_seed(Seed);
                    using var dino = new Dino(Make(), Make, s.PretrainSteps, new DinoOptions
                    {
                        GlobalCropSize = s.ImageSize, LocalCropSize = s.ImageSize / 2, LocalCrops = s.LocalCrops, TeacherMomentum = s.TeacherMomentum,
                        LearningRate = s.PretrainLearningRate, Seed = Seed,
                    });
                    var phase = $"DINO pre-training ({backbone})";
                    var dinoTable = measure.Steps(phase, trainer => trainer.Run(dino, batches, phase, s.PretrainSteps));
                    var size = backbone == "cnn" ? $"widths {string.Join(",", s.CnnWidths)}" : $"dim {s.VitDim}, depth {s.VitDepth}, {s.VitHeads} heads, patch {s.PatchSize}";
                    return [new(phase, $"{backbone} backbone ({size}), batch {s.BatchSize} of {s.ImageSize}², 2 global + {s.LocalCrops} local crops, {s.Prototypes} prototypes",
                        dinoTable, s.PretrainSteps)];
                }
                BackboneWithHead Pair(string b) => new(s.Architecture(b).Create(), nn.Linear(Dim(b), s.Prototypes));
                torch.manual_seed(Seed);
                using var cass = new Cass(Pair("cnn"), Pair("vit"),
                    new CassOptions { LearningRate = s.PretrainLearningRate, Augment = new RandomResizedCrop(s.ImageSize, 0.4, 1.0), Seed = Seed });
                const string cassPhase = "CASS pre-training (cnn + vit)";
                var cassTable = measure.Steps(cassPhase, trainer => trainer.Run(cass, batches, cassPhase, s.PretrainSteps));
                return [new(cassPhase, $"batch {s.BatchSize} of {s.ImageSize}²", cassTable, s.PretrainSteps)];
            }
            case "multimix":
            {
                var workshop = MultiMixSettings.For(profile);
                // A workshop run is 120 steps: long enough for the warm-up and the timed steps only when lengthened, which
                // moves its (last-step) learning-rate decay, not a step's cost.
                var steps = Math.Max(workshop.Steps, measure.Total);
                var settings = workshop with { Steps = steps, Options = workshop.Options with { DecayEvery = Math.Max(workshop.Options.DecayEvery, steps) } };
                var data = SyntheticChestXray.Make(settings.Sizes, Seed);
                var setting = new MultiMixSetting(MultiMixModel.MultiMix, settings.FewestMasks, settings.FewestLabels);
                var table = measure.Steps("MultiMix step", trainer => MultiMixRuns.Train(setting, data, Seed, settings, trainer).Dispose());
                return [new("MultiMix step", setting.ToString(), table, workshop.Steps)];
            }
            case "crossteaching":
            {
                var settings = S4miSegmentationSettings.For(profile);
                var protocol = new S4miSegmentationProtocol(settings);
                protocol.BeginSeed(Seed);
                var arm = new SegmentationSetting(S4miSegmentationProtocol.CrossTeachingRamp, settings.Fractions[0]);
                var table = measure.Steps("cross-teaching step", trainer => protocol.Train(Seed, arm, trainer).Dispose());
                return [new("cross-teaching step", $"{settings.Fractions[0]:P0} labelled", table, settings.Steps)];
            }
            case "inerrant":
            {
                // The study's first (seed, α): INERRANT⁰ on the highest proportion's partial labels, then the learned
                // confidence network with its U-Net duplicate fine-tuned (the paper's choice) on that segmenter. The naive
                // baseline and the fine-tunings run the same segmenter step; the frozen-duplicate arm a cheaper confidence step.
                var scale = InerrantScale.For(profile);
                var alpha = scale.Alphas[0];
                var partial = SyntheticCt.Make(scale.TrainVolumes, Seed, scale.Depth, scale.Size).WithLabelledProportion(alpha, Seed);
                // Each training is long enough for the warm-up and the timed steps (a confidence training is 45 steps); a
                // longer schedule changes the learning rate of a step, not its cost.
                var options = scale.Options with
                {
                    Seed = Seed, SegmentationSteps = Math.Max(scale.Options.SegmentationSteps, measure.Total),
                    ConfidenceSteps = Math.Max(scale.Options.ConfidenceSteps, measure.Total),
                };
                using var set = InerrantTrainingSet.From(partial, ambiguityMaps: true);
                using var model = Inerrant.Create(partial.OrganNames.Count, options);
                var size = $"batch {options.BatchSize} slices of {scale.Size}², {partial.OrganNames.Count} organs, U-Net widths {string.Join(",", options.Widths)}, α {alpha:P0}";
                var segmenter = measure.Steps("segmenter step", trainer => model.FitInitial(set, trainer));
                var confidence = measure.Steps("confidence step", trainer => model.FitConfidence(set, trainer));
                return
                [
                    new("segmenter step", $"INERRANT⁰ (eq. 2), {size}; {scale.Options.SegmentationSteps} steps per initial training, {options.FineTuneSteps} per fine-tuning", segmenter, scale.Options.SegmentationSteps),
                    new("confidence step", $"confidence network (eq. 3), duplicate fine-tuned, {options.ConfidenceLayers} × {options.ConfidenceHidden}-channel head, {size}",
                        confidence, scale.Options.ConfidenceSteps),
                ];
            }
            default:   // ssldec
            {
                var setting = new HalfMoonsSetting(LabelPlacement.Random, HalfMoonsModel.Ssldec);
                var table = measure.Steps("SSLDEC step", trainer => SsldecHalfMoons.Run(Seed, setting, null, trainer));
                return [new("SSLDEC step", "half moons, random labels", table, 0)];   // its steps per run depend on its rounds
            }
        }
    }

    /// <summary>Stops the training after its last step to record.</summary>
    private sealed class StopAfter(int steps, CancellationTokenSource? stop) : ITrainingProgress
    {
        private int count;

        public void Report(TrainingStatus status)
        {
            if (++count >= steps) stop?.Cancel();
        }

        public void Dispose() { }
    }

    /// <summary>An augmentation whose time goes to its own phase.</summary>
    private sealed class Timed(IAugmentation inner, string phase) : IAugmentation
    {
        public long Images { get; private set; }
        public long Calls { get; private set; }

        public Tensor Apply(Tensor batch, Generator generator)
        {
            (Images, Calls) = (Images + batch.size(0), Calls + 1);
            var t = StepPhases.Start();
            var result = inner.Apply(batch, generator);
            StepPhases.Stop(phase, t);
            return result;
        }
    }
}

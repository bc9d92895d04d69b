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
/// read-outs), the trainer's evaluation and bookkeeping. Median and interquartile range over the timed steps.</summary>
internal static class MethodBench
{
    public static readonly IReadOnlyList<string> Names = ["fixmatch", "pica", "dino", "cass", "multimix", "crossteaching", "ssldec"];

    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = string.Join(", ", Names) };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var steps = new Option<int>("--steps") { Description = "timed steps", DefaultValueFactory = _ => 30 };
        var warmup = new Option<int>("--warmup") { Description = "steps run before timing", DefaultValueFactory = _ => 5 };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: the study's setting; libtorch's default where it has none)" };
        var backbone = new Option<string>("--backbone") { Description = "dino: cnn or vit", DefaultValueFactory = _ => "cnn" };
        var command = new Command("method", "one method's training step at its workshop size, phase by phase") { name, json, steps, warmup, threads, backbone };
        command.SetAction(r => Run(r.GetValue(name)!, r.GetValue(json), r.GetValue(steps), r.GetValue(warmup), r.GetValue(threads), r.GetValue(backbone)!));
        return command;
    }

    private const int Seed = SeedPlan.FirstFresh;

    private static int Run(string name, bool json, int steps, int warmup, int? threads, string backbone)
    {
        if (!Names.Contains(name)) { Console.Error.WriteLine($"bench method: unknown method '{name}' (one of {string.Join(", ", Names)})"); return 2; }
        if (steps < 1 || warmup < 0) { Console.Error.WriteLine("bench method: --steps must be at least 1 and --warmup at least 0"); return 2; }
        if (backbone is not ("cnn" or "vit")) { Console.Error.WriteLine($"bench method: --backbone must be cnn or vit, not '{backbone}'"); return 2; }
        var studyThreads = name is "fixmatch" ? FixMatchStudySettings.For(RunProfile.Workshop).Threads
            : name is "pica" ? PicaStudy.Settings(RunProfile.Workshop).Threads : 0;
        if ((threads ?? studyThreads) is > 0 and var n) torch.set_num_threads(n);

        var phases = new StepPhases();
        using var stop = new CancellationTokenSource();
        var counter = new StepCounter(warmup + steps, warmup, stop);
        using var trainer = new Trainer { Cancellation = stop.Token, Progress = counter };
        StepPhases.Current = phases;
        (string Setting, double? EvaluationMs, int WorkshopSteps) info;
        try { info = Train(name, backbone, trainer); }
        finally { StepPhases.Current = null; }
        var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - counter.CpuAtWarmup).TotalMilliseconds / steps;
        var wallMs = counter.WallSinceWarmup.Elapsed.TotalMilliseconds / steps;
        if (phases.Steps < warmup + steps)
        {
            Console.Error.WriteLine($"bench method: the run ended after {phases.Steps} steps, before warm-up plus {steps}");
            return 1;
        }
        var rows = Table(phases, warmup);
        var report = new Dictionary<string, object?>
        {
            ["method"] = name,
            ["setting"] = info.Setting,
            ["threads"] = torch.get_num_threads(),
            ["omp_wait_policy"] = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"),
            ["steps"] = steps,
            ["warmup"] = warmup,
            ["wall_ms_per_step"] = Math.Round(wallMs, 3),
            ["cpu_ms_per_step"] = Math.Round(cpuMs, 3),
            ["workshop_steps_per_run"] = info.WorkshopSteps > 0 ? info.WorkshopSteps : null,
            ["evaluation_ms_per_run"] = info.EvaluationMs is { } e ? Math.Round(e, 1) : null,
            ["phases"] = rows.Select(r => new Dictionary<string, object>
            {
                ["phase"] = r.Phase.Trim(), ["median_ms"] = Math.Round(r.Median, 3), ["q1_ms"] = Math.Round(r.Q1, 3), ["q3_ms"] = Math.Round(r.Q3, 3),
                ["cpu_median_ms"] = Math.Round(r.CpuMedian, 3),
            }).ToList(),
        };
        if (json) { Console.WriteLine(JsonSerializer.Serialize(report)); return 0; }
        Console.WriteLine($"{name} ({info.Setting}), workshop size, {torch.get_num_threads()} thread(s), OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "(unset)"}");
        Console.WriteLine($"{steps} timed steps after {warmup}: {wallMs:F1} ms wall, {cpuMs:F1} ms CPU per step; " +
            (info.WorkshopSteps > 0 ? $"{info.WorkshopSteps} steps per workshop run" : "steps per run set by its rounds"));
        Console.WriteLine();
        Console.WriteLine($"| {"phase",-34} | {"wall median ms",14} | {"wall IQR ms",17} | {"CPU median ms",13} | {"CPU share",9} |");
        Console.WriteLine($"| {new string('-', 34)} | {new string('-', 13)}: | {new string('-', 16)}: | {new string('-', 12)}: | {new string('-', 8)}: |");
        var total = rows.First(r => r.Phase == "step (sum of phases)").CpuMedian;
        foreach (var r in rows)
            Console.WriteLine($"| {r.Phase,-34} | {r.Median,14:F2} | {$"{r.Q1:F2} – {r.Q3:F2}",17} | {r.CpuMedian,13:F2} | {(total > 0 ? r.CpuMedian / total : 0),9:P0} |");
        if (info.EvaluationMs is { } ev)
            Console.WriteLine($"\nend-of-run evaluation (not in the step): {ev:F0} ms per run, {ev / info.WorkshopSteps:F2} ms per workshop step");
        return 0;
    }

    /// <summary>One row: a phase's wall-time median and quartiles and its CPU-time median (process, all threads) over the timed steps.</summary>
    internal sealed record PhaseRow(string Phase, double Median, double Q1, double Q3, double CpuMedian);

    /// <summary>The rows of the table: each phase over the timed steps, the step's total, and the method's own code (its
    /// step minus the timed parts inside it).</summary>
    internal static List<PhaseRow> Table(StepPhases phases, int warmup)
    {
        var count = phases.Steps - warmup;
        string[] inner = ["zero_grad", "forward + loss", "backward", "free graph", "optimizer", "EMA update"];
        string[] outer = ["batch", "train step", "free batch", "evaluation", "bookkeeping"];
        (double[] Wall, double[] Cpu) Of(string phase) => ([.. phases.Times(phase).Skip(warmup)], [.. phases.CpuTimes(phase).Skip(warmup)]);
        (double[] Wall, double[] Cpu) Combine(IEnumerable<string> plus, IEnumerable<string> minus)
        {
            var (wall, cpu) = (new double[count], new double[count]);
            foreach (var (phase, sign) in plus.Select(p => (p, 1.0)).Concat(minus.Select(p => (p, -1.0))))
            {
                var (w, c) = Of(phase);
                for (var i = 0; i < w.Length; i++) { wall[i] += sign * w[i]; cpu[i] += sign * c[i]; }
            }
            return (wall, cpu);
        }
        var rows = new List<PhaseRow>();
        void Row(string label, (double[] Wall, double[] Cpu) values)
        {
            if (values.Wall.Length == 0 || values.Wall.All(v => v == 0)) return;
            var sorted = values.Wall.Order().ToArray();
            rows.Add(new(label, Quantile(sorted, 0.5), Quantile(sorted, 0.25), Quantile(sorted, 0.75), Quantile([.. values.Cpu.Order()], 0.5)));
        }
        Row("step (sum of phases)", Combine(outer, []));
        Row("batch assembly", Of("batch"));
        foreach (var phase in phases.Phases.Where(p => p.StartsWith("augment", StringComparison.Ordinal))) Row("  of which " + phase, Of(phase));
        Row("method step", Of("train step"));
        foreach (var phase in inner) Row("  " + phase, Of(phase));
        Row("  method's own code", Combine(["train step"], inner));
        foreach (var phase in phases.Phases.Where(p => p.StartsWith("method:", StringComparison.Ordinal))) Row("    of which " + phase["method:".Length..].Trim(), Of(phase));
        Row("free batch tensors", Of("free batch"));
        Row("evaluation", Of("evaluation"));
        Row("trainer bookkeeping", Of("bookkeeping"));
        return rows;
    }

    /// <summary>Linear-interpolation quantile of sorted values (numpy's default).</summary>
    internal static double Quantile(double[] sorted, double q)
    {
        if (sorted.Length == 0) return double.NaN;
        var position = q * (sorted.Length - 1);
        var low = (int)Math.Floor(position);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
    }

    /// <summary>Trains the method as its study does, until the counter stops it; returns the setting, the end-of-run
    /// evaluation time where the study has one outside the trainer, and the steps of one workshop run.</summary>
    private static (string Setting, double? EvaluationMs, int WorkshopSteps) Train(string name, string backbone, Trainer trainer)
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
                Interruptible(() => FixMatchRuns.Train(data, combinations, settings, setting, pretrained, Seed, trainer).Dispose());
                // The study's end-of-run scoring (validation thresholds, test F1, pseudo-label outcomes), timed on a
                // one-step run: its cost does not depend on the weights.
                using var run = FixMatchRuns.Train(data, combinations, settings with { Steps = 1 }, setting, pretrained, Seed, new Trainer { Progress = new StepCounter(int.MaxValue, 0, null) });
                var times = Enumerable.Range(0, 3).Select(_ =>
                {
                    var sw = Stopwatch.StartNew();
                    FixMatchRuns.Evaluate(data, setting, Seed, run);
                    return sw.Elapsed.TotalMilliseconds;
                }).Order().ToArray();
                // The weak view is drawn for the labelled and the unlabelled images, the strong one for the unlabelled only.
                var unlabelled = strong.Images / (double)strong.Calls;
                var labelled = (weak.Images - strong.Images) / (double)strong.Calls;
                return ($"{setting}; per step {labelled:F1} labelled + 2 × {unlabelled:F1} unlabelled images of {settings.ImageSize}², " +
                    $"widths {string.Join(",", settings.Widths)}, {data.LabelNames.Count} classes, {combinations.K} combinations", times[1], settings.Steps);
            }
            case "pica":
            {
                var settings = PicaStudy.Settings(profile);
                var data = PicaStudy.MakeData(settings);
                var setting = PicaStudy.AtDefault("lsd");
                var options = PicaStudy.Options(settings, PicaStudy.Clusters(data), setting, Seed);
                var unlabelled = data.Where(DataSplit.Unlabelled);
                var exams = Enumerable.Range(0, unlabelled.Count).Select(unlabelled.ExamId).Distinct().Count();
                var perEpoch = (exams + options.ExamsPerBatch - 1) / options.ExamsPerBatch;
                Interruptible(() => PicaRuns.Train(data, settings, setting, Seed, trainer).Dispose());
                return (setting.ToString(), null, options.Epochs * Math.Max(1, perEpoch));
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
                    BackboneWithHead Make() => new(S4miClassification.Architecture(backbone, s).Create(), new DinoHead(Dim(backbone), s.Prototypes, hidden: 4 * Dim(backbone), bottleneck: Dim(backbone)));
                    torch.manual_seed(Seed);
                    using var dino = new Dino(Make(), Make, s.PretrainSteps, new DinoOptions
                    {
                        GlobalCropSize = s.ImageSize, LocalCropSize = s.ImageSize / 2, LocalCrops = s.LocalCrops, TeacherMomentum = s.TeacherMomentum,
                        LearningRate = s.PretrainLearningRate, Seed = Seed,
                    });
                    Interruptible(() => trainer.Run(dino, batches, $"DINO pre-training ({backbone})", s.PretrainSteps));
                    return ($"DINO pre-training, {backbone} backbone", null, s.PretrainSteps);
                }
                BackboneWithHead Pair(string b) => new(S4miClassification.Architecture(b, s).Create(), nn.Linear(Dim(b), s.Prototypes));
                torch.manual_seed(Seed);
                using var cass = new Cass(Pair("cnn"), Pair("vit"),
                    new CassOptions { LearningRate = s.PretrainLearningRate, Augment = new RandomResizedCrop(s.ImageSize, 0.4, 1.0), Seed = Seed });
                Interruptible(() => trainer.Run(cass, batches, "CASS pre-training (cnn + vit)", s.PretrainSteps));
                return ("CASS pre-training (cnn + vit)", null, s.PretrainSteps);
            }
            case "multimix":
            {
                var settings = MultiMixSettings.For(profile);
                var data = SyntheticChestXray.Make(settings.Sizes, Seed);
                var setting = new MultiMixSetting(MultiMixModel.MultiMix, settings.FewestMasks, settings.FewestLabels);
                Interruptible(() => MultiMixRuns.Train(setting, data, Seed, settings, trainer).Dispose());
                return (setting.ToString(), null, settings.Steps);
            }
            case "crossteaching":
            {
                var settings = S4miSegmentationSettings.For(profile);
                var data = S4miSegmentationData.Make(settings, Seed);
                Interruptible(() => SegmentationRuns.CrossTeaching(settings, data, Seed, settings.Fractions[0], trainer, rampUp: true).Dispose());
                return ($"cross-teaching, {settings.Fractions[0]:P0} labelled", null, settings.Steps);
            }
            default:   // ssldec
            {
                var setting = new HalfMoonsSetting(LabelPlacement.Random, HalfMoonsModel.Ssldec);
                Interruptible(() => SsldecHalfMoons.Run(Seed, setting, null, trainer));
                return ("SSLDEC, half moons, random labels", null, 0);   // its steps per run depend on its rounds
            }
        }
    }

    private static void Interruptible(Action train)
    {
        try { train(); }
        catch (TrainingInterruptedException) { }
    }

    /// <summary>Counts steps across phases, notes the CPU time and starts a clock when warm-up ends, and stops the training
    /// after the last timed step.</summary>
    private sealed class StepCounter(int stopAfter, int warmup, CancellationTokenSource? stop) : ITrainingProgress
    {
        private int count;
        public TimeSpan CpuAtWarmup { get; private set; } = Process.GetCurrentProcess().TotalProcessorTime;
        public Stopwatch WallSinceWarmup { get; } = Stopwatch.StartNew();

        public void Report(TrainingStatus status)
        {
            if (++count == warmup)
            {
                CpuAtWarmup = Process.GetCurrentProcess().TotalProcessorTime;
                WallSinceWarmup.Restart();
            }
            if (count >= stopAfter) stop?.Cancel();
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

using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Models;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods;

/// <summary>Settings of DINO (Caron et al. 2021, §3.1, App. C–D and the official code's defaults; the S4MI paper,
/// Singh et al. 2024, "Classification", pre-trains with them). Crop sizes are given for the image side here: the
/// paper's 224² global / 96² local crops keep their proportion on small images (local ≈ 0.43 of the side).</summary>
public sealed record DinoOptions
{
    /// <summary>Student softmax temperature τ_s (§3.1: 0.1).</summary>
    public double StudentTemperature { get; init; } = 0.1;
    /// <summary>Teacher softmax temperature τ_t (App. D: 0.04 after a linear warm-up from 0.04; the default run
    /// keeps 0.04 throughout).</summary>
    public double TeacherTemperature { get; init; } = 0.04;
    /// <summary>Centre momentum m (eq. 4: 0.9).</summary>
    public double CentreMomentum { get; init; } = 0.9;
    /// <summary>Start λ of the teacher's EMA momentum, raised to 1 along a cosine (§3.1: 0.996).</summary>
    public double TeacherMomentum { get; init; } = 0.996;
    /// <summary>Number of global views (§3.1: 2) — the teacher sees only these.</summary>
    public int GlobalCrops { get; init; } = 2;
    /// <summary>Number of local views (the paper's best: 10; the code's default 8).</summary>
    public int LocalCrops { get; init; } = 8;
    /// <summary>Side of the global crops (the image side) and of the local crops.</summary>
    public int GlobalCropSize { get; init; } = 32;
    public int LocalCropSize { get; init; } = 16;
    /// <summary>Area fractions of the crops: global (0.4, 1), local (0.05, 0.4) (the code's defaults).</summary>
    public (double Min, double Max) GlobalScale { get; init; } = (0.4, 1.0);
    public (double Min, double Max) LocalScale { get; init; } = (0.05, 0.4);
    /// <summary>AdamW learning rate (the code: 5e-4 · batch / 256 after warm-up) and weight decay (0.04 → 0.4; fixed here).</summary>
    public double LearningRate { get; init; } = 5e-4;
    public double WeightDecay { get; init; } = 0.04;
    /// <summary>Channels of the images (3: RGB; 1 for grey images), for the probe that counts the head's outputs.</summary>
    public int Channels { get; init; } = 3;
    public int Seed { get; init; }
}

/// <summary>DINO, self-distillation with no labels (Caron et al. 2021; S4MI, Singh et al. 2024, "Classification"): a
/// student network g_θs and a teacher g_θt of the same architecture (backbone + <see cref="DinoHead"/>). Each image
/// gives 2 global and several local crops; the teacher sees the global ones, the student all of them, and the student
/// learns to match the teacher's centred, sharpened output distribution across views (eq. 1 and Algorithm 1). The
/// teacher is an exponential moving average of the student (§3.1), its outputs centred by a running mean (eq. 4).</summary>
public sealed class Dino : ITrainingMethod<Tensor>, IDisposable
{
    private readonly DinoOptions options;
    private readonly EmaTeacher<BackboneWithHead> teacher;
    private readonly optim.Optimizer optimizer;
    private readonly Generator generator;
    private readonly RandomResizedCrop globalView;
    private readonly RandomResizedCrop localView;
    private readonly int totalSteps;
    private int step;
    private Tensor centre;

    /// <param name="student">backbone + DINO head; build it outside any dispose scope</param>
    /// <param name="sameArchitecture">makes another network of the student's architecture (the teacher starts as a copy)</param>
    /// <param name="totalSteps">length of the run, for the momentum schedule</param>
    public Dino(BackboneWithHead student, Func<BackboneWithHead> sameArchitecture, int totalSteps, DinoOptions? options = null)
    {
        this.options = options ?? new DinoOptions();
        if (totalSteps < 1) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "DINO needs at least one step");
        if (this.options.GlobalCrops < 2) throw new ArgumentException($"DINO compares different views: it needs at least 2 global crops, not {this.options.GlobalCrops}", nameof(options));
        Student = student;
        this.totalSteps = totalSteps;
        teacher = new EmaTeacher<BackboneWithHead>(student, sameArchitecture);
        optimizer = optim.AdamW(student.parameters(), lr: this.options.LearningRate, weight_decay: this.options.WeightDecay);
        generator = new SeededRandom(this.options.Seed).TorchGenerator();
        globalView = new RandomResizedCrop(this.options.GlobalCropSize, this.options.GlobalScale.Min, this.options.GlobalScale.Max);
        localView = new RandomResizedCrop(this.options.LocalCropSize, this.options.LocalScale.Min, this.options.LocalScale.Max);
        // The centre has one entry per output (prototype); a forward pass in eval mode tells how many.
        var outputs = student.Evaluate(() =>
        {
            using var probe = student.call(torch.zeros(2, this.options.Channels, this.options.GlobalCropSize, this.options.GlobalCropSize));
            return probe.size(1);
        });
        centre = torch.zeros(1, outputs).DetachFromDisposeScope();
    }

    public BackboneWithHead Student { get; }
    public BackboneWithHead Teacher => teacher.Teacher;
    /// <summary>The running centre c of the teacher's outputs [1, K] (eq. 4).</summary>
    public Tensor Centre => centre;

    /// <summary>The student and the teacher; the trainer puts both in train mode (the official code runs the teacher
    /// in train mode too, so a ResNet teacher normalises with batch statistics).</summary>
    public IReadOnlyDictionary<string, nn.Module> Networks => new Dictionary<string, nn.Module> { ["student"] = Student, ["teacher"] = Teacher };
    public IReadOnlyDictionary<string, optim.Optimizer> Optimizers => new Dictionary<string, optim.Optimizer> { ["adamw"] = optimizer };

    // ---- the paper's equations ------------------------------------------------------------

    /// <summary>DINO's loss (Caron et al. 2021, §3.1, eqs. 1–3 and Algorithm 1): with P_t = softmax((g_t − c)/τ_t)
    /// (centred and sharpened) and P_s = softmax(g_s/τ_s), H(P_t, P_s) = −Σ_k P_t log P_s averaged over the batch,
    /// summed over every pair of a teacher view and a <i>different</i> student view and divided by the number of pairs.
    /// <paramref name="studentLogits"/> [V_s, N, K] holds the student's views with the teacher's V_t global views first,
    /// in the same order as <paramref name="teacherLogits"/> [V_t, N, K]; <paramref name="centre"/> is [1, K] or [K].</summary>
    public static Tensor DinoLoss(Tensor studentLogits, Tensor teacherLogits, Tensor centre, double studentTemperature, double teacherTemperature)
    {
        if (studentLogits.dim() != 3 || teacherLogits.dim() != 3 || studentLogits.size(0) < teacherLogits.size(0)
            || studentLogits.size(1) != teacherLogits.size(1) || studentLogits.size(2) != teacherLogits.size(2))
            throw new ArgumentException($"DinoLoss takes student [V_s, N, K] and teacher [V_t, N, K] views with V_s ≥ V_t, got " +
                $"[{string.Join(", ", studentLogits.shape)}] and [{string.Join(", ", teacherLogits.shape)}]");
        using var scope = torch.NewDisposeScope();
        var teacherProbabilities = ((teacherLogits - centre.reshape(1, 1, -1)) / teacherTemperature).softmax(-1).detach();
        var studentLogProbabilities = (studentLogits / studentTemperature).log_softmax(-1);
        // crossEntropy[t, s] = mean_i H(P_t(view t, image i), P_s(view s, image i)).
        var crossEntropy = -torch.einsum("tnk,snk->ts", teacherProbabilities, studentLogProbabilities) / studentLogits.size(1);
        long vt = teacherLogits.size(0), vs = studentLogits.size(0);
        var differentView = torch.ones(vt, vs, dtype: ScalarType.Bool).logical_xor(torch.eye(vt, vs, dtype: ScalarType.Bool));
        return (crossEntropy.masked_select(differentView).sum() / (vt * vs - vt)).MoveToOuterDisposeScope();
    }

    /// <summary>The centre update (Caron et al. 2021, §3.1, eq. 4): c ← m·c + (1 − m)·(1/B)Σ_i g_θt(x_i), the mean over
    /// every teacher output of the batch (all global views).</summary>
    public static Tensor UpdateCentre(Tensor centre, Tensor teacherLogits, double momentum)
    {
        using var scope = torch.NewDisposeScope();
        var batchMean = teacherLogits.reshape(-1, teacherLogits.size(-1)).mean([0], keepdim: true);
        return (centre.reshape(1, -1) * momentum + batchMean * (1 - momentum)).MoveToOuterDisposeScope();
    }

    /// <summary>The teacher momentum λ at a step: a cosine from <see cref="DinoOptions.TeacherMomentum"/> to 1 over the
    /// run (§3.1), <see cref="EmaTeacher{TModule}.CosineMomentum"/>.</summary>
    public double TeacherMomentumAt(int step) => EmaTeacher<BackboneWithHead>.CosineMomentum(step, totalSteps, options.TeacherMomentum);

    // ---- the method ------------------------------------------------------------------------

    /// <summary>Algorithm 1 on a batch of images [N, C, H, W]: multi-crop views, the loss, a student step, the
    /// teacher's EMA update, the centre update.</summary>
    public LossTerms TrainStep(Tensor images)
    {
        var t = StepPhases.Start();
        var globals = torch.stack(Enumerable.Range(0, options.GlobalCrops).Select(_ => globalView.Apply(images, generator)).ToArray());
        var locals = options.LocalCrops > 0 ? torch.stack(Enumerable.Range(0, options.LocalCrops).Select(_ => localView.Apply(images, generator)).ToArray()) : null;
        StepPhases.Stop("method: multi-crop views", t);
        long n = images.size(0);
        Tensor teacherLogits;
        t = StepPhases.Start();
        using (torch.no_grad()) teacherLogits = Teacher.call(globals.flatten(0, 1)).view(options.GlobalCrops, n, -1);
        StepPhases.Stop("method: teacher forward", t);
        var entropy = double.NaN;
        var loss = optimizer.Minimize(() =>
        {
            // One forward per resolution, as the official MultiCropWrapper does.
            var studentGlobal = Student.call(globals.flatten(0, 1)).view(options.GlobalCrops, n, -1);
            var studentLogits = locals is null ? studentGlobal
                : torch.cat([studentGlobal, Student.call(locals.flatten(0, 1)).view(options.LocalCrops, n, -1)]);
            return DinoLoss(studentLogits, teacherLogits, centre, options.StudentTemperature, options.TeacherTemperature);
        });
        teacher.Update(Student, TeacherMomentumAt(step));
        t = StepPhases.Start();
        using (torch.no_grad())
        {
            // The entropy of the teacher's sharpened output: ≈ 0 when one prototype wins everything (collapse).
            using var p = ((teacherLogits - centre) / options.TeacherTemperature).softmax(-1);
            entropy = -(p * p.clamp_min(1e-12).log()).sum(-1).mean().ToDouble();
            var updated = UpdateCentre(centre, teacherLogits, options.CentreMomentum).DetachFromDisposeScope();
            centre.Dispose();
            centre = updated;
        }
        StepPhases.Stop("method: centre and entropy", t);
        step++;
        return new LossTerms(("dino", loss), ("teacher_entropy", entropy), ("teacher_momentum", TeacherMomentumAt(step - 1)));
    }

    /// <summary>The teacher's backbone features [N, D] (DINO evaluates and fine-tunes the teacher), in eval mode
    /// without gradients.</summary>
    public Tensor Predict(Tensor inputs) => Teacher.Evaluate(() => Teacher.Backbone.call(inputs));

    public void Dispose()
    {
        optimizer.Dispose();
        generator.Dispose();
        centre.Dispose();
        teacher.Dispose();
        Student.Dispose();
    }
}

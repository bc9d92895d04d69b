using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Training;

/// <summary>An exponential moving average of a network's weights: θ_teacher ← m·θ_teacher + (1 − m)·θ_student after
/// every step; buffers (BatchNorm statistics) are copied. FixMatch evaluates it (Sohn et al. 2020, §2.4, m = 0.999);
/// mean teacher and DINO use it as the teacher (Tarvainen &amp; Valpola 2017 eq. 1; Caron et al. 2021 §3.1).
/// TorchSharp cannot deep-copy a module, so the teacher is made by the same factory and starts as a copy.</summary>
public sealed class EmaTeacher<TModule> : IDisposable where TModule : nn.Module
{
    public TModule Teacher { get; }

    public EmaTeacher(TModule student, Func<TModule> makeSameArchitecture)
    {
        Teacher = makeSameArchitecture();
        Teacher.to(student.parameters().FirstOrDefault()?.device ?? torch.CPU);
        using (torch.no_grad())
            foreach (var (name, value) in Teacher.state_dict()) value.copy_(student.state_dict()[name]);
        foreach (var p in Teacher.parameters()) p.requires_grad = false;
        Teacher.eval();
    }

    /// <summary>One EMA update with momentum <paramref name="momentum"/> in [0, 1] (1 keeps the teacher as it is).</summary>
    public void Update(TModule student, double momentum)
    {
        if (momentum is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "EMA momentum must be in [0, 1]");
        var t = StepPhases.Start();
        var (parameters, buffers) = PairsWith(student);
        using (torch.no_grad())
        {
            foreach (var (teacher, source) in parameters) teacher.mul_(momentum).add_(source, 1 - momentum);
            foreach (var (teacher, source) in buffers) teacher.copy_(source);
        }
        StepPhases.Stop("EMA update", t);
    }

    // The (teacher, student) tensor pairs, matched by name once per student: FixMatch updates after every step, and
    // rebuilding the name maps each time costs more than the update of a small network. Optimizers and batch norm change
    // these tensors in place, so the pairs stay valid.
    private (nn.Module Student, (Tensor Teacher, Tensor Source)[] Parameters, (Tensor Teacher, Tensor Source)[] Buffers)? pairs;

    private ((Tensor Teacher, Tensor Source)[] Parameters, (Tensor Teacher, Tensor Source)[] Buffers) PairsWith(TModule student)
    {
        if (pairs is { } cached && ReferenceEquals(cached.Student, student)) return (cached.Parameters, cached.Buffers);
        var studentParameters = student.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var studentBuffers = student.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        var p = Teacher.named_parameters().Select(t => ((Tensor)t.parameter, Source(studentParameters, t.name, "parameter"))).ToArray();
        var b = Teacher.named_buffers().Select(t => (t.buffer, Source(studentBuffers, t.name, "buffer"))).ToArray();
        pairs = (student, p, b);
        return (p, b);
    }

    private static Tensor Source(Dictionary<string, Tensor> student, string name, string kind) =>
        student.TryGetValue(name, out var tensor) ? tensor
            : throw new ArgumentException($"the student has no {kind} '{name}': the EMA teacher needs the same architecture");

    /// <summary>DINO's momentum schedule: from <paramref name="start"/> to 1 along a half cosine (Caron et al. 2021, §3.1).</summary>
    public static double CosineMomentum(int step, int total, double start = 0.996) => Schedules.Cosine(step, total, start, 1.0);

    public void Dispose() => Teacher.Dispose();
}

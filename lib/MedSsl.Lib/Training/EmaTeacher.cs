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
        using var noGrad = torch.no_grad();
        var studentParameters = student.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in Teacher.named_parameters())
            parameter.mul_(momentum).add_(studentParameters[name].detach(), 1 - momentum);
        var studentBuffers = student.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        foreach (var (name, buffer) in Teacher.named_buffers()) buffer.copy_(studentBuffers[name]);
    }

    /// <summary>DINO's momentum schedule: from <paramref name="start"/> to 1 along a half cosine (Caron et al. 2021, §3.1).</summary>
    public static double CosineMomentum(int step, int total, double start = 0.996) => Schedules.Cosine(step, total, start, 1.0);

    public void Dispose() => Teacher.Dispose();
}

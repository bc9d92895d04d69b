using MedSsl.Methods;
using MedSsl.Models;
using MedSsl.Tests.Support;
using MedSsl.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedSsl.Tests.Methods;

public sealed class DinoTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "medssl-dino-" + Guid.NewGuid().ToString("N")[..8]);

    public DinoTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void DinoLoss_matches_the_official_loop_over_view_pairs_in_PyTorch()
    {
        torch.manual_seed(11);
        using var student = torch.randn([5, 6, 7], ScalarType.Float64) * 2;   // 2 global + 3 local views, 6 images, K = 7
        using var teacher = torch.randn([2, 6, 7], ScalarType.Float64) * 2;
        using var centre = torch.randn([1, 7], ScalarType.Float64) * 0.5;
        var path = Path.Combine(dir, "inputs.safetensors");
        Safetensors.Save(path, [("student", student), ("teacher", teacher), ("centre", centre)]);
        // facebookresearch/dino, main_dino.py DINOLoss.forward, written out for chunks of the concatenated outputs.
        var reference = PyTorchReference.Run($$"""
            import torch.nn.functional as F
            t = load("{{path}}")
            def dino(student, teacher, centre, ts, tt):
                s_out = [v / ts for v in student.flatten(0, 1).chunk(student.shape[0])]
                t_out = F.softmax((teacher.flatten(0, 1) - centre) / tt, dim=-1).chunk(teacher.shape[0])
                total, n = 0, 0
                for iq, q in enumerate(t_out):
                    for v in range(len(s_out)):
                        if v == iq: continue
                        total += torch.sum(-q * F.log_softmax(s_out[v], dim=-1), dim=-1).mean(); n += 1
                return total / n
            emit({"paper": dino(t["student"], t["teacher"], t["centre"], 0.1, 0.04).item(),
                  "other": dino(t["student"], t["teacher"], t["centre"], 0.3, 0.07).item()})
            """);
        using var paper = Dino.DinoLoss(student, teacher, centre, 0.1, 0.04);
        using var other = Dino.DinoLoss(student, teacher, centre.view(7), 0.3, 0.07);
        Assert.Equal(reference.GetProperty("paper").GetDouble(), paper.ToDouble(), 10);
        Assert.Equal(reference.GetProperty("other").GetDouble(), other.ToDouble(), 10);
    }

    [Fact]
    public void DinoLoss_sends_no_gradient_to_the_teacher_and_names_bad_shapes()
    {
        using var student = torch.randn([3, 2, 4], ScalarType.Float64).requires_grad_();
        using var teacher = torch.randn([2, 2, 4], ScalarType.Float64).requires_grad_();
        using var loss = Dino.DinoLoss(student, teacher, torch.zeros(4, ScalarType.Float64), 0.1, 0.04);
        loss.backward();
        Assert.True(student.grad!.abs().sum().ToDouble() > 0);
        Assert.Null(teacher.grad);
        var error = Assert.Throws<ArgumentException>(() => Dino.DinoLoss(torch.zeros(1, 2, 4), torch.zeros(2, 2, 4), torch.zeros(4), 0.1, 0.04));
        Assert.Contains("V_s ≥ V_t, got [1, 2, 4] and [2, 2, 4]", error.Message);
    }

    [Fact]
    public void Centre_update_and_teacher_momentum_schedule_on_hand_values()
    {
        // Teacher outputs of 2 views × 1 image: mean (4, 5); c ← 0.9·(1, 2) + 0.1·(4, 5).
        using var centre = Dino.UpdateCentre(torch.tensor(new double[] { 1, 2 }), torch.tensor(new double[] { 3, 4, 5, 6 }, 2, 1, 2), 0.9);
        Expect.Close([1.3, 2.3], centre.reshape(-1).data<double>().ToArray(), 1e-12);
        Assert.Equal([1L, 2L], centre.shape);
        // λ(t) = 1 − (1 − 0.996)(cos(πt/T) + 1)/2: 0.996 at the start, 0.998 half-way, 1 at the end.
        Assert.Equal(0.996, EmaTeacher<Linear>.CosineMomentum(0, 100), 12);
        Assert.Equal(0.998, EmaTeacher<Linear>.CosineMomentum(50, 100), 12);
        Assert.Equal(1.0, EmaTeacher<Linear>.CosineMomentum(100, 100), 12);
        using var dino = NewDino(totalSteps: 10);   // starts at 0.99
        Assert.Equal(0.99, dino.TeacherMomentumAt(0), 12);
        Assert.Equal(0.995, dino.TeacherMomentumAt(5), 12);
        Assert.Equal(1.0, dino.TeacherMomentumAt(10), 12);
    }

    [Fact]
    public void The_EMA_teacher_moves_by_one_minus_the_momentum_towards_the_student()
    {
        torch.manual_seed(1);
        using var student = nn.Linear(3, 2);
        using var ema = new EmaTeacher<Linear>(student, () => nn.Linear(3, 2));
        using var before = ema.Teacher.weight!.detach().clone();
        using (torch.no_grad()) student.weight!.fill_(1.0);
        ema.Update(student, 0.9);
        Expect.Close((before * 0.9 + 0.1).reshape(-1).data<float>().ToArray(), ema.Teacher.weight!.reshape(-1).data<float>().ToArray(), 1e-6);
    }

    [Fact]
    public void A_step_trains_the_student_moves_the_teacher_and_the_centre()
    {
        using var dino = NewDino(totalSteps: 5);
        torch.manual_seed(3);
        using var images = torch.rand(6, 3, 16, 16);
        using var studentBefore = Snapshot(dino.Student);
        using var teacherBefore = Snapshot(dino.Teacher);
        using var centreBefore = dino.Centre.clone();
        var losses = dino.TrainStep(images);
        Assert.Equal(["dino", "teacher_entropy", "teacher_momentum"], losses.Keys);
        Assert.True(losses["dino"] > 0 && losses["teacher_entropy"] >= 0);
        Assert.Equal(0.99, losses["teacher_momentum"], 12);
        using var studentAfter = Snapshot(dino.Student);
        using var teacherAfter = Snapshot(dino.Teacher);
        Assert.True((studentAfter - studentBefore).abs().max().ToDouble() > 0);
        // λ = 0.99: the teacher moved 1 % of the way to the updated student.
        Expect.Close((teacherBefore * 0.99 + studentAfter * 0.01).data<float>().ToArray(), teacherAfter.data<float>().ToArray(), 1e-6);
        Assert.True((dino.Centre - centreBefore).abs().max().ToDouble() > 0);
        Assert.All(dino.Teacher.parameters(), p => Assert.False(p.requires_grad));
        using var features = dino.Predict(images);
        Assert.Equal([6L, 16L], features.shape);
    }

    private static Tensor Snapshot(nn.Module module) => torch.cat(module.parameters().Select(p => p.detach().reshape(-1)).ToArray());

    private static Dino NewDino(int totalSteps)
    {
        static BackboneWithHead Make() => new(new VisionTransformer(3, 16, 4, 16, 1, 2), new DinoHead(16, 10, hidden: 16, bottleneck: 8));
        torch.manual_seed(0);
        return new Dino(Make(), Make, totalSteps, new DinoOptions { GlobalCropSize = 16, LocalCropSize = 8, LocalCrops = 2, TeacherMomentum = 0.99, Seed = 4 });
    }
}

using MedSsl.Torch;
using MedSsl.Torch.NN;
using MedSsl.Torch.Optim;
using MedSsl.Torch.Serialization;

namespace MedSsl.Tests.Torch;

/// <summary>Modules, optimizers and schedulers against PyTorch running the same weights and data.</summary>
public class ModuleAndOptimTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("medssl-nn-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static Sequential SmallNet() => new(
        new Conv2d(1, 4, 3, padding: 1), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
        new ConvTranspose2d(4, 2, 2, stride: 2), new InstanceNorm2d(2, affine: true), new GELU(), new Flatten(),
        new Linear(2 * 6 * 6, 3), new LayerNorm(3), new Dropout(0.0));

    private const string PyNet = """
        from torch import nn
        net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.ConvTranspose2d(4, 2, 2, stride=2), nn.InstanceNorm2d(2, affine=True), nn.GELU(), nn.Flatten(),
            nn.Linear(2 * 6 * 6, 3), nn.LayerNorm(3), nn.Dropout(0.0))
        """;

    [Fact]
    public void ForwardBackwardAndBatchNormStatisticsMatchPyTorch()
    {
        torch.manual_seed(5);
        using var net = SmallNet();
        net.to(DType.Float64);
        var x = torch.randn([4, 1, 6, 6], DType.Float64);
        var path = Path.Combine(dir, "net.safetensors");
        net.save(path);
        Safetensors.Save(Path.Combine(dir, "x.safetensors"), [("x", x)]);
        var y = net.call(x);
        y.pow(2).sum().backward();
        var reference = PyTorchReference.Run(PyNet + $$"""

            net = net.double()
            net.load_state_dict(load("{{path}}"))
            x = load("{{Path.Combine(dir, "x.safetensors")}}")["x"]
            y = net(x)
            y.pow(2).sum().backward()
            emit({"y": y.flatten().tolist(), "g": net[0].weight.grad.flatten().tolist(), "rm": net[1].running_mean.tolist(),
                  "names": list(net.state_dict().keys())})
            """);
        Expect.Close(reference.GetProperty("y").Doubles(), y.detach().reshape(-1).ToArray<double>(), 1e-10);
        Expect.Close(reference.GetProperty("g").Doubles(), ((Conv2d)net[0]).weight.grad!.reshape(-1).ToArray<double>(), 1e-9);
        Expect.Close(reference.GetProperty("rm").Doubles(), ((BatchNorm2d)net[1]).running_mean!.ToArray<double>(), 1e-12);
        Assert.Equal(reference.GetProperty("names").EnumerateArray().Select(n => n.GetString()!), net.state_dict().Select(e => e.name));
    }

    [Fact]
    public void EvalModeUsesRunningStatistics()
    {
        using var bn = new BatchNorm1d(2);
        using (torch.no_grad()) bn.running_mean!.copy_(torch.tensor(new float[] { 1, -1 }));
        bn.eval();
        using var y = bn.call(torch.tensor(new float[] { 1, -1, 3, 1 }, 2, 2));
        Expect.Close([0f, 0, 2 / MathF.Sqrt(1 + 1e-5f), 2 / MathF.Sqrt(1 + 1e-5f)], y.detach().ToArray<float>(), 1e-6);
        Assert.Throws<ArgumentException>(() => bn.call(torch.ones(2, 2, 2, 2)));
    }

    [Fact]
    public void FreezingAndParameterCounts()
    {
        using var net = new Sequential(new Linear(3, 4), new ReLU(), new Linear(4, 2, bias: false));
        Assert.Equal(3 * 4 + 4 + 4 * 2, net.parameter_count());
        ((Linear)net[0]).requires_grad_(false);
        Assert.Equal(8, net.parameter_count(trainable_only: true));
        Assert.Equal(["0.weight", "0.bias", "2.weight"], net.named_parameters().Select(p => p.name));
    }

    [Fact]
    public void SafetensorsLoadReportsEveryMismatchAndRejectsCorruptFiles()
    {
        using var a = new Sequential(new Linear(3, 4), new Linear(4, 2));
        using var b = new Sequential(new Linear(3, 5), new Linear(5, 2), new Linear(2, 2));
        var path = Path.Combine(dir, "a.safetensors");
        a.save(path);
        var e = Assert.Throws<StateDictMismatchException>(() => b.load(path));
        Assert.Contains("missing: 2.weight", e.Problems);
        Assert.Contains(e.Problems, p => p.StartsWith("shape of 0.weight"));
        Assert.Contains(e.Problems, p => p.StartsWith("shape of 1.weight"));
        Assert.Contains(path, e.Message);

        var bytes = File.ReadAllBytes(path);
        var truncated = Path.Combine(dir, "truncated.safetensors");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 5)]);
        Assert.Contains("data_offsets", Assert.Throws<InvalidDataException>(() => Safetensors.Load(truncated)).Message);
        var huge = Path.Combine(dir, "huge.safetensors");
        File.WriteAllBytes(huge, [.. BitConverter.GetBytes(long.MaxValue), .. "{}"u8.ToArray()]);
        Assert.Contains("header length", Assert.Throws<InvalidDataException>(() => Safetensors.Load(huge)).Message);

        using var c = new Sequential(new Linear(3, 4), new Linear(4, 2));
        c.load(path);
        Assert.True(((Linear)c[1]).weight.equal(((Linear)a[1]).weight));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp-*"));
    }

    public static TheoryData<string, string> Optimizers => new()
    {
        { "sgd", "torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)" },
        { "sgd-plain", "torch.optim.SGD(ps, lr=0.1)" },
        { "adam", "torch.optim.Adam(ps, lr=0.05, weight_decay=0.01)" },
        { "adamw", "torch.optim.AdamW(ps, lr=0.05, weight_decay=0.1)" },
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void OptimizerTrajectoriesMatchPyTorch(string name, string pyOptimizer)
    {
        var w = torch.tensor(new double[] { 1.0, -2.0, 0.5 }).requires_grad_();
        var b = torch.tensor(new double[] { 0.3 }).requires_grad_();
        Optimizer opt = name switch
        {
            "sgd" => new SGD([w, b], lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 0.01),
            "sgd-plain" => new SGD([w, b], lr: 0.1),
            "adam" => new Adam([w, b], lr: 0.05, weight_decay: 0.01),
            _ => new AdamW([w, b], lr: 0.05, weight_decay: 0.1),
        };
        var scheduler = new CosineAnnealingLR(opt, T_max: 10);
        for (var k = 0; k < 8; k++)
        {
            opt.zero_grad();
            ((w * w).sum() + (w.sum() * b).sum() + b.pow(4).sum()).backward();
            opt.step();
            scheduler.step();
        }
        var reference = PyTorchReference.Run($$"""
            w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
            b = torch.tensor([0.3], requires_grad=True)
            ps = [w, b]
            opt = {{pyOptimizer}}
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
            for _ in range(8):
                opt.zero_grad()
                ((w * w).sum() + (w.sum() * b).sum() + b.pow(4).sum()).backward()
                opt.step()
                sched.step()
            emit({"w": w.tolist(), "b": b.tolist(), "lr": sched.get_last_lr()[0]})
            """);
        Expect.Close(reference.GetProperty("w").Doubles(), w.detach().ToArray<double>(), 1e-12);
        Expect.Close(reference.GetProperty("b").Doubles(), b.detach().ToArray<double>(), 1e-12);
        Assert.Equal(reference.GetProperty("lr").GetDouble(), scheduler.get_last_lr()[0], 12);
    }

    [Fact]
    public void SchedulersFollowTheirClosedForms()
    {
        using var opt = new SGD([torch.zeros(1).requires_grad_()], lr: 1.0);
        Assert.Equal(0.01, new StepLR(opt, 3, 0.1).Factor(7), 12);
        Assert.Equal(Math.Pow(0.5, 0.9), new PolyLR(opt, 10).Factor(5), 12);
        Assert.Equal(0.25, new LinearDecayLR(opt, 4).Factor(3), 12);
        Assert.Equal(0.0, new LinearDecayLR(opt, 4).Factor(9), 12);
    }

    [Fact]
    public void EmaAveragesParametersAndCopiesBuffers()
    {
        using var student = new Sequential(new Linear(2, 2), new BatchNorm1d(2));
        using var teacher = new Sequential(new Linear(2, 2), new BatchNorm1d(2));
        var ema = new ExponentialMovingAverage(student, teacher, decay: 0.9);
        var w0 = ((Linear)teacher[0]).weight.detach().clone();
        Assert.True(w0.equal(((Linear)student[0]).weight.detach()));
        using (torch.no_grad()) ((Linear)student[0]).weight.add_(torch.ones(2, 2));
        student.call(torch.randn(8, 2)).Dispose(); // moves the BN running statistics
        ema.update();
        Expect.Close((w0 + 0.1).reshape(-1).ToArray<float>(), ((Linear)teacher[0]).weight.detach().reshape(-1).ToArray<float>(), 1e-6);
        Assert.True(((BatchNorm1d)teacher[1]).running_mean!.equal(((BatchNorm1d)student[1]).running_mean!));
        Assert.False(((Linear)teacher[0]).weight.requires_grad);
    }
}

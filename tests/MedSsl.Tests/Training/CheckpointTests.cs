using MedSsl.Tests.Support;
using MedSsl.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedSsl.Tests.Training;

/// <summary>Safetensors checkpoints: PyTorch reads ours and we read PyTorch's; bad files and mismatches are named;
/// an optimizer's state resumes training exactly.</summary>
public class CheckpointTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("medssl-ckpt-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static Sequential SmallNet() => nn.Sequential(
        nn.Conv2d(1, 4, 3, padding: 1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 3));

    private const string PyNet = """
        from torch import nn
        net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 3)).double()

        """;

    [Fact]
    public void PyTorchLoadsOurCheckpointAndComputesTheSameOutputs()
    {
        torch.manual_seed(5);
        using var net = SmallNet();
        net.to(ScalarType.Float64);
        net.train();
        using var x = torch.randn([4, 1, 6, 6], ScalarType.Float64);
        net.call(x).Dispose();   // moves BatchNorm's running statistics away from their initial values
        net.eval();
        var path = Path.Combine(dir, "net.safetensors");
        net.SaveSafetensors(path);
        Safetensors.Save(Path.Combine(dir, "x.safetensors"), [("x", x)]);
        using var y = net.call(x);
        var reference = PyTorchReference.Run(PyNet + $$"""

            net.load_state_dict(load("{{path}}"))
            net.eval()
            y = net(load("{{Path.Combine(dir, "x.safetensors")}}")["x"])
            emit({"y": y.flatten().tolist(), "names": list(net.state_dict().keys())})
            """);
        Expect.Close(reference.GetProperty("y").Doubles(), y.reshape(-1).data<double>().ToArray(), 1e-12);
        Assert.Equal(reference.GetProperty("names").EnumerateArray().Select(n => n.GetString()!).Order(), net.state_dict().Keys.Order());
    }

    [Fact]
    public void WeReadACheckpointWrittenByPyTorch()
    {
        var path = Path.Combine(dir, "py.safetensors");
        var reference = PyTorchReference.Run(PyNet + $$"""
            import numpy as np
            torch.manual_seed(3)
            net.train(); net(torch.randn(4, 1, 6, 6, dtype=torch.float64)); net.eval()
            state = net.state_dict()
            # the safetensors layout written by hand: 8-byte header length, JSON header, raw little-endian bytes
            codes = {torch.float64: "F64", torch.int64: "I64"}
            header, blobs, offset = {}, [], 0
            for name, t in state.items():
                b = t.contiguous().numpy().tobytes()
                header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
                blobs.append(b); offset += len(b)
            h = json.dumps(header).encode()
            open("{{path}}", "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
            x = torch.linspace(-1, 1, 36, dtype=torch.float64).reshape(1, 1, 6, 6)
            emit({"y": net(x).flatten().tolist()})
            """);
        using var net = SmallNet();
        net.to(ScalarType.Float64);
        net.LoadSafetensors(path);
        net.eval();
        using var y = net.call(torch.linspace(-1, 1, 36, dtype: ScalarType.Float64).reshape(1, 1, 6, 6));
        Expect.Close(reference.GetProperty("y").Doubles(), y.reshape(-1).data<double>().ToArray(), 1e-12);
    }

    [Fact]
    public void MismatchesAreAllNamedAndCorruptFilesRejected()
    {
        using var a = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2));
        using var b = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2), nn.Linear(2, 2));
        var path = Path.Combine(dir, "a.safetensors");
        a.SaveSafetensors(path);
        var before = ((Linear)b[0]).weight!.clone();
        var e = Assert.Throws<StateDictMismatchException>(() => b.LoadSafetensors(path));
        Assert.Contains("missing '2.weight'", e.Problems);
        Assert.Contains(e.Problems, p => p.StartsWith("'0.weight' has shape [4, 3]"));
        Assert.Contains(e.Problems, p => p.StartsWith("'1.weight' has shape [2, 4]"));
        Assert.Contains(path, e.Message);
        Assert.True(((Linear)b[0]).weight!.equal(before).all().item<bool>());   // nothing changed

        var bytes = File.ReadAllBytes(path);
        var truncated = Path.Combine(dir, "truncated.safetensors");
        File.WriteAllBytes(truncated, bytes[..^5]);
        Assert.Contains("data_offsets", Assert.Throws<InvalidDataException>(() => Safetensors.Load(truncated)).Message);
        var huge = Path.Combine(dir, "huge.safetensors");
        File.WriteAllBytes(huge, [.. BitConverter.GetBytes(long.MaxValue), .. "{}"u8.ToArray()]);
        var hugeError = Assert.Throws<InvalidDataException>(() => Safetensors.Load(huge)).Message;
        Assert.Contains("header length", hugeError);
        Assert.Contains(huge, hugeError);

        using var c = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2));
        c.LoadSafetensors(path);
        Assert.True(((Linear)c[1]).weight!.equal(((Linear)a[1]).weight!).all().item<bool>());
        Assert.Empty(Directory.GetFiles(dir, "*.tmp-*"));
    }

    [Fact]
    public void AdamResumesExactlyFromItsCheckpoint()
    {
        double[] Train(Sequential net, optim.Optimizer optimizer, int steps, int start)
        {
            for (var k = start; k < start + steps; k++)
            {
                using var x = torch.linspace(-1, 1, 12, dtype: ScalarType.Float64).reshape(4, 3) * (k + 1);
                optimizer.Minimize(() => net.call(x).pow(2).mean());
            }
            return net.parameters().SelectMany(p => p.detach().reshape(-1).data<double>().ToArray()).ToArray();
        }
        torch.manual_seed(1);
        using var net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1));
        net.to(ScalarType.Float64);
        using var adam = optim.Adam(net.parameters(), lr: 0.05);
        Train(net, adam, 3, 0);
        net.SaveSafetensors(Path.Combine(dir, "model.safetensors"));
        adam.SaveSafetensors(Path.Combine(dir, "adam.safetensors"));
        var continued = Train(net, adam, 3, 3);

        torch.manual_seed(99);
        using var resumedNet = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1));
        resumedNet.to(ScalarType.Float64);
        resumedNet.LoadSafetensors(Path.Combine(dir, "model.safetensors"));
        using var resumedAdam = optim.Adam(resumedNet.parameters(), lr: 0.05);
        resumedAdam.LoadSafetensors(Path.Combine(dir, "adam.safetensors"));
        Assert.Equal(continued, Train(resumedNet, resumedAdam, 3, 3));

        using var freshAdam = optim.Adam(resumedNet.parameters(), lr: 0.05);   // without the state the steps differ
        resumedNet.LoadSafetensors(Path.Combine(dir, "model.safetensors"));
        Assert.NotEqual(continued, Train(resumedNet, freshAdam, 3, 3));
        using var sgd = optim.SGD(resumedNet.parameters(), 0.1);
        Assert.Contains("Adam", Assert.Throws<InvalidDataException>(() => sgd.LoadSafetensors(Path.Combine(dir, "adam.safetensors"))).Message);
    }
}

using MedSsl.Torch;

namespace MedSsl.Tests.Torch;

public class ErrorAndMemoryTests
{
    [Fact]
    public void ShapeErrorIsATorchExceptionWithLibtorchsMessage()
    {
        using var a = torch.ones(2, 3);
        using var b = torch.ones(2, 3);
        var e = Assert.Throws<TorchException>(() => a.matmul(b));
        Assert.Contains("cannot be multiplied", e.Message);
        Assert.DoesNotContain("Exception raised from", e.Message); // no C++ backtrace
    }

    [Fact]
    public void DtypeAndDeviceErrorsSurface()
    {
        using var f = torch.ones(3);
        using var i = torch.ones([3], DType.Int64);
        Assert.Contains("expected scalar type", Assert.Throws<TorchException>(() => F.cross_entropy(torch.ones(2, 3), torch.ones(2))).Message, StringComparison.OrdinalIgnoreCase);
        if (!torch.cuda.is_available())
            Assert.IsType<TorchException>(Record.Exception(() => f.to(Device.CUDA)));
        Assert.Throws<ArgumentException>(() => i.ToArray<float>());
    }

    [Fact]
    public void BackwardWithoutGradIsAnError()
    {
        using var x = torch.ones(2);
        var e = Assert.Throws<TorchException>(() => x.sum().backward());
        Assert.Contains("does not require grad", e.Message);
    }

    [Fact]
    public void UnknownOperatorAndMissingArgumentAreNamed()
    {
        Assert.Contains("aten::no_such_op", Assert.Throws<TorchException>(() => new Op("aten::no_such_op").Call()).Message);
        Assert.Contains("missing argument 'other'", Assert.Throws<TorchException>(() => new Op("aten::add", "Tensor").Call(torch.ones(1))).Message);
    }

    [Fact]
    public void UsingADisposedTensorThrowsInsteadOfCrashing()
    {
        var t = torch.ones(2);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t + 1);
        Assert.Equal("Tensor(disposed)", t.ToString());
    }

    [Fact]
    public void DisposeScopesFreeWhatTheyOwn()
    {
        var before = torch.live_tensors;
        Tensor kept, detached;
        using (torch.NewDisposeScope())
        {
            var a = torch.ones(10);
            var b = a * 2 + 1;
            using (torch.NewDisposeScope())
            {
                var inner = b.exp();
                kept = (inner * 2).MoveToOuterDisposeScope();
            }
            Assert.True(!kept.IsDisposed);
            detached = (b - 1).DetachFromDisposeScope();
        }
        Assert.True(kept.IsDisposed);
        Assert.False(detached.IsDisposed);
        Assert.Equal(before + 1, torch.live_tensors);
        detached.Dispose();
        Assert.Equal(before, torch.live_tensors);
    }

    [Fact]
    public void TrainingStepsDoNotLeakNativeTensors()
    {
        using var model = new MedSsl.Torch.NN.Sequential(new MedSsl.Torch.NN.Linear(4, 8), new MedSsl.Torch.NN.ReLU(), new MedSsl.Torch.NN.Linear(8, 1));
        using var opt = new MedSsl.Torch.Optim.Adam(model.parameters(), lr: 1e-2);
        void Step()
        {
            using var scope = torch.NewDisposeScope();
            opt.zero_grad();
            F.mse_loss(model.call(torch.randn(16, 4)), torch.zeros(16, 1)).backward();
            opt.step();
        }
        Step(); // creates the optimizer state once
        var live = torch.live_tensors;
        for (var k = 0; k < 20; k++) Step();
        Assert.Equal(live, torch.live_tensors);
    }
}

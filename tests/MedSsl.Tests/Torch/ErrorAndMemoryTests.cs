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

    /// <summary>Plain gradient descent that records how many native tensors are alive when it updates.</summary>
    private sealed class UpdateRecorder(IEnumerable<Tensor> parameters) : MedSsl.Torch.Optim.Optimizer(OneGroup(parameters), lr: 0.1, weight_decay: 0)
    {
        public long LiveAtUpdate { get; private set; } = -1;

        protected override void Update(Tensor p, Tensor grad, MedSsl.Torch.Optim.ParamGroup group, Dictionary<string, Tensor> state)
        {
            LiveAtUpdate = torch.live_tensors;
            p.add_(grad, -group.lr);
        }
    }

    private static Tensor DeepLoss(Tensor w)
    {
        var h = w;
        for (var k = 0; k < 20; k++) h = (h * 1.1).tanh();
        return h.pow(2).sum();
    }

    [Fact]
    public void MinimizeFreesTheForwardGraphBeforeTheUpdate()
    {
        using var w = torch.linspace(-1, 1, 8, dtype: DType.Float64).requires_grad_();
        using var optimizer = new UpdateRecorder([w]);
        var before = torch.live_tensors;
        using (torch.NewDisposeScope())
        {
            optimizer.zero_grad();
            DeepLoss(w).backward();   // the same step by hand, graph alive through the update
            optimizer.step();
        }
        Assert.True(optimizer.LiveAtUpdate >= before + 40, $"{optimizer.LiveAtUpdate - before} tensors alive at the update by hand");

        using var loss = optimizer.minimize(() => DeepLoss(w));
        Assert.True(optimizer.LiveAtUpdate <= before + 3, $"{optimizer.LiveAtUpdate - before} tensors alive at the update in minimize");
        Assert.Equal(before + 1, torch.live_tensors);   // only the returned loss
        Assert.False(loss.requires_grad);
    }

    [Fact]
    public void MinimizeTakesTheSameStepAsZeroGradBackwardStep()
    {
        using var a = torch.linspace(-1, 1, 8, dtype: DType.Float64).requires_grad_();
        using var b = torch.linspace(-1, 1, 8, dtype: DType.Float64).requires_grad_();
        using var byHand = new MedSsl.Torch.Optim.Adam([a], lr: 0.05);
        using var byMinimize = new MedSsl.Torch.Optim.Adam([b], lr: 0.05);
        for (var k = 0; k < 3; k++)
        {
            double expected;
            using (torch.NewDisposeScope())
            {
                byHand.zero_grad();
                var loss = DeepLoss(a);
                loss.backward();
                byHand.step();
                expected = loss.item<double>();
            }
            using var value = byMinimize.minimize(() => DeepLoss(b));
            Assert.Equal(expected, value.item<double>());
        }
        Assert.Equal(a.detach().ToArray<double>(), b.detach().ToArray<double>());
    }
}

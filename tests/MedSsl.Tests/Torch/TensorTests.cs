using MedSsl.Torch;

namespace MedSsl.Tests.Torch;

public class TensorTests
{
    [Fact]
    public void RoundTripsDataShapeAndDtype()
    {
        using var t = torch.tensor(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        Assert.Equal([2L, 3L], t.shape);
        Assert.Equal(DType.Float32, t.dtype);
        Assert.Equal(Device.CPU.Type, t.device.Type);
        Assert.Equal([1f, 2, 3, 4, 5, 6], t.ToArray<float>());
        using var m = torch.tensor(new double[,] { { 1, 2 }, { 3, 4 } });
        Assert.Equal([2L, 2L], m.shape);
        Assert.Equal(10.0, m.sum().item<double>());
    }

    [Fact]
    public void ArithmeticBroadcasts()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new double[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var b = torch.tensor(new double[] { 10, 20, 30 });
        Assert.Equal([11.0, 22, 33, 14, 25, 36], (a + b).ToArray<double>());
        Assert.Equal([9.0, 18, 27, 6, 15, 24], (b - a).ToArray<double>());
        Assert.Equal([2.0, 4, 6, 8, 10, 12], (2 * a).ToArray<double>());
        Assert.Equal([1.0, 0.5, 1.0 / 3, 0.25, 0.2, 1.0 / 6], (1 / a).ToArray<double>());
        Assert.Equal([false, false, true, true, true, true], (a > 2.5).ToArray<bool>());
        Assert.Equal([14.0, 32, 32, 77], a.matmul(a.t()).ToArray<double>());
    }

    [Fact]
    public void IndexingFollowsPython()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.arange(12).reshape(3, 4);
        Assert.Equal([4L, 5, 6, 7], t[1].ToArray<long>());
        Assert.Equal([1L, 5, 9], t[.., 1].ToArray<long>());
        Assert.Equal([5L, 6, 9, 10], t[1.., 1..3].ToArray<long>());
        Assert.Equal([11L], t[^1, ^1].reshape(-1).ToArray<long>());
        Assert.Equal([0L, 2, 8, 10], t[TensorIndex.Slice(null, null, 2), TensorIndex.Slice(0, null, 2)].ToArray<long>());
        Assert.Equal([1L, 3, 4], t[TensorIndex.NewAxis].shape);
        Assert.Equal([1L, 4], t[TensorIndex.NewAxis, 0, ..].shape);
        Assert.Equal([8L, 9, 10, 11, 0, 1, 2, 3], t[torch.tensor(new long[] { 2, 0 })].ToArray<long>());
        Assert.Equal([7L, 8, 9, 10, 11], t[t > 6].ToArray<long>());
        Assert.Equal([3L, 7, 11], t[TensorIndex.Ellipsis, ^1].ToArray<long>());
        t[0, ..] = torch.tensor(new long[] { -1, -2, -3, -4 });
        t[t > 9] = torch.tensor(new long[] { 0 });
        Assert.Equal([-1L, -2, -3, -4, 4, 5, 6, 7, 8, 9, 0, 0], t.ToArray<long>());
    }

    [Fact]
    public void SameSeedSameNumbersAndGeneratorsAreIndependent()
    {
        torch.manual_seed(42);
        var a = torch.randn(5).ToArray<float>();
        torch.manual_seed(42);
        var b = torch.randn(5).ToArray<float>();
        Assert.Equal(a, b);
        using var g1 = new Generator(3);
        using var g2 = new Generator(3);
        var x = torch.rand([4], generator: g1).ToArray<float>();
        torch.randn(100).Dispose(); // global draws must not disturb a private generator
        Assert.Equal(x, torch.rand([4], generator: g2).ToArray<float>());
        Assert.NotEqual(x, torch.rand([4], generator: g1).ToArray<float>());
    }

    [Fact]
    public void MatchesPyTorchForTheSameSeed()
    {
        torch.manual_seed(123);
        var ours = torch.randn([6], DType.Float64).ToArray<double>();
        var reference = PyTorchReference.Run("torch.manual_seed(123)\nemit(torch.randn(6).tolist())").Doubles();
        Expect.Close(reference, ours, 0);
    }

    [Fact]
    public void ReductionsAndSelection()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.tensor(new double[] { 3, 1, 4, 1, 5, 9 }, 2, 3);
        var (values, indices) = t.max(1);
        Assert.Equal([4.0, 9], values.ToArray<double>());
        Assert.Equal([2L, 2], indices.ToArray<long>());
        Assert.Equal(23.0 / 6, t.mean().item<double>(), 12);
        Assert.Equal([2L, 2], t.argmax(1).ToArray<long>());
        Expect.Close([Math.Log(Math.Exp(3) + Math.Exp(1) + Math.Exp(4)), Math.Log(Math.Exp(1) + Math.Exp(5) + Math.Exp(9))], t.logsumexp(1).ToArray<double>(), 1e-12);
        Assert.Equal([3.0, 1, 4], t.chunk(2, 0)[0].reshape(-1).ToArray<double>());
        Assert.Equal([2L, 6], torch.stack([t, t], 1).reshape(2, 6).shape);
        Assert.Equal([4L, 3], torch.cat([t, t]).shape);
    }

    [Fact]
    public void InPlaceOpsChangeTheTensorAndReturnIt()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.tensor(new double[] { 1, 2, 4, 8, 0.5, 0.25 }, 2, 3);
        Assert.Same(t, t.reciprocal_());
        Assert.Equal([1.0, 0.5, 0.25, 0.125, 2, 4], t.ToArray<double>());
        Assert.Same(t, t.fill_diagonal_(0));
        Assert.Equal([0.0, 0.5, 0.25, 0.125, 0, 4], t.ToArray<double>());
        Assert.Same(t, t.neg_());
        Assert.Equal([0.0, -0.5, -0.25, -0.125, 0, -4], t.ToArray<double>());
    }

    [Fact]
    public void NativeHeapInUseTracksALiveTensor()
    {
        // mallinfo2 counts every thread's allocations; a 64 MiB tensor is far above anything else moving meanwhile.
        var before = torch.native_heap_in_use_bytes;
        using (var big = torch.zeros([8L << 20], DType.Float64))
            Assert.InRange(torch.native_heap_in_use_bytes - before, 60L << 20, 72L << 20);
        Assert.InRange(torch.native_heap_in_use_bytes - before, -(8L << 20), 8L << 20);
    }

    [Fact]
    public void ThreadsAndVersionAreReported()
    {
        Assert.Equal(Environment.ProcessorCount, torch.get_num_threads());
        Assert.Matches(@"^\d+\.\d+\.\d+", torch.version);
        Assert.Contains("BLAS", torch.show_config());
    }
}

using MedSsl.Data.Augmentation;
using MedSsl.Methods;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Runtime;

/// <summary>Inputs that abort the process inside TorchSharp 0.107's native code (SIGABRT, no managed exception) are
/// refused by the library's checked APIs with an <see cref="ArgumentException"/> naming them. A regression here
/// aborts the test host, which CI reports as a crash.</summary>
public class NativeAbortTests
{
    [Fact]
    public void CheckedMatMulRefusesMixedBoolAndIntegerTypes()
    {
        using var scope = torch.NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => torch.ones(2, 3).CheckedMatMul(torch.ones(3, 2, dtype: ScalarType.Float64)));
        Assert.Contains("Float32 @ Float64", e.Message);
        e = Assert.Throws<ArgumentException>(() => torch.ones(2, 3, dtype: ScalarType.Bool).CheckedMatMul(torch.ones(3, 2, dtype: ScalarType.Bool)));
        Assert.Contains("Bool @ Bool", e.Message);
        Assert.Throws<ArgumentException>(() => torch.ones(2, 3, dtype: ScalarType.Int64).CheckedMatMul(torch.ones(3, 2, dtype: ScalarType.Int64)));
        Assert.Equal(12.0, torch.ones(2, 3, dtype: ScalarType.Float64).CheckedMatMul(torch.ones(3, 2, dtype: ScalarType.Float64)).sum().item<double>());
    }

    [Fact]
    public void PartitionUncertaintyIndexRefusesMixedTypes()
    {
        using var scope = torch.NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => Pica.PartitionUncertaintyIndex(torch.ones(4, 3), torch.ones(4, 3, dtype: ScalarType.Float64)));
        Assert.Contains("Float32 and Float64", e.Message);
        Assert.Throws<ArgumentException>(() => Pica.PartitionUncertaintyIndex(torch.ones(4, 3, dtype: ScalarType.Int32), torch.ones(4, 3, dtype: ScalarType.Int32)));
        Assert.Equal([3L, 3], Pica.PartitionUncertaintyIndex(torch.ones(4, 3, dtype: ScalarType.Float64), torch.ones(4, 3, dtype: ScalarType.Float64)).shape);
    }

    [Fact]
    public void AffineTakesTheTwoByThreeMatricesItsDocumentationDescribesAndNamesOtherShapes()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.arange(2 * 1 * 4 * 4, dtype: ScalarType.Float32).view(2, 1, 4, 4);
        // A shift by one pixel to the right, as [B, 2, 3] and as [B, 3, 3]: the same images.
        var twoByThree = torch.tensor(new double[] { 1, 0, -1, 0, 1, 0 }).view(1, 2, 3).expand(2, 2, 3).contiguous();
        var threeByThree = torch.tensor(new double[] { 1, 0, -1, 0, 1, 0, 0, 0, 1 }).view(1, 3, 3).expand(2, 3, 3).contiguous();
        var shifted = ImageOps.Affine(x, twoByThree);
        Assert.True(shifted.eq(ImageOps.Affine(x, threeByThree)).all().item<bool>());
        Assert.Equal(0f, shifted[0, 0, 0, 0].item<float>());      // black enters on the left
        Assert.Equal(0f, shifted[0, 0, 0, 1].item<float>());      // input (0, 0) moved to (0, 1)
        Assert.Equal(16f, shifted[1, 0, 0, 1].item<float>());

        var e = Assert.Throws<ArgumentException>(() => ImageOps.Affine(x, torch.ones(2, 3)));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Throws<ArgumentException>(() => ImageOps.Affine(x, torch.ones(3, 2, 3)));   // batch mismatch
        Assert.Throws<ArgumentException>(() => ImageOps.Affine(x, torch.ones(2, 2, 3, dtype: ScalarType.Int64)));
        Assert.Throws<ArgumentException>(() => ImageOps.Affine(torch.ones(1, 4, 4), torch.ones(1, 2, 3)));
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Training;

/// <summary>Guards around TorchSharp calls whose native errors are not turned into exceptions.</summary>
public static class TensorChecks
{
    /// <summary><c>a.matmul(b)</c> with PyTorch's shape rules checked first. TorchSharp 0.107's native matmul
    /// (THSTensor_matmul) lacks the try/catch its other operators have, so a shape error there aborts the whole
    /// process instead of throwing; this throws an <see cref="ArgumentException"/> naming both shapes, or both types
    /// when they differ, are not floating-point (bool and integer matmul abort there too) or sit on different devices.</summary>
    public static Tensor CheckedMatMul(this Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.is_floating_point())
            throw new ArgumentException($"matmul: types {a.dtype} @ {b.dtype}: both operands must have one floating-point type (convert with .to(...))");
        if (a.device_type != b.device_type || a.device_index != b.device_index)
            throw new ArgumentException($"matmul: operands on {a.device} and {b.device}: move them to one device");
        if (a.dim() == 0 || b.dim() == 0 || !Compatible(a.shape, b.shape))
            throw new ArgumentException($"matmul: shapes [{string.Join(", ", a.shape)}] @ [{string.Join(", ", b.shape)}] cannot be multiplied");
        return a.matmul(b);
    }

    private static bool Compatible(long[] a, long[] b)
    {
        // 1-d operands act as a row (left) or a column (right) vector that is removed afterwards.
        var inner = b.Length == 1 ? b[0] : b[^2];
        if (a[^1] != inner) return false;
        var batchA = a.Length > 2 ? a[..^2] : [];
        var batchB = b.Length > 2 ? b[..^2] : [];
        for (int i = batchA.Length - 1, j = batchB.Length - 1; i >= 0 && j >= 0; i--, j--)
            if (batchA[i] != batchB[j] && batchA[i] != 1 && batchB[j] != 1) return false;
        return true;
    }
}

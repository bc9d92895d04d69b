using TorchSharp;

namespace MedSsl.Metrics;

/// <summary>Overlap and distance between two 2-D binary masks [H, W] (prediction vs reference).</summary>
public static class Segmentation
{
    /// <summary>Dice = 2|A∩B| / (|A| + |B|); 1 when both masks are empty (nothing to find, nothing found).</summary>
    public static double Dice(bool[,] a, bool[,] b)
    {
        var (inter, sizeA, sizeB) = Counts(a, b);
        return sizeA + sizeB == 0 ? 1 : 2.0 * inter / (sizeA + sizeB);
    }

    /// <summary>Dice of one class between two label maps of any shape (e.g. volumes [D, H, W] flattened): A = voxels
    /// where <paramref name="predicted"/> is <paramref name="label"/>, B = the same in <paramref name="reference"/>;
    /// 1 when the class is in neither.</summary>
    public static double Dice(ReadOnlySpan<byte> predicted, ReadOnlySpan<byte> reference, byte label)
    {
        if (predicted.Length != reference.Length)
            throw new ArgumentException($"label maps differ in size: {predicted.Length} predicted vs {reference.Length} reference voxels");
        int inter = 0, sizeA = 0, sizeB = 0;
        for (var i = 0; i < predicted.Length; i++)
        {
            bool a = predicted[i] == label, b = reference[i] == label;
            if (a) sizeA++;
            if (b) sizeB++;
            if (a && b) inter++;
        }
        return sizeA + sizeB == 0 ? 1 : 2.0 * inter / (sizeA + sizeB);
    }

    /// <summary>IoU (Jaccard) = |A∩B| / |A∪B| of one class between two label maps, A and B as in
    /// <see cref="Dice(ReadOnlySpan{byte}, ReadOnlySpan{byte}, byte)"/>; 1 when the class is in neither.</summary>
    public static double Iou(ReadOnlySpan<byte> predicted, ReadOnlySpan<byte> reference, byte label)
    {
        if (predicted.Length != reference.Length)
            throw new ArgumentException($"label maps differ in size: {predicted.Length} predicted vs {reference.Length} reference voxels");
        int inter = 0, union = 0;
        for (var i = 0; i < predicted.Length; i++)
        {
            bool a = predicted[i] == label, b = reference[i] == label;
            if (a || b) union++;
            if (a && b) inter++;
        }
        return union == 0 ? 1 : (double)inter / union;
    }

    /// <summary>IoU (Jaccard) = |A∩B| / |A∪B|; 1 when both masks are empty.</summary>
    public static double Iou(bool[,] a, bool[,] b)
    {
        var (inter, sizeA, sizeB) = Counts(a, b);
        var union = sizeA + sizeB - inter;
        return union == 0 ? 1 : (double)inter / union;
    }

    /// <summary><see cref="Iou(bool[,], bool[,])"/> and <see cref="Dice(bool[,], bool[,])"/> of each image of label maps [N, H, W] (foreground: non-zero)
    /// against reference maps of the same shape, computed in libtorch; 1 where both are empty.</summary>
    public static (double Iou, double Dice)[] PerImage(torch.Tensor predicted, torch.Tensor reference)
    {
        if (predicted.dim() != 3 || !predicted.shape.SequenceEqual(reference.shape))
            throw new ArgumentException($"per-image overlap takes label maps [N, H, W] of one shape, got [{string.Join(", ", predicted.shape)}] and [{string.Join(", ", reference.shape)}]");
        using var scope = torch.NewDisposeScope();
        var (a, b) = (predicted.ne(0), reference.ne(0));
        double[] Count(torch.Tensor m) => m.sum([1, 2]).to(torch.ScalarType.Float64).data<double>().ToArray();
        var (inter, sizeA, sizeB) = (Count(a.logical_and(b)), Count(a), Count(b));
        return [.. inter.Select((i, k) => (sizeA[k] + sizeB[k] - i == 0 ? 1 : i / (sizeA[k] + sizeB[k] - i), sizeA[k] + sizeB[k] == 0 ? 1 : 2 * i / (sizeA[k] + sizeB[k])))];
    }

    /// <summary>Precision = |A∩B| / |A| of prediction A against reference B; 1 when nothing is predicted.</summary>
    public static double Precision(bool[,] predicted, bool[,] reference)
    {
        var (inter, sizeA, _) = Counts(predicted, reference);
        return sizeA == 0 ? 1 : (double)inter / sizeA;
    }

    /// <summary>Recall = |A∩B| / |B| of prediction A against reference B; 1 when the reference is empty.</summary>
    public static double Recall(bool[,] predicted, bool[,] reference)
    {
        var (inter, _, sizeB) = Counts(predicted, reference);
        return sizeB == 0 ? 1 : (double)inter / sizeB;
    }

    /// <summary>Average Hausdorff distance in pixels, the mean of the two directed average distances
    /// AHD(A, B) = ½ (1/|A| Σ_{a∈A} min_{b∈B} ‖a − b‖ + 1/|B| Σ_{b∈B} min_{a∈A} ‖a − b‖)
    /// over all foreground pixels (Aydin et al., "On the usage of average Hausdorff distance for segmentation
    /// performance assessment", BMC Med. Imaging 21:2, 2021, eq. 1). Exact: the nearest-pixel distances come
    /// from an exact Euclidean distance transform, so the cost is O(H·W), not O(|A|·|B|).</summary>
    public static double AverageHausdorff(bool[,] a, bool[,] b)
    {
        var (_, sizeA, sizeB) = Counts(a, b);
        if (sizeA == 0 || sizeB == 0)
            throw new ArgumentException("average Hausdorff distance is undefined when a mask is empty " +
                                        $"(|A| = {sizeA}, |B| = {sizeB})");
        return 0.5 * (DirectedAverage(a, b) + DirectedAverage(b, a));
    }

    /// <summary>Mean over the pixels of <paramref name="from"/> of the distance to the nearest pixel of <paramref name="to"/>.</summary>
    private static double DirectedAverage(bool[,] from, bool[,] to)
    {
        var squared = SquaredDistanceTransform(to);
        int h = from.GetLength(0), w = from.GetLength(1);
        double sum = 0;
        var count = 0;
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                if (from[y, x]) { sum += Math.Sqrt(squared[y, x]); count++; }
        return sum / count;
    }

    /// <summary>Squared Euclidean distance from every pixel to the nearest foreground pixel of the mask:
    /// Felzenszwalb &amp; Huttenlocher's separable lower-envelope transform (Theory of Computing 8, 2012),
    /// down the columns, then along the rows.</summary>
    private static double[,] SquaredDistanceTransform(bool[,] mask)
    {
        const double far = 1e20;
        int h = mask.GetLength(0), w = mask.GetLength(1);
        var d = new double[h, w];
        var f = new double[Math.Max(h, w)];
        var g = new double[Math.Max(h, w)];
        for (var x = 0; x < w; x++)
        {
            for (var y = 0; y < h; y++) f[y] = mask[y, x] ? 0 : far;
            LowerEnvelope(f, g, h);
            for (var y = 0; y < h; y++) d[y, x] = g[y];
        }
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++) f[x] = d[y, x];
            LowerEnvelope(f, g, w);
            for (var x = 0; x < w; x++) d[y, x] = g[x];
        }
        return d;
    }

    /// <summary>g(p) = min_q (p − q)² + f(q) for p, q in [0, n): the lower envelope of parabolas.</summary>
    private static void LowerEnvelope(double[] f, double[] g, int n)
    {
        var v = new int[n];          // parabola vertices in the envelope
        var z = new double[n + 1];   // boundaries between them
        var k = 0;
        v[0] = 0;
        z[0] = double.NegativeInfinity;
        z[1] = double.PositiveInfinity;
        for (var q = 1; q < n; q++)
        {
            double Intersection() => (f[q] + (double)q * q - (f[v[k]] + (double)v[k] * v[k])) / (2.0 * (q - v[k]));
            var s = Intersection();
            while (s <= z[k]) { k--; s = Intersection(); }   // z[0] = −∞ stops the walk
            k++;
            v[k] = q;
            z[k] = s;
            z[k + 1] = double.PositiveInfinity;
        }
        k = 0;
        for (var p = 0; p < n; p++)
        {
            while (z[k + 1] < p) k++;
            g[p] = (double)(p - v[k]) * (p - v[k]) + f[v[k]];
        }
    }

    private static (int inter, int sizeA, int sizeB) Counts(bool[,] a, bool[,] b)
    {
        MetricChecks.SameShape(a, b, "mask A", "mask B");
        int inter = 0, sizeA = 0, sizeB = 0;
        foreach (var (x, y) in a.Cast<bool>().Zip(b.Cast<bool>()))
        {
            if (x) sizeA++;
            if (y) sizeB++;
            if (x && y) inter++;
        }
        return (inter, sizeA, sizeB);
    }
}

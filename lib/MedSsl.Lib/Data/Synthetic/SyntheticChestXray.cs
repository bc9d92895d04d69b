using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Data.Synthetic;

/// <summary>The acquisition source of a chest X-ray. The two differ in their intensity distribution as the four data
/// sets of Haque et al. (2021, Fig. 2b) do: B is brighter and flatter (gamma 0.6, contrast 0.75, an offset and an
/// exposure gradient), noisier, with stronger rib texture and slightly larger, softer-edged lungs.</summary>
public enum XraySource { A, B }

/// <summary>Square grey chest X-ray-like images [N, 1, S, S] with their lung masks and classes (0 normal,
/// 1 pneumonia-like), all from one source. Which of these a model may see is the study's business.</summary>
public sealed class ChestXraySet
{
    public static readonly IReadOnlyList<string> ClassNames = ["normal", "pneumonia"];

    private readonly float[] pixels;   // [N, S, S]
    private readonly bool[] masks;     // [N, S, S]
    private readonly int[] classes;

    public ChestXraySet(XraySource source, int size, float[] pixels, bool[] masks, int[] classes)
    {
        var n = classes.Length;
        if (pixels.Length != n * size * size || masks.Length != n * size * size)
            throw new ArgumentException($"{pixels.Length} pixels and {masks.Length} mask cells for {n} images of {size}×{size}");
        if (classes.Any(c => c is < 0 or > 1)) throw new ArgumentException("classes are 0 (normal) or 1 (pneumonia)", nameof(classes));
        Source = source;
        Size = size;
        this.pixels = pixels;
        this.masks = masks;
        this.classes = classes;
    }

    public XraySource Source { get; }
    public int Size { get; }
    public int Count => classes.Length;
    public IReadOnlyList<int> Classes => classes;

    /// <summary>Images [N, 1, S, S] in [0, 1] (all, or those at <paramref name="indices"/> in that order).</summary>
    public Tensor Images(IReadOnlyList<int>? indices = null) => Gather(pixels, indices, v => v);

    /// <summary>Lung masks [N, 1, S, S] as 0/1 floats.</summary>
    public Tensor Masks(IReadOnlyList<int>? indices = null) => Gather(masks, indices, v => v ? 1f : 0f);

    /// <summary>Classes [N] as int64.</summary>
    public Tensor Labels(IReadOnlyList<int>? indices = null) =>
        torch.tensor((indices ?? Enumerable.Range(0, Count).ToArray()).Select(i => (long)classes[i]).ToArray());

    /// <summary>Image <paramref name="index"/> as [row, column].</summary>
    public float[,] Image(int index) => Plane(pixels, index, v => v);

    /// <summary>Lung mask <paramref name="index"/> as [row, column].</summary>
    public bool[,] Mask(int index) => Plane(masks, index, v => v);

    /// <summary>Lung mask <paramref name="index"/> as 0/1 floats [row, column], for drawing over the image.</summary>
    public float[,] MaskImage(int index) => Plane(masks, index, v => v ? 1f : 0f);

    /// <summary>The set as a user's data would come: each image labelled with its class (normal or pneumonia, one label
    /// each) and annotated with its lung mask (background 0, lungs 1), in the split <paramref name="split"/> gives it;
    /// exam and patient ids are the source and the index.</summary>
    public SegmentationDataset ToDataset(Func<int, DataSplit> split)
    {
        var ids = Enumerable.Range(0, Count).Select(i => $"{Source}{i:D5}").ToArray();
        var labels = new bool[Count * 2];
        for (var i = 0; i < Count; i++) labels[i * 2 + classes[i]] = true;
        var images = new ImageDataset(1, Size, Size, ClassNames, pixels, labels, ids, ids, [.. Enumerable.Range(0, Count).Select(split)]);
        return new SegmentationDataset(images, [.. masks.Select(m => m ? (byte)1 : (byte)0)], ["background", "lungs"]);
    }

    private Tensor Gather<T>(T[] source, IReadOnlyList<int>? indices, Func<T, float> convert)
    {
        indices ??= Enumerable.Range(0, Count).ToArray();
        var plane = Size * Size;
        var values = new float[indices.Count * plane];
        for (var k = 0; k < indices.Count; k++)
            for (var p = 0; p < plane; p++) values[k * plane + p] = convert(source[indices[k] * plane + p]);
        return torch.tensor(values, indices.Count, 1, Size, Size);
    }

    private T2[,] Plane<T, T2>(T[] source, int index, Func<T, T2> convert)
    {
        var result = new T2[Size, Size];
        for (var y = 0; y < Size; y++)
            for (var x = 0; x < Size; x++) result[y, x] = convert(source[(index * Size + y) * Size + x]);
        return result;
    }
}

/// <summary>The four sets of the MultiMix protocol (Haque et al. 2021, §3.1): a classification training set and a
/// segmentation training set from source A (CheX and JSRT in the paper), and test sets from source A (in-domain) and
/// from source B (cross-domain: MCU and NIHX). The test sets carry both classes and masks.</summary>
public sealed record ChestXrayData(ChestXraySet Classification, ChestXraySet Segmentation, ChestXraySet TestInDomain, ChestXraySet TestCrossDomain);

/// <summary>How many images of which size each set of <see cref="ChestXrayData"/> holds.</summary>
public sealed record ChestXraySizes(int ImageSize, int Classification, int Segmentation, int Test);

/// <summary>Chest X-ray-like images for semi-supervised multi-task learning (Haque et al. 2021): a body with soft
/// tissue, two dark lung fields crossed by ribs, the mediastinum and the heart (which the lung mask excludes), slowly
/// varying anatomy noise; a pneumonia-like image adds one to three soft opacities inside the lungs. Half the images of a
/// set are pneumonia-like. Every image is a function of (seed, set, index) alone.</summary>
public static class SyntheticChestXray
{
    /// <summary>Quick: 32 × 32 images, 400 for classification, 40 for segmentation, 100 per test set. Workshop: the
    /// same with 200 per test set (testing is cheap next to training; it narrows each run's accuracy). Full: 48 × 48,
    /// 2000, 110 (JSRT's training size), 300.</summary>
    public static ChestXraySizes DefaultSizes(RunProfile profile) =>
        profile.Pick(quick: new ChestXraySizes(32, 400, 40, 100), workshop: new ChestXraySizes(32, 400, 40, 200), full: new ChestXraySizes(48, 2000, 110, 300));

    public static ChestXrayData Make(RunProfile profile, int seed = 0) => Make(DefaultSizes(profile), seed);

    public static ChestXrayData Make(ChestXraySizes sizes, int seed = 0)
    {
        if (sizes.ImageSize < 16) throw new ArgumentOutOfRangeException(nameof(sizes), sizes.ImageSize, "images smaller than 16×16 cannot show two lungs");
        if (sizes.Classification < 2 || sizes.Segmentation < 1 || sizes.Test < 2)
            throw new ArgumentOutOfRangeException(nameof(sizes), sizes, "need at least 2 classification, 1 segmentation and 2 test images");
        return new ChestXrayData(
            MakeSet(XraySource.A, sizes.ImageSize, sizes.Classification, seed, 0),
            MakeSet(XraySource.A, sizes.ImageSize, sizes.Segmentation, seed, 1),
            MakeSet(XraySource.A, sizes.ImageSize, sizes.Test, seed, 2),
            MakeSet(XraySource.B, sizes.ImageSize, sizes.Test, seed, 3));
    }

    /// <summary>One set of <paramref name="n"/> images from <paramref name="source"/>, half of them pneumonia-like in
    /// random order; <paramref name="stream"/> keeps the sets of one seed apart.</summary>
    public static ChestXraySet MakeSet(XraySource source, int size, int n, int seed, ulong stream)
    {
        var rng = new SeededRandom(seed, stream);
        var classes = Enumerable.Range(0, n).Select(i => i < n / 2 ? 1 : 0).ToArray();
        rng.Shuffle(classes);
        var imageSeeds = Enumerable.Range(0, n).Select(_ => rng.Next(int.MaxValue)).ToArray();
        var plane = size * size;
        var pixels = new float[n * plane];
        var masks = new bool[n * plane];
        Parallel.For(0, n, i =>
        {
            var (image, mask) = Render(size, source, classes[i] == 1, imageSeeds[i]);
            image.CopyTo(pixels, i * plane);
            mask.CopyTo(masks, i * plane);
        });
        return new ChestXraySet(source, size, pixels, masks, classes);
    }

    /// <summary>One image [S·S] in [0, 1] and its lung mask, drawn from <paramref name="seed"/>.</summary>
    public static (float[] Image, bool[] Mask) Render(int size, XraySource source, bool pneumonia, int seed)
    {
        var rng = new SeededRandom(seed);
        double J(double s) => s * (2 * rng.NextDouble() - 1);
        var b = source == XraySource.B;
        var lungScale = b ? 1.08 : 1.0;
        // Lungs: rotated ellipses in unit coordinates (x across, y down); the heart overlaps the lower medial left lung.
        var lungs = new[]
        {
            (X: 0.32 + J(0.03), Y: 0.47 + J(0.03), Rx: (0.13 + J(0.015)) * lungScale, Ry: (0.27 + J(0.03)) * lungScale, Angle: 0.08 + J(0.05)),
            (X: 0.68 + J(0.03), Y: 0.47 + J(0.03), Rx: (0.13 + J(0.015)) * lungScale, Ry: (0.27 + J(0.03)) * lungScale, Angle: -0.08 + J(0.05)),
        };
        var heart = (X: 0.57 + J(0.03), Y: 0.66 + J(0.03), Rx: 0.13 + J(0.02), Ry: 0.11 + J(0.015));
        var ribPhase = rng.NextDouble() * 2 * Math.PI;
        var ribFrequency = 5.5 + J(0.7);
        var ribAmplitude = b ? 0.10 : 0.05;
        var anatomy = SmoothNoise(rng, 5);
        var opacities = new List<(double X, double Y, double Sigma, double Amplitude)>();
        if (pneumonia)
        {
            var count = 1 + rng.Next(3);
            for (var k = 0; k < count; k++)
            {
                var lung = lungs[rng.Next(2)];
                opacities.Add((lung.X + J(0.6 * lung.Rx), lung.Y + J(0.6 * lung.Ry), 0.05 + 0.04 * rng.NextDouble(), 0.15 + 0.15 * rng.NextDouble()));
            }
        }
        double gamma = b ? 0.6 : 1.0, contrast = b ? 0.75 : 1.0, offset = b ? 0.12 : 0.0, noise = b ? 0.07 : 0.03, gradient = b ? 0.12 : 0.0;
        var edge = b ? 0.06 : 0.03;   // width of the soft lung border, in ellipse radii

        var image = new float[size * size];
        var mask = new bool[size * size];
        for (var row = 0; row < size; row++)
            for (var col = 0; col < size; col++)
            {
                double x = (col + 0.5) / size, y = (row + 0.5) / size;
                var body = Ellipse(x, y, 0.5, 0.56, 0.47, 0.52, 0);
                var v = body < 1 ? 0.55 + 0.05 * anatomy(x, y) : 0.06;
                var lungDepth = lungs.Max(l => 1 - Ellipse(x, y, l.X, l.Y, l.Rx, l.Ry, l.Angle));   // > 0 inside a lung
                var inHeart = Ellipse(x, y, heart.X, heart.Y, heart.Rx, heart.Ry, 0) < 1;
                var lungWeight = Math.Clamp(lungDepth / edge + 0.5, 0, 1);
                if (inHeart) lungWeight = 0;
                if (lungWeight > 0)
                {
                    var ribs = ribAmplitude * Math.Pow(Math.Max(0, Math.Sin(2 * Math.PI * ribFrequency * (y + 0.6 * (x - 0.5) * (x - 0.5)) + ribPhase)), 2);
                    var lung = 0.2 + 0.06 * anatomy(x, y) + ribs + opacities.Sum(o => o.Amplitude * Math.Exp(-((x - o.X) * (x - o.X) + (y - o.Y) * (y - o.Y)) / (2 * o.Sigma * o.Sigma)));
                    v = (1 - lungWeight) * v + lungWeight * lung;
                }
                if (Math.Abs(x - 0.5) < 0.045 && body < 1) v = Math.Max(v, 0.72);   // spine and mediastinum
                if (inHeart) v = Math.Max(v, 0.68);
                v = contrast * Math.Pow(Math.Clamp(v, 0, 1), gamma) + offset + gradient * (y - 0.5) + noise * rng.Normal();
                image[row * size + col] = (float)Math.Clamp(v, 0, 1);
                mask[row * size + col] = lungDepth > 0 && !inHeart;
            }
        return (image, mask);
    }

    /// <summary>Squared normalised distance of (x, y) from an ellipse's centre in its rotated frame: &lt; 1 inside.</summary>
    private static double Ellipse(double x, double y, double cx, double cy, double rx, double ry, double angle)
    {
        double dx = x - cx, dy = y - cy, c = Math.Cos(angle), s = Math.Sin(angle);
        double u = (c * dx + s * dy) / rx, w = (-s * dx + c * dy) / ry;
        return u * u + w * w;
    }

    /// <summary>Value noise in about [−1, 1]: a random (cells + 1)² grid, bilinearly interpolated over the unit square.</summary>
    private static Func<double, double, double> SmoothNoise(SeededRandom rng, int cells)
    {
        var grid = new double[cells + 1, cells + 1];
        for (var i = 0; i <= cells; i++)
            for (var j = 0; j <= cells; j++) grid[i, j] = 2 * rng.NextDouble() - 1;
        return (x, y) =>
        {
            double gx = Math.Clamp(x, 0, 1) * cells, gy = Math.Clamp(y, 0, 1) * cells;
            int i = Math.Min((int)gx, cells - 1), j = Math.Min((int)gy, cells - 1);
            double fx = gx - i, fy = gy - j;
            return (1 - fx) * (1 - fy) * grid[i, j] + fx * (1 - fy) * grid[i + 1, j] + (1 - fx) * fy * grid[i, j + 1] + fx * fy * grid[i + 1, j + 1];
        };
    }
}

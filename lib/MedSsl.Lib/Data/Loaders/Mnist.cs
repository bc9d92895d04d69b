using MedSsl.Data.Formats;

namespace MedSsl.Data.Loaders;

/// <summary>MNIST-style IDX pairs (SSLDEC's benchmark format): an images file [N, H, W] of unsigned bytes and a
/// labels file [N] of class indices, raw or gzipped. Loaded as a single-label <see cref="ImageDataset"/> with
/// label names "0" … "K−1" (K = 10 for MNIST; by default the largest label + 1); each image is its own exam and patient.</summary>
public static class Mnist
{
    /// <param name="budget">memory this load may allocate (default: <see cref="LoadBudget.DefaultBytes"/>).</param>
    public static ImageDataset Load(string imagesPath, string labelsPath, int? classCount = null, LoadBudget? budget = null)
    {
        budget ??= new LoadBudget();
        if (classCount is < 1 or > 1024) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "between 1 and 1024 classes");
        var images = Idx.Read(imagesPath, budget);
        if (images.TypeCode != 0x08 || images.Shape.Length != 3)
            throw new DataFormatException(imagesPath, $"expected unsigned bytes shaped [N, H, W], found type 0x{images.TypeCode:X2} shaped [{string.Join(", ", images.Shape)}]");
        var labels = Idx.Read(labelsPath, budget);
        if (labels.Shape.Length != 1) throw new DataFormatException(labelsPath, $"expected labels shaped [N], found [{string.Join(", ", labels.Shape)}]");
        int n = images.Shape[0], h = images.Shape[1], w = images.Shape[2];
        if (labels.Shape[0] != n) throw new DataFormatException(labelsPath, $"{labels.Shape[0]} labels for {n} images in {imagesPath}");
        var values = Enumerable.Range(0, n).Select(i => labels[i]).ToArray();
        var classes = classCount ?? (n == 0 ? 1 : (int)Math.Max(0, values.Max()) + 1);
        if (classes > 1024) throw new DataFormatException(labelsPath, $"labels up to {classes - 1}: not class indices");
        budget.Charge(labelsPath, (long)n * classes + (long)n * h * w * sizeof(float), $"{n} images × {classes} classes");
        var onehot = new bool[(long)n * classes];
        for (var i = 0; i < n; i++)
        {
            var c = values[i];
            if (c < 0 || c >= classes || c != Math.Floor(c)) throw new DataFormatException(labelsPath, $"label {i} is {c}, not a class in 0..{classes - 1}");
            onehot[(long)i * classes + (int)c] = true;
        }
        var pixels = Array.ConvertAll(images.Raw, v => v / 255f);
        var ids = Enumerable.Range(0, n).Select(i => i.ToString()).ToArray();
        return new ImageDataset(1, h, w, Enumerable.Range(0, classes).Select(c => c.ToString()).ToArray(), pixels, onehot, ids, ids);
    }

    /// <summary>Writes a single-label gray dataset as <c>images-idx3-ubyte.gz</c> and <c>labels-idx1-ubyte.gz</c>.</summary>
    public static void Write(ImageDataset data, string imagesPath, string labelsPath)
    {
        if (data.Channels != 1) throw new ArgumentException("IDX image files hold gray images");
        var classes = data.ClassIndices();
        if (classes.Any(c => c > 255)) throw new ArgumentException("IDX ubyte labels hold at most 256 classes");
        var bytes = new byte[data.Count * data.Height * data.Width];
        for (var i = 0; i < data.Count; i++)
        {
            var image = data.Image(i);
            for (var p = 0; p < image.Length; p++) bytes[i * image.Length + p] = (byte)Math.Round(Math.Clamp(image[p], 0f, 1f) * 255);
        }
        Idx.WriteBytes(imagesPath, [data.Count, data.Height, data.Width], bytes);
        Idx.WriteBytes(labelsPath, [data.Count], classes.Select(c => (byte)c).ToArray());
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Data;

/// <summary>An in-memory <see cref="IImageDataset"/>: pixels and labels in flat .NET arrays, tensors made per
/// batch. Every loader and generator returns one, fully validated.</summary>
public sealed class ImageDataset : IImageDataset
{
    private readonly float[] _pixels;   // [N, C, H, W]
    private readonly bool[] _labels;    // [N, L]
    private readonly string[] _exams;
    private readonly string[] _patients;
    private readonly DataSplit[] _splits;

    public int Count => _exams.Length;
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public IReadOnlyList<string> LabelNames { get; }
    public int ImageSize => Channels * Height * Width;

    public ImageDataset(int channels, int height, int width, IReadOnlyList<string> labelNames,
        float[] pixels, bool[] labels, string[] examIds, string[] patientIds, DataSplit[]? splits = null)
    {
        if (channels <= 0 || height <= 0 || width <= 0) throw new ArgumentException("image dimensions must be positive");
        var n = examIds.Length;
        if (patientIds.Length != n) throw new ArgumentException($"{patientIds.Length} patient ids for {n} items");
        if (pixels.Length != (long)n * channels * height * width)
            throw new ArgumentException($"{pixels.Length} pixels for {n} images of {channels}×{height}×{width}");
        if (labels.Length != (long)n * labelNames.Count) throw new ArgumentException($"{labels.Length} label cells for {n} items × {labelNames.Count} labels");
        if (splits != null && splits.Length != n) throw new ArgumentException($"{splits.Length} splits for {n} items");
        if (labelNames.Distinct().Count() != labelNames.Count) throw new ArgumentException("label names must be distinct");
        Channels = channels;
        Height = height;
        Width = width;
        LabelNames = labelNames.ToArray();
        _pixels = pixels;
        _labels = labels;
        _exams = examIds;
        _patients = patientIds;
        _splits = splits ?? new DataSplit[n];
    }

    public bool HasLabel(int index, int label) => _labels[index * LabelNames.Count + label];
    public string ExamId(int index) => _exams[index];
    public string PatientId(int index) => _patients[index];
    public DataSplit Split(int index) => _splits[index];

    /// <summary>Item <paramref name="index"/>'s pixels, channel-major, without copying.</summary>
    public ReadOnlySpan<float> Image(int index) => _pixels.AsSpan(index * ImageSize, ImageSize);

    public void CopyImage(int index, Span<float> destination) => Image(index).CopyTo(destination);

    /// <summary>The N × L label matrix as 0/1 rows.</summary>
    public bool[,] LabelMatrix()
    {
        var m = new bool[Count, LabelNames.Count];
        for (var i = 0; i < Count; i++)
            for (var l = 0; l < LabelNames.Count; l++) m[i, l] = HasLabel(i, l);
        return m;
    }

    /// <summary>How many items carry each label.</summary>
    public int[] LabelCounts()
    {
        var counts = new int[LabelNames.Count];
        for (var i = 0; i < Count; i++)
            for (var l = 0; l < counts.Length; l++) if (HasLabel(i, l)) counts[l]++;
        return counts;
    }

    /// <summary>For single-label data (exactly one label per item): the class index of every item.</summary>
    public int[] ClassIndices()
    {
        var classes = new int[Count];
        for (var i = 0; i < Count; i++)
        {
            var found = -1;
            for (var l = 0; l < LabelNames.Count; l++)
                if (HasLabel(i, l))
                {
                    if (found >= 0) throw new InvalidOperationException($"item {i} has several labels: use the multi-label view");
                    found = l;
                }
            if (found < 0) throw new InvalidOperationException($"item {i} has no label");
            classes[i] = found;
        }
        return classes;
    }

    public (Tensor Images, Tensor Labels) Batch(IReadOnlyList<int> indices)
    {
        var size = ImageSize;
        var l = LabelNames.Count;
        var images = new float[indices.Count * size];
        var labels = new float[indices.Count * l];
        for (var k = 0; k < indices.Count; k++)
        {
            Image(indices[k]).CopyTo(images.AsSpan(k * size, size));
            for (var j = 0; j < l; j++) labels[k * l + j] = HasLabel(indices[k], j) ? 1f : 0f;
        }
        return (torch.tensor(images, indices.Count, Channels, Height, Width), torch.tensor(labels, indices.Count, l));
    }

    /// <summary>The items at the given indices, in that order, as a new dataset (pixels copied).</summary>
    public ImageDataset Subset(IReadOnlyList<int> indices)
    {
        var size = ImageSize;
        var l = LabelNames.Count;
        var pixels = new float[indices.Count * size];
        var labels = new bool[indices.Count * l];
        for (var k = 0; k < indices.Count; k++)
        {
            Image(indices[k]).CopyTo(pixels.AsSpan(k * size, size));
            Array.Copy(_labels, indices[k] * l, labels, k * l, l);
        }
        return new ImageDataset(Channels, Height, Width, LabelNames, pixels, labels,
            indices.Select(i => _exams[i]).ToArray(), indices.Select(i => _patients[i]).ToArray(),
            indices.Select(i => _splits[i]).ToArray());
    }

    /// <summary>Indices of the items in <paramref name="split"/>.</summary>
    public int[] IndicesOf(DataSplit split) => Enumerable.Range(0, Count).Where(i => _splits[i] == split).ToArray();

    /// <summary>The items of one split as their own dataset.</summary>
    public ImageDataset Where(DataSplit split) => Subset(IndicesOf(split));
}

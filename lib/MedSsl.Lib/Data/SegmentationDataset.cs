using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Data;

/// <summary>Images with a label map each: what the segmentation methods train on, from a user's manifest with a mask
/// column (<see cref="Loaders.ImageFolder.LoadSegmentation"/>) or the synthetic lesions
/// (<see cref="Synthetic.SyntheticSkinLesions"/>). <see cref="Images"/> carries the pixels, any image-level labels, the ids
/// and the splits; each annotated image has a mask [H·W], row-major, holding its pixels' class indices 0 …
/// <see cref="Classes"/> − 1 (0 = background). An image without a mask (<see cref="IsAnnotated"/> false) can only serve
/// as an unlabelled image.</summary>
public sealed class SegmentationDataset
{
    private readonly byte[] masks;      // [N, H, W]; zeros where an image has no mask
    private readonly bool[] annotated;

    /// <param name="masks">[N·H·W] class indices, each below <paramref name="classNames"/>' count</param>
    /// <param name="classNames">one name per class, background first</param>
    /// <param name="annotated">which images have a mask (default: all)</param>
    public SegmentationDataset(ImageDataset images, byte[] masks, IReadOnlyList<string> classNames, bool[]? annotated = null)
    {
        if ((long)images.Count * images.Height * images.Width != masks.Length)
            throw new ArgumentException($"{masks.Length} mask pixels for {images.Count} images of {images.Height}×{images.Width}", nameof(masks));
        if (classNames.Count is < 2 or > 256)
            throw new ArgumentException($"a label map holds 2 to 256 classes (background included), not {classNames.Count}", nameof(classNames));
        if (classNames.Distinct().Count() != classNames.Count) throw new ArgumentException("class names must be distinct", nameof(classNames));
        if (annotated is not null && annotated.Length != images.Count)
            throw new ArgumentException($"{annotated.Length} annotation flags for {images.Count} images", nameof(annotated));
        var beyond = Array.FindIndex(masks, m => m >= classNames.Count);
        if (beyond >= 0) throw new ArgumentException($"mask value {masks[beyond]} is beyond the {classNames.Count} classes", nameof(masks));
        Images = images;
        this.masks = masks;
        ClassNames = [.. classNames];
        this.annotated = annotated ?? [.. Enumerable.Repeat(true, images.Count)];
    }

    public ImageDataset Images { get; }
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>K, the classes of the masks, background included.</summary>
    public int Classes => ClassNames.Count;
    public int Count => Images.Count;
    public int Height => Images.Height;
    public int Width => Images.Width;

    public bool IsAnnotated(int index) => annotated[index];

    /// <summary>The label map of image <paramref name="index"/>, [H·W] row-major.</summary>
    public ReadOnlySpan<byte> Mask(int index) => annotated[index]
        ? masks.AsSpan(index * Height * Width, Height * Width)
        : throw new InvalidOperationException($"image {index} ({Images.ExamId(index)}) has no mask");

    /// <summary>Indices of the items in <paramref name="split"/>.</summary>
    public int[] IndicesOf(DataSplit split) => Images.IndicesOf(split);

    /// <summary>The images at the given indices [n, C, H, W].</summary>
    public Tensor ImageBatch(IReadOnlyList<int> indices)
    {
        using var scope = torch.NewDisposeScope();
        return Images.Batch(indices).Images.MoveToOuterDisposeScope();
    }

    /// <summary>Masks of the given images as class indices [n, H, W] (int64), as cross-entropy and Dice take them.</summary>
    public Tensor MaskBatch(IReadOnlyList<int> indices)
    {
        var size = Height * Width;
        var flat = new long[indices.Count * size];
        for (var k = 0; k < indices.Count; k++)
        {
            var mask = Mask(indices[k]);
            for (var p = 0; p < size; p++) flat[k * size + p] = mask[p];
        }
        return torch.tensor(flat, indices.Count, Height, Width);
    }

    /// <summary>The images at the given indices with their masks, in that order.</summary>
    public SegmentationDataset Subset(IReadOnlyList<int> indices)
    {
        var size = Height * Width;
        var masksOut = new byte[indices.Count * size];
        for (var k = 0; k < indices.Count; k++) masks.AsSpan(indices[k] * size, size).CopyTo(masksOut.AsSpan(k * size, size));
        return new SegmentationDataset(Images.Subset(indices), masksOut, ClassNames, [.. indices.Select(i => annotated[i])]);
    }

    /// <summary>The same masks under <paramref name="images"/>: these images with other splits (or ids), the same count and size.</summary>
    public SegmentationDataset WithImages(ImageDataset images) =>
        images.Count == Count && images.Height == Height && images.Width == Width
            ? new SegmentationDataset(images, masks, ClassNames, annotated)
            : throw new ArgumentException($"{images.Count} images of {images.Height}×{images.Width} for masks of {Count} images of {Height}×{Width}", nameof(images));

    /// <summary>Pixels of each class over the annotated images, [K].</summary>
    public long[] PixelCounts()
    {
        var counts = new long[Classes];
        for (var i = 0; i < Count; i++)
            if (annotated[i])
                foreach (var m in Mask(i)) counts[m]++;
        return counts;
    }
}

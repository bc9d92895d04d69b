using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Data.Augmentation;

/// <summary>One view of DINO's multi-crop (Caron et al. 2021, §3.1 and App. D; BYOL's augmentations): a random crop
/// covering a fraction of the image area drawn from [<see cref="MinScale"/>, <see cref="MaxScale"/>] with an aspect
/// ratio in [3/4, 4/3] (log-uniform), resized bilinearly to <see cref="Size"/>², a horizontal flip with probability
/// ½, and with probability <see cref="JitterProbability"/> a brightness and a contrast change by factors in
/// [1 − <see cref="JitterStrength"/>, 1 + <see cref="JitterStrength"/>] (torchvision's ColorJitter(0.4, 0.4)).
/// DINO's global views use scale (0.4, 1) at 224², local views (0.05, 0.4) at 96²; each image draws its own parameters.</summary>
public sealed class RandomResizedCrop(int size, double minScale, double maxScale) : IAugmentation
{
    public int Size { get; } = size >= 1 ? size : throw new ArgumentOutOfRangeException(nameof(size), size, "a crop is at least 1 pixel");
    public double MinScale { get; } = minScale > 0 && minScale <= maxScale && maxScale <= 1 ? minScale
        : throw new ArgumentOutOfRangeException(nameof(minScale), $"crop scales need 0 < min ≤ max ≤ 1, got ({minScale}, {maxScale})");
    public double MaxScale { get; } = maxScale;
    public double JitterProbability { get; init; } = 0.8;
    public double JitterStrength { get; init; } = 0.4;

    public Tensor Apply(Tensor images, Generator generator)
    {
        AugmentChecks.Batch(images);
        long b = images.size(0);
        using var scope = torch.NewDisposeScope();
        var area = torch.rand([b], ScalarType.Float64, generator: generator) * (MaxScale - MinScale) + MinScale;
        var logRatio = (torch.rand([b], ScalarType.Float64, generator: generator) * 2 - 1) * Math.Log(4.0 / 3);
        // Width and height as fractions of the side; clipped so the box stays inside the image.
        var w = (area * logRatio.exp()).sqrt().clamp_max(1);
        var h = (area / logRatio.exp()).sqrt().clamp_max(1);
        var cx = w / 2 + torch.rand([b], ScalarType.Float64, generator: generator) * (1 - w);
        var cy = h / 2 + torch.rand([b], ScalarType.Float64, generator: generator) * (1 - h);
        var flip = torch.rand([b], generator: generator) < 0.5;
        var jitter = torch.rand([b], generator: generator) < JitterProbability;
        var brightness = torch.rand([b], ScalarType.Float64, generator: generator) * (2 * JitterStrength) + (1 - JitterStrength);
        var contrast = torch.rand([b], ScalarType.Float64, generator: generator) * (2 * JitterStrength) + (1 - JitterStrength);
        var view = ImageOps.HorizontalFlip(ImageOps.ResizedCrop(images, cx, cy, w, h, Size, Size), flip);
        var one = torch.ones([b], ScalarType.Float64);
        view = ImageOps.Contrast(ImageOps.Brightness(view, torch.where(jitter, brightness, one)), torch.where(jitter, contrast, one));
        return view.MoveToOuterDisposeScope();
    }
}

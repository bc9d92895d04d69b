using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Data.Augmentation;

/// <summary>FixMatch's weak augmentation on a batch [B, C, H, W]: a horizontal flip with probability ½, then
/// a random crop of the reflect-padded image (kekmodel's dataset/cifar.py: pad 4 of 32, i.e. ⅛ of the side),
/// which is a whole-pixel shift in [−pad, pad] with a mirrored border. Each image draws its own parameters.</summary>
public sealed class WeakAugment : IAugmentation
{
    public double FlipProbability { get; init; } = 0.5;
    /// <summary>Padding as a fraction of the image side (rounded to pixels).</summary>
    public double PadFraction { get; init; } = 0.125;

    public override string ToString() => $"WeakAugment(flip p = {FlipProbability}, shift ≤ {PadFraction} of the side)";

    public Tensor Apply(Tensor images, Generator generator)
    {
        AugmentChecks.Batch(images);
        long b = images.size(0);
        var pad = (int)Math.Round(PadFraction * Math.Min(images.size(2), images.size(3)));
        using var scope = torch.NewDisposeScope();
        var flip = torch.rand([b], generator: generator) < FlipProbability;
        var dx = torch.randint(-pad, pad + 1, [b], generator: generator);
        var dy = torch.randint(-pad, pad + 1, [b], generator: generator);
        var flipped = ImageOps.HorizontalFlip(images, flip);
        return (pad == 0 ? flipped : ImageOps.TranslateReflect(flipped, dx, dy, pad)).MoveToOuterDisposeScope();
    }
}

internal static class AugmentChecks
{
    public static void Batch(Tensor images)
    {
        if (images.dim() != 4)
            throw new ArgumentException($"augmentations take a batch [B, C, H, W], got [{string.Join(", ", images.shape)}]", nameof(images));
        if (images.dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"augmentations take float images in [0, 1], got {images.dtype}", nameof(images));
    }
}

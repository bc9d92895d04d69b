using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Data.Augmentation;

/// <summary>The eight symmetries of a square image (rotations by multiples of 90° and their mirror images), drawn per
/// image: SSL4MIS's random_rot_flip for segmentation, and PiCIE's geometric transform, which must act on feature maps
/// exactly as on images (Cho et al. 2021, §3.3) — a pixel permutation does. Class masks stacked as an extra channel
/// move with their images.</summary>
public sealed class RandomDihedral : IAugmentation
{
    public Tensor Apply(Tensor batch, Generator generator)
    {
        AugmentChecks.Batch(batch);
        using var codes = Draw(batch.size(0), generator);
        return Transform(batch, codes);
    }

    /// <summary>One symmetry per image, codes 0–7 [B] (int64).</summary>
    public static Tensor Draw(long count, Generator generator) => torch.randint(0, 8, [count], generator: generator);

    /// <summary>Applies symmetry codes[b] to map b of x [B, C, S, S] (any dtype): bit 2 transposes, bit 0 mirrors
    /// left-right, bit 1 mirrors top-bottom, in that order; code 0 is the identity.</summary>
    public static Tensor Transform(Tensor x, Tensor codes)
    {
        if (x.dim() != 4 || x.size(2) != x.size(3))
            throw new ArgumentException($"dihedral transforms take square maps [B, C, S, S], got [{string.Join(", ", x.shape)}]", nameof(x));
        if (codes.numel() != x.size(0)) throw new ArgumentException($"{codes.numel()} symmetry codes for {x.size(0)} maps", nameof(codes));
        using var scope = torch.NewDisposeScope();
        Tensor Bit(int bit) => codes.bitwise_and(1L << bit).ne(0).view(-1, 1, 1, 1);
        var y = torch.where(Bit(2), x.transpose(2, 3), x);
        y = torch.where(Bit(0), y.flip(3), y);
        y = torch.where(Bit(1), y.flip(2), y);
        return y.MoveToOuterDisposeScope();
    }
}

/// <summary>Photometric jitter per image, PiCIE's photometric transforms at our scale (Cho et al. 2021, §3.3: colour
/// jitter, blur): brightness and contrast factors in [1 − s, 1 + s], per-channel gains in [1 − s/3, 1 + s/3] (a colour
/// shift), a 3×3 Gaussian blur (σ = 1) with probability ½, and N(0, σ²) pixel noise; the result is clamped to [0, 1].</summary>
public sealed class PhotometricJitter : IAugmentation
{
    public double Strength { get; init; } = 0.3;
    public double BlurProbability { get; init; } = 0.5;
    public double NoiseSigma { get; init; } = 0.03;

    public Tensor Apply(Tensor batch, Generator generator)
    {
        AugmentChecks.Batch(batch);
        long b = batch.size(0), c = batch.size(1);
        using var scope = torch.NewDisposeScope();
        Tensor Uniform(long n, double half) => (torch.rand([n], batch.dtype, generator: generator) * 2 - 1) * half + 1;
        var x = ImageOps.Brightness(batch, Uniform(b, Strength));
        x = ImageOps.Contrast(x, Uniform(b, Strength));
        x = (x * Uniform(b * c, Strength / 3).view(b, c, 1, 1)).clamp_(0, 1);
        var blur = torch.rand([b], generator: generator) < BlurProbability;
        var g = torch.tensor(new[] { Math.Exp(-0.5), 1, Math.Exp(-0.5) }).to(batch.dtype);
        var kernel = g.outer(g);
        kernel = (kernel / kernel.sum()).view(1, 1, 3, 3).expand(c, 1, 3, 3);
        var blurred = nn.functional.conv2d(nn.functional.pad(x, [1, 1, 1, 1], PaddingModes.Replicate), kernel, groups: c);
        x = torch.where(blur.view(b, 1, 1, 1), blurred, x);
        x = x + torch.randn(x.shape, x.dtype, generator: generator) * NoiseSigma;
        return x.clamp_(0, 1).MoveToOuterDisposeScope();
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Data.Augmentation;

/// <summary>The operations of the RandAugment pool (FixMatch's fixmatch_augment_pool, minus Color, which a
/// grey image does not have).</summary>
public enum AugmentOp { AutoContrast, Brightness, Contrast, Equalize, Identity, Posterize, Rotate, Sharpness, ShearX, ShearY, Solarize, TranslateX, TranslateY }

/// <summary>FixMatch's strong augmentation, RandAugmentMC(n = 2, m = 10) of kekmodel/FixMatch-pytorch, batched:
/// each image draws n operations from the pool (with replacement), each with a magnitude v ∈ {1, …, m − 1}
/// and applied with probability ½, then a grey Cutout square of half the image side. Magnitudes map as there:
/// enhance factors 0.05 + 0.9·v/10 (brightness, contrast, sharpness), posterize 4 + ⌊0.4v⌋ bits, rotate ±3v°,
/// shear ±0.03v, solarize threshold 256 − ⌊25.6v⌋, translate ±⌊0.03v·side⌋ px (± with probability ½).
/// Geometric ops here turn about the image centre (torchvision's convention) rather than PIL's corner.</summary>
public sealed class RandAugment : IAugmentation
{
    public int N { get; init; } = 2;
    public int M { get; init; } = 10;
    public double ApplyProbability { get; init; } = 0.5;
    /// <summary>Cutout side as a fraction of the image side; 0 turns Cutout off (MultiMix's variant).</summary>
    public double CutoutFraction { get; init; } = 0.5;
    public IReadOnlyList<AugmentOp> Pool { get; init; } = Enum.GetValues<AugmentOp>();

    public Tensor Apply(Tensor images, Generator generator)
    {
        AugmentChecks.Batch(images);
        if (M < 2 || N < 0 || Pool.Count == 0) throw new ArgumentException($"RandAugment needs M ≥ 2, N ≥ 0 and a non-empty pool (M = {M}, N = {N})");
        long b = images.size(0);
        using var scope = torch.NewDisposeScope();
        var x = images;
        for (var round = 0; round < N; round++)
        {
            // Draw every image's parameters first, so the stream does not depend on which ops fire.
            var op = torch.randint(0, Pool.Count, [b], generator: generator);
            var v = torch.randint(1, M, [b], generator: generator).to(ScalarType.Float64);
            var apply = torch.rand([b], generator: generator) < ApplyProbability;
            var sign = torch.where(torch.rand([b], generator: generator) < 0.5, torch.ones([b], ScalarType.Float64), torch.full([b], -1.0, ScalarType.Float64));
            for (var k = 0; k < Pool.Count; k++)
            {
                var chosen = (op.eq(k) & apply).nonzero().view(-1);
                if (chosen.numel() == 0) continue;
                var part = x.index_select(0, chosen);
                var out_ = Run(Pool[k], part, v.index_select(0, chosen), sign.index_select(0, chosen));
                x = x.index_copy(0, chosen, out_);
            }
        }
        if (CutoutFraction > 0)
        {
            long h = x.size(2), w = x.size(3);
            var cx = torch.rand([b], ScalarType.Float64, generator: generator) * w;
            var cy = torch.rand([b], ScalarType.Float64, generator: generator) * h;
            x = ImageOps.Cutout(x, cx, cy, (int)(CutoutFraction * Math.Min(h, w)));
        }
        return (ReferenceEquals(x, images) ? x.clone() : x).MoveToOuterDisposeScope();
    }

    private Tensor Run(AugmentOp op, Tensor x, Tensor v, Tensor sign)
    {
        // kekmodel divides v by PARAMETER_MAX = 10 whatever m is; so do we.
        Tensor Enhance() => v * (0.9 / 10) + 0.05;
        return op switch
        {
            AugmentOp.AutoContrast => ImageOps.AutoContrast(x),
            AugmentOp.Brightness => ImageOps.Brightness(x, Enhance()),
            AugmentOp.Contrast => ImageOps.Contrast(x, Enhance()),
            AugmentOp.Equalize => ImageOps.Equalize(x),
            AugmentOp.Identity => x.alias(),
            AugmentOp.Posterize => ImageOps.Posterize(x, (v * 0.4).floor() + 4.0),
            AugmentOp.Rotate => ImageOps.Rotate(x, (v * 3.0).floor() * sign),
            AugmentOp.Sharpness => ImageOps.Sharpness(x, Enhance()),
            AugmentOp.ShearX => ImageOps.ShearX(x, v * 0.03 * sign),
            AugmentOp.ShearY => ImageOps.ShearY(x, v * 0.03 * sign),
            AugmentOp.Solarize => ImageOps.Solarize(x, (256.0 - (v * 25.6).floor()) / 255.0),
            AugmentOp.TranslateX => ImageOps.Translate(x, (v * 0.03 * x.size(3)).floor() * sign, torch.zeros_like(v)),
            AugmentOp.TranslateY => ImageOps.Translate(x, torch.zeros_like(v), (v * 0.03 * x.size(2)).floor() * sign),
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown augmentation"),
        };
    }
}

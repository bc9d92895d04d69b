using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Data.Augmentation;

/// <summary>Batched image operations on [B, C, H, W] float images in [0, 1], each image with its own
/// parameter (a [B] tensor). Photometric ones follow PIL's formulas, which FixMatch's RandAugment calls;
/// geometric ones are an affine map per image, sampled with affine_grid + grid_sampler.</summary>
public static class ImageOps
{

    /// <summary>Mirrors left-right the images where flip[b] is true.</summary>
    public static Tensor HorizontalFlip(Tensor x, Tensor flip) => torch.where(PerImage(flip, x), x.flip(3), x);

    /// <summary>Shifts each image by whole pixels (dx[b] right, dy[b] down), filling with the mirror image
    /// of the border (numpy "reflect", as FixMatch's pad-4-reflect-then-crop). |shift| ≤ padding.</summary>
    public static Tensor TranslateReflect(Tensor x, Tensor dx, Tensor dy, int padding)
    {
        long b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        using var scope = torch.NewDisposeScope();
        var padded = nn.functional.pad(x, [padding, padding, padding, padding], PaddingModes.Reflect);
        // Output row i reads padded row i + padding − dy: gather rows, then columns, per image.
        var rows = (torch.arange(padding, h + padding).view(1, h) - dy.@long().view(b, 1)).view(b, 1, h, 1).expand(b, c, h, w + 2 * padding);
        var cropped = padded.gather(2, rows);
        var cols = (torch.arange(padding, w + padding).view(1, w) - dx.@long().view(b, 1)).view(b, 1, 1, w).expand(b, c, h, w);
        return cropped.gather(3, cols).MoveToOuterDisposeScope();
    }

    /// <summary>Samples each image through its affine map, [B, 2, 3] (A | t) or [B, 3, 3] with last row (0, 0, 1), given
    /// in pixels about the image centre: the output pixel at p (relative to the centre, y down) reads the input at
    /// A·p + t. Outside is black, as PIL's transforms; nearest-neighbour sampling, as PIL's default. Images must be
    /// floating-point [B, C, H, W]; any other shape or type throws an <see cref="ArgumentException"/> naming it.</summary>
    public static Tensor Affine(Tensor x, Tensor pixelMatrix)
    {
        if (x.dim() != 4 || !x.is_floating_point())
            throw new ArgumentException($"Affine: images must be floating-point [B, C, H, W], got {x.dtype} [{string.Join(", ", x.shape)}]", nameof(x));
        long b = x.size(0), h = x.size(2), w = x.size(3);
        if (pixelMatrix.dim() != 3 || pixelMatrix.size(0) != b || pixelMatrix.size(1) is not (2 or 3) || pixelMatrix.size(2) != 3
            || !pixelMatrix.is_floating_point())
            throw new ArgumentException($"Affine: the matrices must be floating-point [{b}, 2, 3] or [{b}, 3, 3] for {b} images, " +
                $"got {pixelMatrix.dtype} [{string.Join(", ", pixelMatrix.shape)}]", nameof(pixelMatrix));
        using var scope = torch.NewDisposeScope();
        var m = pixelMatrix.size(1) == 3 ? pixelMatrix
            : torch.cat([pixelMatrix, torch.tensor(new double[] { 0, 0, 1 }).to(pixelMatrix.dtype).view(1, 1, 3).expand(b, 1, 3)], 1);
        // Normalised coordinates (align_corners = false): p = S·n with S = diag(W/2, H/2).
        var s = torch.tensor(new double[] { w / 2.0, 0, 0, 0, h / 2.0, 0, 0, 0, 1 }, 3, 3).to(m.dtype);
        var sInv = torch.tensor(new double[] { 2.0 / w, 0, 0, 0, 2.0 / h, 0, 0, 0, 1 }, 3, 3).to(m.dtype);
        var theta = sInv.matmul(m).matmul(s)[.., ..2, ..];
        var grid = nn.functional.affine_grid(theta.to(x.dtype), [b, x.size(1), h, w], align_corners: false);
        return nn.functional.grid_sample(x, grid, GridSampleMode.Nearest, GridSamplePaddingMode.Zeros, align_corners: false).MoveToOuterDisposeScope();   // nearest, zeros
    }

    /// <summary>Crops each image to the box of width w[b] and height h[b] (fractions of the side) centred at
    /// (cx[b], cy[b]) (fractions of the side from the top-left corner) and resizes it bilinearly to
    /// <paramref name="outHeight"/>×<paramref name="outWidth"/>, as torchvision's resized_crop.</summary>
    public static Tensor ResizedCrop(Tensor x, Tensor cx, Tensor cy, Tensor w, Tensor h, int outHeight, int outWidth)
    {
        long b = x.size(0);
        using var scope = torch.NewDisposeScope();
        using var zero = torch.zeros(b, ScalarType.Float64);
        // Normalised coordinates: the output's [−1, 1] maps onto the box [2c − 1 − w, 2c − 1 + w].
        var theta = torch.stack([w.to(ScalarType.Float64), zero, cx.to(ScalarType.Float64) * 2 - 1,
            zero, h.to(ScalarType.Float64), cy.to(ScalarType.Float64) * 2 - 1], 1).view(b, 2, 3);
        var grid = nn.functional.affine_grid(theta.to(x.dtype), [b, x.size(1), outHeight, outWidth], align_corners: false);
        return nn.functional.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false).MoveToOuterDisposeScope();
    }

    /// <summary>Counter-clockwise rotation by degrees[b] about the centre (PIL's Image.rotate).</summary>
    public static Tensor Rotate(Tensor x, Tensor degrees)
    {
        var a = degrees.to(ScalarType.Float64) * (Math.PI / 180);
        using var cos = a.cos();
        using var sin = a.sin();
        using var zero = torch.zeros_like(a);
        using var one = torch.ones_like(a);
        // Inverse map: the output pixel p reads the input at R(−angle)·p in y-down coordinates.
        return Affine(x, Matrix(cos, -sin, zero, sin, cos, zero, zero, zero, one));
    }

    /// <summary>Horizontal shear about the centre: output (x, y) reads input (x + s·y, y).</summary>
    public static Tensor ShearX(Tensor x, Tensor shear) => Shear(x, shear, horizontal: true);

    /// <summary>Vertical shear about the centre: output (x, y) reads input (x, y + s·x).</summary>
    public static Tensor ShearY(Tensor x, Tensor shear) => Shear(x, shear, horizontal: false);

    /// <summary>Shift by pixels with a black fill (RandAugment's translate): output (x, y) reads input (x − dx, y − dy).</summary>
    public static Tensor Translate(Tensor x, Tensor dx, Tensor dy)
    {
        using var zero = torch.zeros(x.size(0)).to(ScalarType.Float64);
        using var one = torch.ones(x.size(0)).to(ScalarType.Float64);
        using var tx = -dx.to(ScalarType.Float64);
        using var ty = -dy.to(ScalarType.Float64);
        return Affine(x, Matrix(one, zero, tx, zero, one, ty, zero, zero, one));
    }

    private static Tensor Shear(Tensor x, Tensor shear, bool horizontal)
    {
        var s = shear.to(ScalarType.Float64);
        using var zero = torch.zeros_like(s);
        using var one = torch.ones_like(s);
        return horizontal
            ? Affine(x, Matrix(one, s, zero, zero, one, zero, zero, zero, one))
            : Affine(x, Matrix(one, zero, zero, s, one, zero, zero, zero, one));
    }

    private static Tensor Matrix(params Tensor[] entries) =>
        torch.stack(entries, 1).view(entries[0].size(0), 3, 3);

    /// <summary>PIL ImageEnhance.Brightness: blend with black, x·f.</summary>
    public static Tensor Brightness(Tensor x, Tensor factor) => (x * PerImage(factor, x)).clamp_(0, 1);

    /// <summary>PIL ImageEnhance.Contrast: blend with the image's mean grey level (rounded to an 8-bit level, as
    /// PIL does), m + f·(x − m).</summary>
    public static Tensor Contrast(Tensor x, Tensor factor)
    {
        using var scope = torch.NewDisposeScope();
        var mean = (Luminance(x).mean(new long[] { 1, 2, 3 }, keepdim: true) * 255.0 + 0.5).floor() / 255.0;
        return (mean + PerImage(factor, x) * (x - mean)).clamp_(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>PIL ImageEnhance.Sharpness: blend with the SMOOTH-filtered image ([1 1 1; 1 5 1; 1 1 1]/13,
    /// border pixels unfiltered), d + f·(x − d).</summary>
    public static Tensor Sharpness(Tensor x, Tensor factor)
    {
        long c = x.size(1), h = x.size(2), w = x.size(3);
        using var scope = torch.NewDisposeScope();
        var kernel = torch.tensor(new float[] { 1, 1, 1, 1, 5, 1, 1, 1, 1 }, 1, 1, 3, 3).to(x.dtype) / 13.0;
        var smooth = nn.functional.conv2d(x, kernel.expand(c, 1, 3, 3), strides: [1, 1], padding: [1, 1], dilation: [1, 1], groups: c);
        var ys = torch.arange(h).view(1, 1, h, 1);
        var xs = torch.arange(w).view(1, 1, 1, w);
        var interior = (ys > 0.0) & (ys < h - 1.0) & (xs > 0.0) & (xs < w - 1.0);
        // PIL stores the filtered image as 8-bit levels before blending.
        var degenerate = torch.where(interior, (smooth * 255.0).round() / 255.0, x);
        return (degenerate + PerImage(factor, x) * (x - degenerate)).clamp_(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>PIL ImageOps.autocontrast (no cut-off): stretches each channel to [0, 1].</summary>
    public static Tensor AutoContrast(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var lo = x.amin([2, 3], keepdim: true);
        var hi = x.amax([2, 3], keepdim: true);
        var range = hi - lo;
        var flat = range <= 0.0;
        var stretched = (x - lo) / range.masked_fill(flat, 1);
        return torch.where(flat, x, stretched).MoveToOuterDisposeScope();
    }

    /// <summary>PIL ImageOps.equalize on 8-bit levels, per image and channel: lut[i] = (step/2 + Σ_{j&lt;i} h_j) div step,
    /// step = (N − count of the top level) div 255; the identity when step is 0.</summary>
    public static Tensor Equalize(Tensor x)
    {
        long b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        using var scope = torch.NewDisposeScope();
        var levels = Levels(x).view(b * c, h * w);
        var hist = torch.zeros([b * c, 256], ScalarType.Int64).scatter_add(1, levels, torch.ones_like(levels));
        var top = hist.gather(1, levels.amax([1]).view(b * c, 1));
        var step = (hist.sum(1, keepdim: true) - top).div(255L, RoundingMode.floor);
        var before = hist.cumsum(1) - hist;
        var safeStep = step.clamp(min: 1);
        var lut = (step.div(2L, RoundingMode.floor) + before).div(safeStep, RoundingMode.floor).clamp_(0, 255);
        var equalised = lut.gather(1, levels).view(b, c, h, w).to(x.dtype) / 255.0;
        return torch.where(step.view(b, c, 1, 1) > 0.0, equalised, x).MoveToOuterDisposeScope();
    }

    /// <summary>PIL ImageOps.posterize: keeps the top bits[b] bits of each 8-bit level.</summary>
    public static Tensor Posterize(Tensor x, Tensor bits)
    {
        using var scope = torch.NewDisposeScope();
        var bucket = PerImage((8 - bits.to(x.dtype)).mul_(Math.Log(2)).exp().round(), x);   // 2^(8 − bits)
        return ((Levels(x).to(x.dtype) / bucket).floor() * bucket / 255.0).MoveToOuterDisposeScope();
    }

    /// <summary>PIL ImageOps.solarize: inverts the pixels at or above the threshold.</summary>
    public static Tensor Solarize(Tensor x, Tensor threshold) => torch.where(x >= PerImage(threshold, x), 1.0 - x, x);

    /// <summary>Cutout: a size × size square centred at (cx[b], cy[b]) (clipped at the border) set to grey 0.5.</summary>
    public static Tensor Cutout(Tensor x, Tensor cx, Tensor cy, int size)
    {
        long b = x.size(0), h = x.size(2), w = x.size(3);
        using var scope = torch.NewDisposeScope();
        var x0 = (cx.to(ScalarType.Float64) - size / 2.0).floor().view(b, 1, 1, 1);
        var y0 = (cy.to(ScalarType.Float64) - size / 2.0).floor().view(b, 1, 1, 1);
        var xs = torch.arange(w).to(ScalarType.Float64).view(1, 1, 1, w);
        var ys = torch.arange(h).to(ScalarType.Float64).view(1, 1, h, 1);
        var inside = (xs >= x0) & (xs < x0 + size) & (ys >= y0) & (ys < y0 + size);
        return x.masked_fill(inside, 0.5).MoveToOuterDisposeScope();
    }

    /// <summary>8-bit levels, as PIL sees a float image saved as uint8.</summary>
    private static Tensor Levels(Tensor x) => (x * 255.0).round().clamp_(0, 255).@long();

    /// <summary>ITU-R 601 luma for RGB (PIL's "L" conversion), the image itself for one channel.</summary>
    private static Tensor Luminance(Tensor x) => x.size(1) != 3 ? x.alias()
        : x[.., 0..1] * 0.299 + x[.., 1..2] * 0.587 + x[.., 2..3] * 0.114;

    /// <summary>A per-image value [B] shaped to broadcast over [B, C, H, W].</summary>
    private static Tensor PerImage(Tensor v, Tensor x) =>
        (v.dtype == ScalarType.Bool ? v : v.to(x.dtype)).view(x.size(0), 1, 1, 1);
}

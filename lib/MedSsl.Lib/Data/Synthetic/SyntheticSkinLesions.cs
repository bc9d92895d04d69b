namespace MedSsl.Data.Synthetic;

/// <summary>How hard the lesions are to see; the masks are the same for the same seed.</summary>
public enum LesionAppearance
{
    /// <summary>Dark pigment on smooth skin with a sharp border: a U-Net learns it from a handful of masks.</summary>
    Clear,
    /// <summary>What makes dermoscopy segmentation hard (Singh et al.'s ISIC images): fainter pigment that fades over the
    /// outer quarter of the radius to a third of its depth, so the border is faint; 3–6 dark hairs across skin and lesion,
    /// which are not lesion; stronger uneven lighting and twice the sensor noise.</summary>
    Subtle,
}

/// <summary>Dermoscopy-like RGB images for the S4MI notebooks (Singh et al., Data: ISIC-2017 and Dermofit show one skin
/// lesion per image; Dermatomyositis is multi-label). Each image is skin with smooth shading and one pigmented lesion
/// with an irregular border; the lesion carries any subset of four findings, the multi-labels, all drawn <i>inside</i>
/// the lesion so a classifier's saliency belongs on the lesion mask:
/// a dark rim, dark dots (globules), radial streaks at the border and a blue-white veil. Splits are drawn per image:
/// 70 % training (<see cref="DataSplit.Labelled"/>: notebooks draw their labelled fraction from it), 10 % validation,
/// 20 % test, the paper's 70-10-20.</summary>
public static class SyntheticSkinLesions
{
    public static readonly IReadOnlyList<string> FindingNames = ["dark rim", "globules", "streaks", "blue-white veil"];

    /// <summary>How often each finding is present; they are drawn independently, so every combination occurs.</summary>
    public static readonly IReadOnlyList<double> FindingRates = [0.45, 0.4, 0.35, 0.3];

    /// <summary>The classes of the masks: skin (0) and the lesion (1).</summary>
    public static readonly IReadOnlyList<string> ClassNames = ["skin", "lesion"];

    /// <summary>An appearance from its name ("clear" or "subtle", any case), as a notebook parameter gives it.</summary>
    public static LesionAppearance ParseAppearance(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "clear" => LesionAppearance.Clear,
        "subtle" => LesionAppearance.Subtle,
        _ => throw new ArgumentException($"Lesions must be \"clear\" or \"subtle\", not \"{name}\""),
    };

    /// <summary><paramref name="n"/> images with their findings (the multi-labels of <see cref="SegmentationDataset.Images"/>)
    /// and lesion masks, every image annotated.</summary>
    public static SegmentationDataset Make(int n, int seed = 0, int imageSize = 32, LesionAppearance appearance = LesionAppearance.Clear)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"need at least one image, not {n}");
        if (imageSize < 16) throw new ArgumentOutOfRangeException(nameof(imageSize), $"images smaller than 16×16 cannot show the findings, not {imageSize}");
        var rng = new SeededRandom(seed);
        var imageSeeds = Enumerable.Range(0, n).Select(_ => rng.Next(int.MaxValue)).ToArray();
        var labels = new bool[n * FindingNames.Count];
        for (var i = 0; i < n; i++)
            for (var f = 0; f < FindingNames.Count; f++) labels[i * FindingNames.Count + f] = rng.NextDouble() < FindingRates[f];
        var splits = Splits(n, rng);

        var plane = imageSize * imageSize;
        var pixels = new float[n * 3 * plane];
        var masks = new byte[n * plane];
        var look = appearance == LesionAppearance.Subtle ? Look.Subtle : Look.Clear;
        Parallel.For(0, n, i => Render(imageSize, look, new SeededRandom(imageSeeds[i]), labels.AsSpan(i * FindingNames.Count, FindingNames.Count),
            pixels.AsSpan(i * 3 * plane, 3 * plane), masks.AsSpan(i * plane, plane)));
        var ids = Enumerable.Range(0, n).Select(i => $"L{i:D5}").ToArray();
        return new SegmentationDataset(new ImageDataset(3, imageSize, imageSize, FindingNames, pixels, labels, ids, ids, splits), masks, ClassNames);
    }

    private static DataSplit[] Splits(int n, SeededRandom rng)
    {
        var order = rng.Permutation(n);
        var splits = new DataSplit[n];
        var validation = (int)Math.Round(0.1 * n);
        var test = (int)Math.Round(0.2 * n);
        for (var k = 0; k < n; k++)
            splits[order[k]] = k < test ? DataSplit.Test : k < test + validation ? DataSplit.Validation : DataSplit.Labelled;
        return splits;
    }

    /// <summary>The numbers behind an appearance: pigment depth at the border and added towards the centre, the outer
    /// fraction of the radius over which the pigment fades and the share of it left at the border, hairs per image,
    /// illumination slope, noise.</summary>
    private sealed record Look(double BorderDepth, double CentreDepth, double Fade, double FadeFloor, int MinHairs, int MaxHairs, double Shading, double Noise)
    {
        public static readonly Look Clear = new(0.6, 0.4, 0, 1, 0, 0, 0.08, 0.03);
        public static readonly Look Subtle = new(0.3, 0.3, 0.25, 0.35, 3, 6, 0.15, 0.06);
    }

    private static void Render(int size, Look look, SeededRandom rng, ReadOnlySpan<bool> findings, Span<float> rgb, Span<byte> mask)
    {
        var plane = size * size;
        // Skin: a tone per image, a smooth illumination gradient and sensor noise.
        double[] skin = [rng.Uniform(0.75, 0.92), rng.Uniform(0.55, 0.7), rng.Uniform(0.45, 0.6)];
        var (gx, gy) = (rng.Uniform(-look.Shading, look.Shading), rng.Uniform(-look.Shading, look.Shading));
        // The lesion: a centre away from the border, a radius, a border of a few random harmonics.
        var (cx, cy) = (size * rng.Uniform(0.35, 0.65), size * rng.Uniform(0.35, 0.65));
        var radius = size * rng.Uniform(0.18, 0.3);
        var harmonics = Enumerable.Range(2, 4).Select(k => (K: k, A: rng.Uniform(0, 0.12), Phase: rng.Uniform(0, 2 * Math.PI))).ToArray();
        double[] pigment = [rng.Uniform(0.35, 0.55), rng.Uniform(0.22, 0.35), rng.Uniform(0.15, 0.25)];
        var dots = findings[1] ? Enumerable.Range(0, 4 + rng.Next(5)).Select(_ => (R: rng.Uniform(0, 0.7), T: rng.Uniform(0, 2 * Math.PI))).ToArray() : [];
        var streaks = findings[2] ? Enumerable.Range(0, 5 + rng.Next(4)).Select(_ => rng.Uniform(0, 2 * Math.PI)).ToArray() : [];
        var veilAngle = rng.Uniform(0, 2 * Math.PI);
        // Hairs (drawn last, so the lesion is the same in every appearance): gently curved dark lines across the image.
        var hairs = look.MaxHairs == 0 ? [] : Enumerable.Range(0, look.MinHairs + rng.Next(look.MaxHairs - look.MinHairs + 1))
            .Select(_ => (X: size * rng.Uniform(0, 1), Y: size * rng.Uniform(0, 1), Angle: rng.Uniform(0, Math.PI), Bend: rng.Uniform(-0.04, 0.04))).ToArray();

        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                var p = y * size + x;
                var (dx, dy) = (x + 0.5 - cx, y + 0.5 - cy);
                var theta = Math.Atan2(dy, dx);
                var border = radius * (1 + harmonics.Sum(h => h.A * Math.Cos(h.K * theta + h.Phase)));
                var r = Math.Sqrt(dx * dx + dy * dy) / border;   // < 1 inside the lesion
                var shade = 1 + gx * (x - size / 2.0) / size * 4 + gy * (y - size / 2.0) / size * 4;
                double[] c = [skin[0] * shade, skin[1] * shade, skin[2] * shade];
                if (r < 1)
                {
                    mask[p] = 1;
                    // Pigment darkest in the middle, fading towards the border (to a faint edge, when the look fades).
                    var depth = look.BorderDepth + look.CentreDepth * (1 - r * r);
                    if (r > 1 - look.Fade) depth *= look.FadeFloor + (1 - look.FadeFloor) * (1 - r) / look.Fade;
                    for (var ch = 0; ch < 3; ch++) c[ch] = c[ch] * (1 - depth) + pigment[ch] * depth;
                    if (findings[0] && r > 0.72) Darken(c, 0.55);
                    if (findings[1] && dots.Any(d => Distance(dx, dy, d.R * border * Math.Cos(d.T), d.R * border * Math.Sin(d.T)) < size / 24.0 + 0.6)) Darken(c, 0.45);
                    if (findings[2] && r > 0.45 && streaks.Any(s => Math.Abs(Math.IEEERemainder(theta - s, 2 * Math.PI)) < 0.18)) Darken(c, 0.5);
                    if (findings[3] && r < 0.65 && Math.Cos(theta - veilAngle) > -0.2)
                    {
                        c[0] = 0.5 * c[0] + 0.5 * 0.45;
                        c[1] = 0.5 * c[1] + 0.5 * 0.55;
                        c[2] = 0.5 * c[2] + 0.5 * 0.75;
                    }
                }
                if (hairs.Any(h => HairDistance(h, x + 0.5, y + 0.5) < 0.6)) Darken(c, 0.35);
                for (var ch = 0; ch < 3; ch++) rgb[ch * plane + p] = (float)Math.Clamp(c[ch] + look.Noise * rng.Normal(), 0, 1);
            }
    }

    private static void Darken(double[] c, double factor)
    {
        for (var ch = 0; ch < 3; ch++) c[ch] *= factor;
    }

    /// <summary>Distance from (x, y) to a hair: the line through its point at its angle, bent by a quadratic term along it.</summary>
    private static double HairDistance((double X, double Y, double Angle, double Bend) hair, double x, double y)
    {
        var (dx, dy) = (x - hair.X, y - hair.Y);
        var along = dx * Math.Cos(hair.Angle) + dy * Math.Sin(hair.Angle);
        var across = -dx * Math.Sin(hair.Angle) + dy * Math.Cos(hair.Angle);
        return Math.Abs(across - hair.Bend * along * along);
    }

    private static double Distance(double x0, double y0, double x1, double y1) => Math.Sqrt((x0 - x1) * (x0 - x1) + (y0 - y1) * (y0 - y1));
}

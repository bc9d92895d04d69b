namespace MedSsl.Data.Synthetic;

/// <summary>One patient's anatomy, shared by every frame of the patient's exams: a body-wide shift, and per organ a
/// shift of its usual position and a scale of its size (frames then jitter around them by half the range they had
/// before exams had anatomy, so that the spread over all frames stays about as it was).</summary>
internal sealed record UltrasoundAnatomy(double BodyX, double BodyY, IReadOnlyDictionary<string, (double Dx, double Dy, double Scale)> Organs)
{
    public static UltrasoundAnatomy Draw(SeededRandom rng) => new(rng.Uniform(-0.03, 0.03), rng.Uniform(-0.03, 0.03),
        new[] { "liver", "spleen", "bladder", "kidney", "pancreas", "gallbladder" }.ToDictionary(o => o,
            _ => (rng.Uniform(-0.04, 0.04), rng.Uniform(-0.03, 0.03), rng.Uniform(0.88, 1.12))));

    /// <summary>The organ's centre for this patient, from its usual centre.</summary>
    public (double X, double Y) Centre(string organ, double x, double y) => (x + BodyX + Organs[organ].Dx, y + BodyY + Organs[organ].Dy);

    public double Scale(string organ) => Organs[organ].Scale;
}

/// <summary>One exam's appearance, shared by its frames: the operator's gain, the probe's speckle contrast, the depth
/// attenuation and the patient's soft-tissue echogenicity (fatty tissue reads darker or brighter).</summary>
internal sealed record UltrasoundLook(double Gain, double Speckle, double Attenuation, double Tissue)
{
    /// <summary>Defaults of a frame without an exam: what the renderer drew before exams had a look.</summary>
    public static readonly UltrasoundLook Neutral = new(1.0, 0.55, 0.3, 0.26);

    public static UltrasoundLook Draw(SeededRandom rng) =>
        new(rng.Uniform(0.85, 1.15), rng.Uniform(0.4, 0.7), rng.Uniform(0.2, 0.4), rng.Uniform(0.21, 0.31));
}

/// <summary>Draws one ultrasound-like B-mode frame: a fan-shaped field (sector probe), soft tissue, the requested
/// organs as textured shapes, then multiplicative speckle. Each organ differs in echogenicity, texture, shape and
/// usual position so that a CNN can tell them apart, roughly as a sonographer would:
/// liver large and mid-grey with dark vessels; gallbladder a small anechoic pear with a bright wall; kidney a
/// bean with a dark cortex and bright sinus; pancreas a thin bright band; spleen a homogeneous crescent;
/// bladder a large dark rounded box with posterior enhancement; "other" frames show bowel gas and shadows.</summary>
internal sealed class UltrasoundRenderer
{
    private readonly int _size;
    private readonly SeededRandom _rng;
    private readonly float[] _image;
    private readonly UltrasoundAnatomy _anatomy;
    private readonly UltrasoundLook _look;

    public UltrasoundRenderer(int size, int seed, UltrasoundAnatomy anatomy, UltrasoundLook look)
    {
        _size = size;
        _rng = new SeededRandom(seed);
        _image = new float[size * size];
        _anatomy = anatomy;
        _look = look;
    }

    public float[] Render(IReadOnlyCollection<string> organs)
    {
        var coarse = SmoothNoise(6);
        var fine = SmoothNoise(16);
        // soft tissue: mid-dark, slowly varying
        Fill((x, y) => true, (x, y) => _look.Tissue + 0.08 * coarse(x, y));
        foreach (var organ in new[] { "liver", "spleen", "bladder", "kidney", "pancreas", "gallbladder" })
            if (organs.Contains(organ)) Draw(organ, coarse, fine);
        if (organs.Contains("other") || _rng.NextDouble() < 0.2) BowelGas();
        Finish();
        return _image;
    }

    private void Draw(string organ, Func<double, double, double> coarse, Func<double, double, double> fine)
    {
        var r = _rng;
        double J(double s) => s * (2 * r.NextDouble() - 1); // the frame's jitter around the patient's anatomy
        var scale = _anatomy.Scale(organ);
        (double X, double Y) At(double x, double y, double jx, double jy)
        {
            var (cx, cy) = _anatomy.Centre(organ, x, y);
            return (cx + J(jx / 2), cy + J(jy / 2));
        }
        switch (organ)
        {
            case "liver":
            {
                var (cx, cy) = At(0.36, 0.42, 0.06, 0.05);
                var shape = Blob(cx, cy, scale * (0.30 + J(0.02)), scale * (0.22 + J(0.015)), J(0.3)); // the probe's angle varies frame to frame
                Fill(shape, (x, y) => 0.50 + 0.10 * fine(x, y));
                for (var v = 0; v < 3; v++) // portal / hepatic vessels: small anechoic circles inside the liver
                {
                    var vessel = Blob(cx + J(0.15), cy + J(0.12), 0.03, 0.025, 0);
                    Fill((x, y) => vessel(x, y) && shape(x, y), (x, y) => 0.08);
                }
                break;
            }
            case "spleen":
            {
                var (cx, cy) = At(0.62, 0.42, 0.05, 0.05);
                var outer = Blob(cx, cy, scale * (0.24 + J(0.015)), scale * (0.15 + J(0.01)), 0.4 + J(0.2));
                var bite = Blob(cx + 0.06 * scale, cy + 0.10 * scale, 0.20 * scale, 0.12 * scale, 0.4);
                Fill((x, y) => outer(x, y) && !bite(x, y), (x, y) => 0.44 + 0.03 * fine(x, y));
                break;
            }
            case "bladder":
            {
                var (cx, cy) = At(0.5, 0.55, 0.05, 0.05);
                double rx = scale * (0.22 + J(0.015)), ry = scale * (0.16 + J(0.015));
                bool Box(double x, double y) => Math.Pow(Math.Abs(x - cx) / rx, 4) + Math.Pow(Math.Abs(y - cy) / ry, 4) <= 1;
                Fill((x, y) => Math.Abs(x - cx) < rx * 0.9 && y > cy && y < cy + ry + 0.2, (x, y) => 0.55 + 0.1 * fine(x, y)); // posterior enhancement
                Fill(Box, (x, y) => 0.03);
                break;
            }
            case "kidney":
            {
                var (cx, cy) = At(0.60, 0.64, 0.08, 0.06);
                double rx = scale * (0.17 + J(0.01)), ry = scale * (0.09 + J(0.008)), angle = J(0.5);
                Fill(Blob(cx, cy, rx, ry, angle), (x, y) => 0.14 + 0.04 * fine(x, y)); // hypoechoic cortex
                Fill(Blob(cx, cy, rx * 0.55, ry * 0.45, angle), (x, y) => 0.80 + 0.08 * coarse(x, y)); // renal sinus fat
                break;
            }
            case "pancreas":
            {
                var (cx, cy) = At(0.5, 0.56, 0.06, 0.05);
                Fill(Blob(cx, cy, scale * (0.24 + J(0.015)), scale * (0.045 + J(0.005)), 0.15 + J(0.2)),
                    (x, y) => 0.66 + 0.16 * Math.Sign(fine(x, y)) * Math.Abs(fine(x, y))); // coarse, speckled texture
                break;
            }
            case "gallbladder":
            {
                var (cx, cy) = At(0.52, 0.46, 0.06, 0.05);
                var angle = 0.6 + J(0.4);
                Fill(Blob(cx, cy, 0.11 * scale, 0.065 * scale, angle), (x, y) => 0.85); // bright wall
                Fill(Blob(cx, cy, 0.09 * scale, 0.05 * scale, angle), (x, y) => 0.02);  // anechoic bile
                break;
            }
        }
    }

    private void BowelGas()
    {
        var count = 1 + _rng.Next(2);
        for (var k = 0; k < count; k++)
        {
            double cx = 0.3 + 0.4 * _rng.NextDouble(), cy = 0.3 + 0.3 * _rng.NextDouble(), rx = 0.07 + 0.04 * _rng.NextDouble();
            Fill((x, y) => Math.Abs(x - cx) < rx * 0.8 && y > cy && y < cy + 0.4, (x, y) => 0.06 + 0.5 * Math.Max(0, y - cy - 0.2)); // acoustic shadow, fading
            Fill(Blob(cx, cy, rx, 0.025, 0), (x, y) => 0.95);                      // bright gas interface
        }
    }

    /// <summary>An ellipse with a slightly wavy border, rotated by <paramref name="angle"/>.</summary>
    private Func<double, double, bool> Blob(double cx, double cy, double rx, double ry, double angle)
    {
        double cos = Math.Cos(angle), sin = Math.Sin(angle), phase = 2 * Math.PI * _rng.NextDouble(), wave = 0.08 * _rng.NextDouble();
        return (x, y) =>
        {
            double dx = x - cx, dy = y - cy;
            double u = (cos * dx + sin * dy) / rx, v = (-sin * dx + cos * dy) / ry;
            var r2 = u * u + v * v;
            if (r2 > (1 + wave) * (1 + wave)) return false; // most pixels: decided without the trigonometry
            if (r2 < (1 - wave) * (1 - wave)) return true;
            var border = 1 + wave * Math.Sin(3 * Math.Atan2(v, u) + phase);
            return r2 <= border * border;
        };
    }

    private void Fill(Func<double, double, bool> inside, Func<double, double, double> value)
    {
        for (var j = 0; j < _size; j++)
        {
            var y = (j + 0.5) / _size;
            for (var i = 0; i < _size; i++)
            {
                var x = (i + 0.5) / _size;
                if (inside(x, y)) _image[j * _size + i] = (float)value(x, y);
            }
        }
    }

    /// <summary>Value noise in about [−1, 1]: a random grid of <paramref name="cells"/>² values, bilinearly interpolated.</summary>
    private Func<double, double, double> SmoothNoise(int cells)
    {
        var grid = new double[(cells + 1) * (cells + 1)];
        for (var k = 0; k < grid.Length; k++) grid[k] = 2 * _rng.NextDouble() - 1;
        return (x, y) =>
        {
            double gx = Math.Clamp(x, 0, 1) * cells, gy = Math.Clamp(y, 0, 1) * cells;
            int i = Math.Min((int)gx, cells - 1), j = Math.Min((int)gy, cells - 1);
            double fx = gx - i, fy = gy - j;
            double a = grid[j * (cells + 1) + i], b = grid[j * (cells + 1) + i + 1];
            double c = grid[(j + 1) * (cells + 1) + i], d = grid[(j + 1) * (cells + 1) + i + 1];
            return (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * c + fx * d);
        };
    }

    // Depth attenuation, speckle (Rayleigh amplitude, mean 1, 2×2-correlated), the exam's gain, then the fan mask.
    private void Finish()
    {
        var n = _size;
        var fan = FanGeometry.For(n);
        var rayleigh = new double[(n + 1) * (n + 1)];
        for (var k = 0; k < rayleigh.Length; k++) rayleigh[k] = 0.7979 * Math.Sqrt(-2 * Math.Log(1 - _rng.NextDouble()));
        for (var j = 0; j < n; j++)
            for (var i = 0; i < n; i++)
            {
                var depth = fan[j * n + i];
                if (depth < 0) { _image[j * n + i] = 0; continue; }
                var attenuation = 1 - _look.Attenuation * depth;
                var speckle = 0.25 * (rayleigh[j * (n + 1) + i] + rayleigh[j * (n + 1) + i + 1] + rayleigh[(j + 1) * (n + 1) + i] + rayleigh[(j + 1) * (n + 1) + i + 1]);
                var v = _image[j * n + i] * attenuation * _look.Gain * (1 - _look.Speckle + _look.Speckle * speckle);
                _image[j * n + i] = (float)Math.Clamp(v, 0, 1);
            }
    }

    /// <summary>Per image size, the sector probe's field: −1 outside the fan, else the depth y ∈ [0, 1].</summary>
    private static class FanGeometry
    {
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, float[]> Cache = new();

        public static float[] For(int n) => Cache.GetOrAdd(n, size =>
        {
            var fan = new float[size * size];
            Array.Fill(fan, -1f);
            for (var j = 0; j < size; j++)
                for (var i = 0; i < size; i++)
                {
                    double x = (i + 0.5) / size, y = (j + 0.5) / size;
                    double dx = x - 0.5, dy = y + 0.15; // the probe sits above the top edge
                    var radius = Math.Sqrt(dx * dx + dy * dy);
                    if (Math.Abs(Math.Atan2(dx, dy)) < 0.62 && radius > 0.22 && radius < 1.12) fan[j * size + i] = (float)y;
                }
            return fan;
        });
    }
}

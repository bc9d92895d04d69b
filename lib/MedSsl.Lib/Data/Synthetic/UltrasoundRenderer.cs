namespace MedSsl.Data.Synthetic;

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
    private readonly double _gain;

    public UltrasoundRenderer(int size, int seed, double examGain)
    {
        _size = size;
        _rng = new SeededRandom(seed);
        _image = new float[size * size];
        _gain = examGain;
    }

    public float[] Render(IReadOnlyCollection<string> organs)
    {
        var coarse = SmoothNoise(6);
        var fine = SmoothNoise(16);
        // soft tissue: mid-dark, slowly varying
        Fill((x, y) => true, (x, y) => 0.26 + 0.08 * coarse(x, y));
        foreach (var organ in new[] { "liver", "spleen", "bladder", "kidney", "pancreas", "gallbladder" })
            if (organs.Contains(organ)) Draw(organ, coarse, fine);
        if (organs.Contains("other") || _rng.NextDouble() < 0.2) BowelGas();
        Finish();
        return _image;
    }

    private void Draw(string organ, Func<double, double, double> coarse, Func<double, double, double> fine)
    {
        var r = _rng;
        double J(double s) => s * (2 * r.NextDouble() - 1); // jitter
        switch (organ)
        {
            case "liver":
            {
                var shape = Blob(0.36 + J(0.06), 0.42 + J(0.05), 0.30 + J(0.04), 0.22 + J(0.03), J(0.3));
                Fill(shape, (x, y) => 0.50 + 0.10 * fine(x, y));
                for (var v = 0; v < 3; v++) // portal / hepatic vessels: small anechoic circles inside the liver
                {
                    var vessel = Blob(0.36 + J(0.15), 0.42 + J(0.12), 0.03, 0.025, 0);
                    Fill((x, y) => vessel(x, y) && shape(x, y), (x, y) => 0.08);
                }
                break;
            }
            case "spleen":
            {
                double cx = 0.62 + J(0.05), cy = 0.42 + J(0.05);
                var outer = Blob(cx, cy, 0.24 + J(0.03), 0.15 + J(0.02), 0.4 + J(0.2));
                var bite = Blob(cx + 0.06, cy + 0.10, 0.20, 0.12, 0.4);
                Fill((x, y) => outer(x, y) && !bite(x, y), (x, y) => 0.44 + 0.03 * fine(x, y));
                break;
            }
            case "bladder":
            {
                double cx = 0.5 + J(0.05), cy = 0.55 + J(0.05), rx = 0.22 + J(0.03), ry = 0.16 + J(0.03);
                bool Box(double x, double y) => Math.Pow(Math.Abs(x - cx) / rx, 4) + Math.Pow(Math.Abs(y - cy) / ry, 4) <= 1;
                Fill((x, y) => Math.Abs(x - cx) < rx * 0.9 && y > cy && y < cy + ry + 0.2, (x, y) => 0.55 + 0.1 * fine(x, y)); // posterior enhancement
                Fill(Box, (x, y) => 0.03);
                break;
            }
            case "kidney":
            {
                double cx = 0.60 + J(0.08), cy = 0.64 + J(0.06), rx = 0.17 + J(0.02), ry = 0.09 + J(0.015), angle = J(0.5);
                Fill(Blob(cx, cy, rx, ry, angle), (x, y) => 0.14 + 0.04 * fine(x, y)); // hypoechoic cortex
                Fill(Blob(cx, cy, rx * 0.55, ry * 0.45, angle), (x, y) => 0.80 + 0.08 * coarse(x, y)); // renal sinus fat
                break;
            }
            case "pancreas":
            {
                Fill(Blob(0.5 + J(0.06), 0.56 + J(0.05), 0.24 + J(0.03), 0.045 + J(0.01), 0.15 + J(0.2)),
                    (x, y) => 0.66 + 0.16 * Math.Sign(fine(x, y)) * Math.Abs(fine(x, y))); // coarse, speckled texture
                break;
            }
            case "gallbladder":
            {
                double cx = 0.52 + J(0.06), cy = 0.46 + J(0.05), angle = 0.6 + J(0.4);
                Fill(Blob(cx, cy, 0.11, 0.065, angle), (x, y) => 0.85); // bright wall
                Fill(Blob(cx, cy, 0.09, 0.05, angle), (x, y) => 0.02);  // anechoic bile
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
                var attenuation = fan[j * n + i];
                if (attenuation == 0) { _image[j * n + i] = 0; continue; }
                var speckle = 0.25 * (rayleigh[j * (n + 1) + i] + rayleigh[j * (n + 1) + i + 1] + rayleigh[(j + 1) * (n + 1) + i] + rayleigh[(j + 1) * (n + 1) + i + 1]);
                var v = _image[j * n + i] * attenuation * _gain * (0.45 + 0.55 * speckle);
                _image[j * n + i] = (float)Math.Clamp(v, 0, 1);
            }
    }

    /// <summary>Per image size, the sector probe's field: 0 outside the fan, else the depth attenuation 1 − 0.3·y.</summary>
    private static class FanGeometry
    {
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, float[]> Cache = new();

        public static float[] For(int n) => Cache.GetOrAdd(n, size =>
        {
            var fan = new float[size * size];
            for (var j = 0; j < size; j++)
                for (var i = 0; i < size; i++)
                {
                    double x = (i + 0.5) / size, y = (j + 0.5) / size;
                    double dx = x - 0.5, dy = y + 0.15; // the probe sits above the top edge
                    var radius = Math.Sqrt(dx * dx + dy * dy);
                    if (Math.Abs(Math.Atan2(dx, dy)) < 0.62 && radius > 0.22 && radius < 1.12) fan[j * size + i] = (float)(1 - 0.3 * y);
                }
            return fan;
        });
    }
}

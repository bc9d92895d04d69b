namespace MedSsl.Data;

/// <summary>Two noisy concentric rings: class 0 on radius 1, class 1 on radius 2, angles uniform, radial noise of
/// standard deviation <c>noise</c>. No straight line separates them: the getting-started notebook's toy problem.</summary>
public static class Rings
{
    public static PointDataset Make(int n, double noise = 0.2, int seed = 0)
    {
        if (n < 2) throw new ArgumentOutOfRangeException(nameof(n), n, "make at least two points");
        if (noise < 0) throw new ArgumentOutOfRangeException(nameof(noise), noise, "noise is a standard deviation, ≥ 0");
        var rng = new SeededRandom(seed);
        var x = new double[2 * n];
        var y = new int[n];
        for (var i = 0; i < n; i++)
        {
            y[i] = rng.Next(2);
            var radius = y[i] + 1 + noise * rng.Normal();
            var angle = rng.Uniform(0, 2 * Math.PI);
            x[2 * i] = radius * Math.Cos(angle);
            x[2 * i + 1] = radius * Math.Sin(angle);
        }
        return new PointDataset(x, y, 2);
    }
}

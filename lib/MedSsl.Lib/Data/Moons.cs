namespace MedSsl.Data;

/// <summary>Two interleaving half circles, built as scikit-learn's <c>make_moons</c> builds them: the outer moon
/// gets ⌊n/2⌋ points at angles linspace(0, π), the inner moon the rest, shifted to (1 − cos t, 0.5 − sin t);
/// optionally shuffled, then Gaussian noise of standard deviation <c>noise</c> is added to every coordinate.
/// With noise = 0 and shuffle = false the points equal sklearn's (to the last bit of cos/sin).</summary>
public static class Moons
{
    /// <summary>Points for a profile: Quick 300, Full 1000 (the SSLDEC notebook's size).</summary>
    public static int DefaultCount(RunProfile profile) => profile == RunProfile.Quick ? 300 : 1000;

    public static PointDataset Make(RunProfile profile, double noise = 0.1, int seed = 0) =>
        Make(DefaultCount(profile), noise, seed);

    public static PointDataset Make(int n, double noise = 0.1, int seed = 0, bool shuffle = true)
    {
        if (n < 2) throw new ArgumentOutOfRangeException(nameof(n), "make at least two points, one per moon");
        if (noise < 0) throw new ArgumentOutOfRangeException(nameof(noise), "noise is a standard deviation, ≥ 0");
        var nOut = n / 2;
        var nIn = n - nOut;
        var x = new double[2 * n];
        var y = new int[n];
        for (var i = 0; i < nOut; i++)
        {
            var t = Linspace(i, nOut);
            x[2 * i] = Math.Cos(t);
            x[2 * i + 1] = Math.Sin(t);
        }
        for (var i = 0; i < nIn; i++)
        {
            var t = Linspace(i, nIn);
            x[2 * (nOut + i)] = 1 - Math.Cos(t);
            x[2 * (nOut + i) + 1] = 1 - Math.Sin(t) - 0.5;
            y[nOut + i] = 1;
        }
        var rng = new SeededRandom(seed);
        var data = new PointDataset(x, y, 2);
        if (shuffle) data = data.Subset(rng.Permutation(n));
        if (noise > 0)
            for (var i = 0; i < data.X.Length; i++) data.X[i] += noise * rng.Normal();
        return data;
    }

    /// <summary>For each moon, the <paramref name="perMoon"/> points nearest to evenly spaced positions along its arc:
    /// angles (k + ½)·π/perMoon around the moon's centre — (0, 0) for the upper moon, (1, 0.5) for the lower one, as
    /// <see cref="Make(int, double, int, bool)"/> draws them (the "fairly distributed" labels of Enguehard et al. 2019, §IV-C).</summary>
    public static int[] WellSpread(PointDataset data, int perMoon)
    {
        double Angle(int i) => data.Y[i] == 0 ? Math.Atan2(data[i, 1], data[i, 0]) : Math.Atan2(0.5 - data[i, 1], 1 - data[i, 0]);
        return [.. Enumerable.Range(0, 2).SelectMany(moon => Enumerable.Range(0, perMoon).Select(k =>
        {
            var target = (k + 0.5) * Math.PI / perMoon;
            return Enumerable.Range(0, data.Count).Where(i => data.Y[i] == moon).MinBy(i => Math.Abs(Angle(i) - target));
        }))];
    }

    // numpy's linspace(0, π, m)[i]: i·step, with the last point exactly π.
    private static double Linspace(int i, int m)
    {
        if (m == 1) return 0;
        return i == m - 1 ? Math.PI : i * (Math.PI / (m - 1));
    }
}

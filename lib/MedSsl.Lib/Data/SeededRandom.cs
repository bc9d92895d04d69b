namespace MedSsl.Data;

/// <summary>Draws used by the generators. <see cref="System.Random"/> built from a seed is deterministic across
/// .NET versions, which is what makes a generator's output a function of its seed.</summary>
internal static class SeededRandom
{
    /// <summary>A standard normal draw (Box–Muller).</summary>
    public static double Normal(this Random rng)
    {
        var u1 = 1.0 - rng.NextDouble(); // in (0, 1]: log is finite
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    public static double Uniform(this Random rng, double low, double high) => low + (high - low) * rng.NextDouble();

    /// <summary>Fisher–Yates in place.</summary>
    public static void Shuffle<T>(this Random rng, T[] items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    public static int[] Permutation(this Random rng, int n)
    {
        var p = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(p);
        return p;
    }
}

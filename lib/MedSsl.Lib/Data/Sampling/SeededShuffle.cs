namespace MedSsl.Data.Sampling;

/// <summary>Deterministic Fisher–Yates shuffles: the same (seed, stream) always gives the same order, on every
/// platform and .NET version (System.Random's seeded algorithm is not promised to stay the same).</summary>
internal static class SeededShuffle
{
    public static int[] Permutation(int n, ulong seed, ulong stream)
    {
        var rng = new SplitMix64(seed, stream);
        var p = Enumerable.Range(0, n).ToArray();
        for (var i = n - 1; i > 0; i--)
        {
            var j = rng.Below(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}

/// <summary>SplitMix64 (Steele, Lea &amp; Flood 2014): a small, well-mixed 64-bit generator.</summary>
internal sealed class SplitMix64(ulong seed, ulong stream = 0)
{
    private ulong state = seed ^ (stream * 0xD1B54A32D192ED03UL + 0x9E3779B97F4A7C15UL);

    public ulong Next()
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n) (multiply-shift; the bias is below 2⁻³² for the sizes used here).</summary>
    public int Below(int n) => (int)((Next() >> 32) * (ulong)n >> 32);
}

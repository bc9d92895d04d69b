using TorchSharp;

namespace MedSsl.Data;

/// <summary>The library's one random source. Every draw the library makes on the CPU — synthetic data, which points
/// are labelled, sampler orders, seeds for libtorch — comes from SplitMix64 (Steele, Lea &amp; Flood 2014), a 64-bit
/// generator defined by three lines of integer arithmetic. Unlike seeded <see cref="System.Random"/>, whose algorithm
/// .NET does not promise to keep, it gives the same numbers on every .NET version and platform, so a data set or a
/// split is a function of its seed alone. Seeds are <see cref="int"/> everywhere. Tensor draws on libtorch's side
/// (weight initialisation, dropout, augmentation parameters) use a <see cref="torch.Generator"/> seeded from here:
/// reproducible for one libtorch version, not promised across versions.</summary>
public sealed class SeededRandom(int seed, ulong stream = 0)
{
    private ulong state = (ulong)(uint)seed ^ (stream * 0xD1B54A32D192ED03UL + 0x9E3779B97F4A7C15UL);

    public int Seed { get; } = seed;

    public ulong NextUInt64()
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, n) (multiply-shift; the bias is below 2⁻³² for n &lt; 2³¹).</summary>
    public int Next(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "the range must hold at least one value");
        return (int)((NextUInt64() >> 32) * (ulong)n >> 32);
    }

    /// <summary>Uniform in [low, high).</summary>
    public int Next(int low, int high) => low + Next(high - low);

    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>A standard normal draw (Box–Muller).</summary>
    public double Normal()
    {
        var u1 = 1.0 - NextDouble();   // in (0, 1]: the log is finite
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Fisher–Yates in place.</summary>
    public void Shuffle<T>(T[] items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    public int[] Permutation(int n)
    {
        var p = Enumerable.Range(0, n).ToArray();
        Shuffle(p);
        return p;
    }

    /// <summary>The permutation of [0, n) for one (seed, stream): e.g. an epoch's order, with the epoch as the stream.</summary>
    public static int[] Permutation(int n, int seed, ulong stream) => new SeededRandom(seed, stream).Permutation(n);

    /// <summary>A libtorch generator for tensor draws, seeded from this source.</summary>
    public torch.Generator TorchGenerator() => new(NextUInt64() >> 1, torch.CPU);
}

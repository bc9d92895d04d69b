using System.Text.Json;
using MedSsl.Data;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Data;

/// <summary>The one random source: SplitMix64 against an independent implementation, the uniformity of its draws,
/// and the one profile definition.</summary>
public class SeededRandomTests
{
    [Fact]
    public void MatchesAnIndependentSplitMix64()
    {
        // The same generator written in Python from its definition (Steele, Lea & Flood 2014), with our seeding.
        var (code, output) = Medssl.Exec("/usr/bin/python3", "-c", """
            import json
            M = (1 << 64) - 1
            def outputs(seed, stream, n):
                state = (seed & 0xFFFFFFFF) ^ ((stream * 0xD1B54A32D192ED03 + 0x9E3779B97F4A7C15) & M)
                out = []
                for _ in range(n):
                    state = (state + 0x9E3779B97F4A7C15) & M
                    z = state
                    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
                    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
                    out.append(str(z ^ (z >> 31)))
                return out
            print(json.dumps({"s7": outputs(7, 0, 5), "s7t3": outputs(7, 3, 5), "neg": outputs(-1, 0, 2)}))
            """);
        Assert.Equal(0, code);
        var reference = JsonDocument.Parse(output).RootElement;
        ulong[] Ours(int seed, ulong stream, int n) { var r = new SeededRandom(seed, stream); return [.. Enumerable.Range(0, n).Select(_ => r.NextUInt64())]; }
        Assert.Equal(reference.GetProperty("s7").EnumerateArray().Select(e => ulong.Parse(e.GetString()!)), Ours(7, 0, 5));
        Assert.Equal(reference.GetProperty("s7t3").EnumerateArray().Select(e => ulong.Parse(e.GetString()!)), Ours(7, 3, 5));
        Assert.Equal(reference.GetProperty("neg").EnumerateArray().Select(e => ulong.Parse(e.GetString()!)), Ours(-1, 0, 2));
    }

    [Fact]
    public void DrawsAreUniformAndNormalOverManySamples()
    {
        var rng = new SeededRandom(11);
        var counts = new int[10];
        for (var i = 0; i < 100_000; i++) counts[rng.Next(10)]++;
        // Binomial(100000, 0.1): sd ≈ 95, so ±600 is > 6 sd.
        Assert.All(counts, c => Assert.InRange(c, 10_000 - 600, 10_000 + 600));
        var normals = Enumerable.Range(0, 100_000).Select(_ => rng.Normal()).ToArray();
        Assert.InRange(normals.Average(), -0.02, 0.02);                                       // sd of the mean ≈ 0.003
        Assert.InRange(normals.Select(v => v * v).Average(), 0.97, 1.03);
        Assert.All(Enumerable.Range(0, 1000).Select(_ => rng.NextDouble()), u => Assert.InRange(u, 0.0, 0.9999999999));
        Assert.Equal(Enumerable.Range(0, 50), SeededRandom.Permutation(50, 3, 1).Order());
        Assert.Equal(SeededRandom.Permutation(50, 3, 1), SeededRandom.Permutation(50, 3, 1));
        Assert.NotEqual(SeededRandom.Permutation(50, 3, 1), SeededRandom.Permutation(50, 3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.Next(0));
    }

    [Fact]
    public void ProfilesParseQuickAndFullAndNothingElse()
    {
        Assert.Equal(RunProfile.Quick, RunProfiles.Parse("quick"));
        Assert.Equal(RunProfile.Full, RunProfiles.Parse(" FULL "));
        var e = Assert.Throws<ArgumentException>(() => RunProfiles.Parse("fast"));
        Assert.Contains("\"quick\"", e.Message);
        Assert.Contains("\"full\"", e.Message);
        Assert.Contains("\"fast\"", e.Message);
        Assert.Throws<ArgumentException>(() => RunProfiles.Parse(null));
        Assert.Equal(20, RunProfile.Full.Pick(quick: 5, workshop: 10, full: 20));
    }
}

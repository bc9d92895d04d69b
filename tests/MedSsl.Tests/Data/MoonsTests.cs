using System.Globalization;
using MedSsl.Data;
using MedSsl.Data.Loaders;

namespace MedSsl.Tests.Data;

public class MoonsTests
{
    [Theory]
    [InlineData(7)]
    [InlineData(200)]
    public void NoiselessUnshuffledMoonsEqualSklearnExactly(int n)
    {
        var reference = PointsCsv.Load(Fixture.Path($"moons_n{n}.csv"));
        var ours = Moons.Make(n, noise: 0, shuffle: false);
        Assert.Equal(reference.Y, ours.Y);
        // Same construction and operations; numpy's vectorised cos/sin may differ from .NET's in the last bit,
        // so coordinates agree to within a couple of ulps (values lie in [−1, 2]).
        for (var i = 0; i < ours.X.Length; i++) Assert.Equal(reference.X[i], ours.X[i], 1e-15);
    }

    [Fact]
    public void NoisyMoonsMatchSklearnStatistics()
    {
        var lines = File.ReadAllLines(Fixture.Path("moons_noise0.1_stats.csv")).Skip(1)
            .Select(l => l.Split(',').Skip(1).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        var stats = new double[2, 4];
        const int seeds = 20;
        for (var seed = 0; seed < seeds; seed++)
        {
            var d = Moons.Make(1000, noise: 0.1, seed: seed);
            Assert.Equal(500, d.Y.Count(c => c == 0)); // sklearn's split: n/2 outer, the rest inner
            for (var c = 0; c < 2; c++)
            {
                var idx = Enumerable.Range(0, d.Count).Where(i => d.Y[i] == c).ToArray();
                for (var j = 0; j < 2; j++)
                {
                    var values = idx.Select(i => d[i, j]).ToArray();
                    var mean = values.Average();
                    stats[c, j] += mean / seeds;
                    stats[c, 2 + j] += Math.Sqrt(values.Average(v => (v - mean) * (v - mean))) / seeds;
                }
            }
        }
        // 20 seeds × 500 points: sampling error of these averages is ~0.003
        for (var c = 0; c < 2; c++)
            for (var k = 0; k < 4; k++) Assert.InRange(stats[c, k], lines[c][k] - 0.01, lines[c][k] + 0.01);
    }

    [Fact]
    public void NoiseIsGaussianWithTheRequestedScale()
    {
        var clean = Moons.Make(4001, noise: 0, seed: 3);
        var noisy = Moons.Make(4001, noise: 0.1, seed: 3); // same seed: same shuffle, then noise
        Assert.Equal(clean.Y, noisy.Y);
        var residuals = clean.X.Zip(noisy.X, (a, b) => b - a).ToArray();
        var std = Math.Sqrt(residuals.Average(r => r * r));
        Assert.InRange(std, 0.097, 0.103);
        Assert.InRange(residuals.Average(), -0.005, 0.005);
        Assert.Equal(2001, clean.Y.Count(c => c == 1)); // odd n: the inner moon gets the extra point
    }

    [Fact]
    public void SameSeedSameDataDifferentSeedDifferentData()
    {
        Assert.Equal(Moons.Make(RunProfile.Quick, seed: 5).X, Moons.Make(RunProfile.Quick, seed: 5).X);
        Assert.NotEqual(Moons.Make(RunProfile.Quick, seed: 5).X, Moons.Make(RunProfile.Quick, seed: 6).X);
        Assert.Equal(1000, Moons.Make(RunProfile.Full).Count);
    }

    [Fact]
    public void TensorsHaveTheBindingShapesAndTypes()
    {
        var d = Moons.Make(10, noise: 0, shuffle: false);
        var (x, y) = d.ToTensors();
        using (x)
        using (y)
        {
            Assert.Equal(new long[] { 10, 2 }, x.shape);
            Assert.Equal(TorchSharp.torch.ScalarType.Int64, y.dtype);
            Assert.Equal(d.Y.Select(v => (long)v).ToArray(), y.data<long>().ToArray());
            Assert.Equal((float)d[3, 1], x.data<float>().ToArray()[7]);
        }
    }

    [Fact]
    public void PickerTakesKPerClassDeterministically()
    {
        var d = Moons.Make(1000, noise: 0.1, seed: 1);
        var picked = LabelledPicker.PerClass(d.Y, 4, seed: 9);
        Assert.Equal(8, picked.Length);
        Assert.Equal(4, picked.Count(i => d.Y[i] == 0));
        Assert.Equal(picked, LabelledPicker.PerClass(d.Y, 4, seed: 9));
        Assert.NotEqual(picked, LabelledPicker.PerClass(d.Y, 4, seed: 10));
        var rest = LabelledPicker.Rest(d.Count, picked);
        Assert.Equal(992, rest.Length);
        Assert.Empty(rest.Intersect(picked));
        Assert.Throws<ArgumentException>(() => LabelledPicker.PerClass([0, 0, 1], 2));
    }

    [Fact]
    public void PointsRoundTripThroughCsv()
    {
        var dir = Fixture.TempDir();
        var d = Moons.Make(50, noise: 0.2, seed: 2);
        PointsCsv.Write(d, Path.Combine(dir, "m.csv"));
        var back = PointsCsv.Load(Path.Combine(dir, "m.csv"));
        Assert.Equal(d.X, back.X);
        Assert.Equal(d.Y, back.Y);
    }
}

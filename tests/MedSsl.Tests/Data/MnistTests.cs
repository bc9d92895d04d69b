using MedSsl.Data;
using MedSsl.Data.Formats;
using MedSsl.Data.Loaders;

namespace MedSsl.Tests.Data;

public class MnistTests
{
    [Fact]
    public void ReadsGzippedImagesAndRawLabels()
    {
        var d = Mnist.Load(Fixture.Path("mnist-images-idx3-ubyte.gz"), Fixture.Path("mnist-labels-idx1-ubyte"), 10);
        Assert.Equal((3, 1, 2, 3), (d.Count, d.Channels, d.Height, d.Width));
        Assert.Equal(new[] { 7, 0, 9 }, d.ClassIndices());
        Assert.Equal((20 + 4) / 255f, d.Image(2)[4]);
        Assert.Equal(10, d.LabelNames.Count);
    }

    [Fact]
    public void WriteThenLoadRoundTrips()
    {
        var dir = Fixture.TempDir();
        var d = Mnist.Load(Fixture.Path("mnist-images-idx3-ubyte.gz"), Fixture.Path("mnist-labels-idx1-ubyte"), 10);
        Mnist.Write(d, Path.Combine(dir, "i-idx3-ubyte.gz"), Path.Combine(dir, "l-idx1-ubyte"));
        var back = Mnist.Load(Path.Combine(dir, "i-idx3-ubyte.gz"), Path.Combine(dir, "l-idx1-ubyte"), 10);
        Assert.Equal(d.ClassIndices(), back.ClassIndices());
        Assert.True(d.Image(1).SequenceEqual(back.Image(1)));
    }

    private static string Write(byte[] bytes)
    {
        var path = Path.Combine(Fixture.TempDir(), "x-idx3-ubyte");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void ReadsBigEndianWiderTypes()
    {
        var int16 = Idx.Read(Write([0, 0, 0x0B, 1, 0, 0, 0, 2, 0xFF, 0xFE, 0x01, 0x00]));
        Assert.Equal((-2.0, 256.0), (int16[0], int16[1]));
        var float32 = Idx.Read(Write([0, 0, 0x0D, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0x3F, 0xC0, 0, 0])); // 1.5f
        Assert.Equal([1, 1], float32.Shape);
        Assert.Equal(1.5, float32[0]);
    }

    [Fact]
    public void BadIdxFilesAreNamedErrors()
    {
        var labels = Fixture.Path("mnist-labels-idx1-ubyte");
        // truncated values
        Assert.Contains("truncated", Assert.Throws<DataFormatException>(() => Idx.Read(Write([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))).Problem);
        // 100000 × 100000 × 100000 declared: refused, not allocated
        Assert.Contains("beyond the bound", Assert.Throws<DataFormatException>(() =>
            Idx.Read(Write([0, 0, 8, 3, 0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0]))).Problem);
        Assert.Contains("type code", Assert.Throws<DataFormatException>(() => Idx.Read(Write([0, 0, 0x42, 1, 0, 0, 0, 0]))).Problem);
        Assert.Contains("not an IDX", Assert.Throws<DataFormatException>(() => Idx.Read(Write([1, 2, 3, 4]))).Problem);
        // images and labels disagree in count
        var two = Write([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 5, 6]);
        var e = Assert.Throws<DataFormatException>(() => Mnist.Load(two, labels));
        Assert.Equal(labels, e.Path);
    }
}

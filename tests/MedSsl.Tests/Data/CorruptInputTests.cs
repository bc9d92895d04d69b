using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using MedSsl.Data;
using MedSsl.Data.Formats;
using MedSsl.Data.Loaders;

namespace MedSsl.Tests.Data;

/// <summary>Corrupt, oversized and non-regular inputs end in a <see cref="DataFormatException"/> naming the file and
/// the problem; nothing is accepted with wrong data.</summary>
public class CorruptInputTests
{
    private static float[] Ramp(int n) => Enumerable.Range(0, n).Select(i => (float)(i % 251)).ToArray();

    [Fact]
    public void GzipCorruptionInsideTheDataIsRefusedNotReadAsWrongVoxels()
    {
        var dir = Fixture.TempDir();
        var path = Path.Combine(dir, "v.nii.gz");
        var data = Ramp(24 * 24 * 12);
        Nifti.Write(path, 24, 24, 12, data, NiftiDataType.UInt8);
        var good = File.ReadAllBytes(path);
        int refused = 0, identical = 0;
        // Every byte of the deflate body after the 10-byte gzip header and before the 8-byte trailer, flipped.
        for (var at = 10; at < good.Length - 8; at++)
        {
            var bad = (byte[])good.Clone();
            bad[at] ^= 0x5A;
            File.WriteAllBytes(path, bad);
            try
            {
                var v = Nifti.Read(path);
                Assert.Equal(data, v.Data); // a success must be the very data written
                identical++;
            }
            catch (DataFormatException e)
            {
                Assert.Equal(path, e.Path);
                refused++;
            }
        }
        Assert.True(refused > 0.9 * (good.Length - 18), $"{refused} of {good.Length - 18} corruptions refused, {identical} read identically");
    }

    [Fact]
    public void GzipTrailerMismatchIsNamed()
    {
        var dir = Fixture.TempDir();
        var path = Path.Combine(dir, "labels-idx1-ubyte.gz");
        Idx.WriteBytes(path, [100], Enumerable.Range(0, 100).Select(i => (byte)i).ToArray());
        var bytes = File.ReadAllBytes(path);
        bytes[^6] ^= 1; // the stored CRC-32
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => Idx.Read(path));
        Assert.Contains("gzip", e.Problem);
        File.WriteAllBytes(path, bytes[..^4]); // the length field cut off
        e = Assert.Throws<DataFormatException>(() => Idx.Read(path));
        Assert.Contains("gzip", e.Problem);
    }

    [Fact]
    public void IdxFloat64HeaderBeyondTheByteBoundIsNamed()
    {
        var path = Path.Combine(Fixture.TempDir(), "big-idx3");
        var header = new byte[4 + 4 + 100];
        header[2] = 0x0E; // float64
        header[3] = 1;
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), 1 << 28);
        File.WriteAllBytes(path, header);
        var e = Assert.Throws<DataFormatException>(() => Idx.Read(path));
        Assert.Contains("beyond the bound", e.Problem);
    }

    [Fact]
    public void DevicesAndFifosAreRefusedWithoutReading()
    {
        var e = Assert.Throws<DataFormatException>(() => Nifti.Read("/dev/zero"));
        Assert.Contains("not a regular file", e.Problem);
        Assert.Throws<DataFormatException>(() => Png.Read("/dev/zero"));
        Assert.Throws<DataFormatException>(() => Csv.Read("/dev/null"));
        var fifo = Path.Combine(Fixture.TempDir(), "pipe.nii");
        using (var mkfifo = Process.Start("mkfifo", [fifo])) mkfifo.WaitForExit();
        var watch = Stopwatch.StartNew();
        e = Assert.Throws<DataFormatException>(() => Nifti.Read(fifo));
        Assert.Contains("not a regular file", e.Problem);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void AManifestBeyondItsLoadBudgetIsNamedBeforeItIsAllocated()
    {
        var dir = Fixture.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "v"));
        var image = Ramp(16 * 16 * 8);
        var mask = new float[image.Length];
        mask[0] = 1;
        var lines = new List<string> { "id,image,mask,liver" };
        for (var i = 0; i < 8; i++)
        {
            Nifti.Write(Path.Combine(dir, "v", $"i{i}.nii.gz"), 16, 16, 8, image, NiftiDataType.Float32);
            Nifti.Write(Path.Combine(dir, "v", $"m{i}.nii.gz"), 16, 16, 8, mask, NiftiDataType.UInt8);
            lines.Add($"c{i},v/i{i}.nii.gz,v/m{i}.nii.gz,1");
        }
        File.WriteAllLines(Path.Combine(dir, VolumeFolder.ManifestName), lines);
        Assert.Equal(8, VolumeFolder.Load(dir).Count);
        // One volume is 2 048 voxels: 8 KiB raw + 8 KiB as floats; the mask 2 KiB + 8 KiB + 2 KiB of labels.
        var budget = new LoadBudget(100_000);
        var e = Assert.Throws<DataFormatException>(() => VolumeFolder.Load(dir, budget));
        Assert.Contains("memory budget", e.Problem);
        Assert.True(budget.Used <= budget.Limit);
    }

    [Fact]
    public void LoadBudgetRefusesWhatDoesNotFitAndCountsWhatDoes()
    {
        var budget = new LoadBudget(1000);
        budget.Charge("a", 600, "x");
        var e = Assert.Throws<DataFormatException>(() => budget.Charge("b", 401, "y"));
        Assert.Equal("b", e.Path);
        Assert.Equal(600, budget.Used);
        budget.Charge("c", 400, "z");
        Assert.Equal(1000, budget.Used);
        Assert.Throws<DataFormatException>(() => budget.Charge("d", long.MaxValue, "huge"));
        Assert.Equal(1000, budget.Used);
    }
}

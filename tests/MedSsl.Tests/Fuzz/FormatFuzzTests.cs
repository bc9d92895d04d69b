using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using MedSsl.Data;
using MedSsl.Data.Formats;
using MedSsl.Data.Loaders;
using Xunit.Abstractions;

namespace MedSsl.Tests.Fuzz;

/// <summary>
/// Seeded, time-bounded fuzzing of the readers: valid files are mutated (bit flips, byte runs, truncation, appended
/// bytes, header fields set to huge values) and read back. Every outcome must be a <see cref="DataFormatException"/>
/// naming the file, or a success; a success must return the original data wherever the format can tell (gzip's
/// CRC-32, PNG's chunk CRCs) and a self-consistent result elsewhere. Any other exception, a wrong success or a read
/// that takes over 10 s fails the test. Each test prints its counts.
/// </summary>
public sealed class FormatFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20261204;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(6);
    private const int MaxCases = 400;

    private sealed class Counts
    {
        public int Cases, NamedErrors, IdenticalSuccesses, OtherSuccesses;
        public List<string> WrongSuccesses { get; } = [];
        public List<string> Crashes { get; } = [];
        public List<string> Hangs { get; } = [];

        public override string ToString() =>
            $"{Cases} cases: {NamedErrors} named errors, {IdenticalSuccesses} identical successes, {OtherSuccesses} other successes " +
            $"(no checksum to tell), {WrongSuccesses.Count} wrong successes, {Crashes.Count} other exceptions, {Hangs.Count} hangs";
    }

    /// <summary>Mutates <paramref name="original"/> MaxCases times (or until the time budget is spent), writes each
    /// mutant to <paramref name="path"/> and classifies <paramref name="check"/>'s outcome: true = identical data,
    /// false = accepted where no checksum can tell, throw = named error or a failure.</summary>
    private Counts Fuzz(string name, byte[] original, string path, Func<bool> check, Func<Random, byte[], byte[]>? headerMutation = null,
        bool checksummed = true)
    {
        var random = new Random(Seed + name.Length * 7919 + name[0] * 31 + name[^1]);
        var counts = new Counts();
        var watch = Stopwatch.StartNew();
        while (counts.Cases < MaxCases && watch.Elapsed < Budget)
        {
            var (kind, mutant) = Mutate(random, original, headerMutation);
            File.WriteAllBytes(path, mutant);
            counts.Cases++;
            var label = $"{name} #{counts.Cases} ({kind})";
            var read = Task.Run(check);
            try
            {
                if (!read.Wait(TimeSpan.FromSeconds(10))) { counts.Hangs.Add(label); break; }
                if (read.Result) counts.IdenticalSuccesses++;
                else if (checksummed) counts.WrongSuccesses.Add(label);
                else counts.OtherSuccesses++;
            }
            catch (AggregateException e) when (e.InnerException is DataFormatException d)
            {
                if (d.Path != path) counts.Crashes.Add($"{label}: the error names {d.Path}, not the file read");
                else counts.NamedErrors++;
            }
            catch (AggregateException e)
            {
                counts.Crashes.Add($"{label}: {e.InnerException!.GetType().Name}: {e.InnerException.Message}");
            }
        }
        output.WriteLine($"fuzz {name}: {counts}");
        Assert.True(counts.WrongSuccesses.Count == 0 && counts.Crashes.Count == 0 && counts.Hangs.Count == 0,
            $"fuzz {name}: {counts}\n" + string.Join("\n", counts.WrongSuccesses.Concat(counts.Crashes).Concat(counts.Hangs).Take(10)));
        Assert.True(counts.NamedErrors > 0, $"fuzz {name}: no mutation was refused ({counts})");
        return counts;
    }

    private static (string Kind, byte[] Bytes) Mutate(Random random, byte[] original, Func<Random, byte[], byte[]>? headerMutation)
    {
        var bytes = (byte[])original.Clone();
        switch (random.Next(headerMutation is null ? 5 : 6))
        {
            case 0:
                for (var k = random.Next(1, 5); k > 0; k--) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return ("bit flips", bytes);
            case 1:
                var at = random.Next(bytes.Length);
                var run = Math.Min(random.Next(1, 16), bytes.Length - at);
                var value = (byte)(random.Next(2) == 0 ? 0xFF : random.Next(256));
                var changed = false;
                for (var i = at; i < at + run; i++) { changed |= bytes[i] != value; bytes[i] = value; }
                return (changed ? "byte run" : "no-op run", bytes);
            case 2:
                return ("truncation", bytes[..random.Next(bytes.Length)]);
            case 3:
                var extra = new byte[random.Next(1, 64)];
                random.NextBytes(extra);
                return ("appended bytes", [.. bytes, .. extra]);
            case 4:
                var cut = random.Next(bytes.Length);
                var length = Math.Min(random.Next(1, 32), bytes.Length - cut);
                return ("bytes removed", [.. bytes[..cut], .. bytes[(cut + length)..]]);
            default:
                return ("header", headerMutation!(random, bytes));
        }
    }

    private static float[] Ramp(int n) => Enumerable.Range(0, n).Select(i => (float)((i * 37) % 251)).ToArray();

    [Fact]
    public void Gzipped_nifti_is_refused_or_read_exactly()
    {
        var dir = Fixture();
        var path = Path.Combine(dir, "v.nii.gz");
        var data = Ramp(12 * 10 * 6);
        Nifti.Write(path, 12, 10, 6, data, NiftiDataType.Int16, [0.5, 0.75, 2]);
        // gzip's CRC-32 covers every decompressed byte: a success must be the very volume written.
        Fuzz("nifti.gz", File.ReadAllBytes(path), path, () =>
        {
            var v = Nifti.Read(path);
            return (v.SizeX, v.SizeY, v.SizeZ) == (12, 10, 6) && v.Data.SequenceEqual(data) && v.Spacing.SequenceEqual([0.5, 0.75, 2]);
        });
    }

    [Fact]
    public void Plain_nifti_headers_with_huge_or_broken_fields_are_refused_or_read_consistently()
    {
        var dir = Fixture();
        var path = Path.Combine(dir, "v.nii");
        var data = Ramp(8 * 8 * 4);
        Nifti.Write(path, 8, 8, 4, data, NiftiDataType.Float32);
        var headerFields = new[] { 40, 42, 44, 46, 48, 70, 72, 108, 112 }; // dim[0..3], datatype, bitpix, vox_offset, scl_slope
        Fuzz("nifti", File.ReadAllBytes(path), path, () =>
        {
            var v = Nifti.Read(path);
            // No checksum: a success must at least be self-consistent.
            Assert.Equal((long)v.SizeX * v.SizeY * v.SizeZ, v.Data.LongLength);
            return v.Data.SequenceEqual(data);
        }, (random, bytes) =>
        {
            var field = headerFields[random.Next(headerFields.Length)];
            var huge = new[] { short.MaxValue, short.MinValue, -1, 0, 1 << 14 }[random.Next(5)];
            if (field == 108) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(field), new[] { 1e30f, -1f, float.NaN, 1 << 30 }[random.Next(4)]);
            else if (field == 112) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(field), new[] { float.NaN, float.PositiveInfinity, 0f }[random.Next(3)]);
            else BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(field), (short)huge);
            return bytes;
        }, checksummed: false);
    }

    [Fact]
    public void Gzipped_idx_is_refused_or_read_exactly_and_huge_headers_are_refused()
    {
        var dir = Fixture();
        var path = Path.Combine(dir, "images-idx3-ubyte.gz");
        var values = Enumerable.Range(0, 20 * 8 * 8).Select(i => (byte)(i * 31)).ToArray();
        Idx.WriteBytes(path, [20, 8, 8], values);
        Fuzz("idx.gz", File.ReadAllBytes(path), path, () =>
        {
            var a = Idx.Read(path);
            return a.Shape.SequenceEqual([20, 8, 8]) && a.TypeCode == 0x08 && a.Raw.SequenceEqual(values);
        });

        var plain = Path.Combine(dir, "images-idx3-ubyte");
        Idx.WriteBytes(plain, [20, 8, 8], values);
        Fuzz("idx", File.ReadAllBytes(plain), plain, () =>
        {
            var a = Idx.Read(plain);
            Assert.Equal(a.Count * new Dictionary<byte, int> { [0x08] = 1, [0x09] = 1, [0x0B] = 2, [0x0C] = 4, [0x0D] = 4, [0x0E] = 8 }[a.TypeCode], a.Raw.LongLength);
            return a.Shape.SequenceEqual([20, 8, 8]) && a.Raw.SequenceEqual(values);
        }, (random, bytes) =>
        {
            bytes[2] = new byte[] { 0x08, 0x0E, 0x0D, 0x07 }[random.Next(4)];
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * random.Next(3)), new[] { int.MaxValue, -1, 1 << 28, 1 << 15 }[random.Next(4)]);
            return bytes;
        }, checksummed: false);
    }

    [Fact]
    public void Png_is_refused_or_decoded_exactly()
    {
        var dir = Fixture();
        var path = Path.Combine(dir, "i.png");
        var pixels = Ramp(3 * 9 * 11).Select(v => v / 255f).ToArray();
        var image = PngImage.FromChannelMajor(pixels, 3, 9, 11);
        File.WriteAllBytes(path, Png.Encode(image));
        Fuzz("png", File.ReadAllBytes(path), path, () =>
        {
            var read = Png.Read(path);
            return (read.Width, read.Height, read.Channels) == (11, 9, 3) && read.Samples.SequenceEqual(image.Samples);
        }, (random, bytes) =>
        {
            // IHDR width or height set huge, with the chunk's CRC recomputed so only the size bound can refuse it.
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16 + 4 * random.Next(2)), new[] { int.MaxValue, 1 << 20, 0, -5 }[random.Next(4)]);
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(29), Crc(bytes.AsSpan(12, 17)));
            return bytes;
        });
    }

    [Fact]
    public void Points_csv_is_refused_or_read_consistently()
    {
        var dir = Fixture();
        var path = Path.Combine(dir, "moons.csv");
        var lines = new List<string> { "x0,x1,label" };
        for (var i = 0; i < 30; i++) lines.Add(string.Create(CultureInfo.InvariantCulture, $"{i * 0.25},{-i * 1.5},{i % 3}"));
        File.WriteAllLines(path, lines);
        Fuzz("points.csv", File.ReadAllBytes(path), path, () =>
        {
            var points = PointsCsv.Load(path);
            Assert.All(points.X, x => Assert.True(double.IsFinite(x)));
            Assert.All(points.Y, y => Assert.True(y >= 0));
            Assert.Equal(points.Count * points.Dimensions, points.X.Length);
            return points.Count == 30 && points.X.SequenceEqual(Enumerable.Range(0, 30).SelectMany(i => new[] { i * 0.25, -i * 1.5 }));
        }, checksummed: false);
    }

    [Fact]
    public void Decompression_bombs_end_in_a_named_error()
    {
        var dir = Fixture();
        // A valid 4×4×4 volume followed, inside the same gzip member, by 64 MiB of zeros (64 KiB compressed).
        var path = Path.Combine(dir, "bomb.nii.gz");
        Nifti.Write(Path.Combine(dir, "small.nii"), 4, 4, 4, Ramp(64), NiftiDataType.UInt8);
        using (var file = File.Create(path))
        using (var gz = new GZipStream(file, CompressionLevel.Optimal))
        {
            gz.Write(File.ReadAllBytes(Path.Combine(dir, "small.nii")));
            var zeros = new byte[1 << 20];
            for (var k = 0; k < 64; k++) gz.Write(zeros);
        }
        var e = Assert.Throws<DataFormatException>(() => Nifti.Read(path));
        Assert.Contains("decompression bomb", e.Problem);

        // A header declaring 512×512×256 float64 voxels (within the per-file bound) against a small load budget.
        var big = Path.Combine(dir, "big.nii.gz");
        var header = File.ReadAllBytes(Path.Combine(dir, "small.nii"))[..352];
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(42), 512);
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(44), 512);
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(46), 256);
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(70), (short)NiftiDataType.Float64);
        using (var file = File.Create(big))
        using (var gz = new GZipStream(file, CompressionLevel.Optimal)) gz.Write(header);
        e = Assert.Throws<DataFormatException>(() => Nifti.Read(big, new LoadBudget(256L << 20)));
        Assert.Contains("memory budget", e.Problem);
        output.WriteLine("fuzz bombs: 2 cases, 2 named errors");
    }

    private static uint Crc(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return crc ^ 0xFFFFFFFFu;
    }

    private static string Fixture()
    {
        var dir = Path.Combine(Path.GetTempPath(), "medssl-fuzz", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}

using System.Buffers.Binary;
using MedSsl.Data;
using MedSsl.Data.Formats;

namespace MedSsl.Tests.Data;

public class PngTests
{
    // The fixtures' sample formula (see make_fixtures.py); PIL reads the same values from them.
    private static int Expected(int x, int y, int c, int depth) =>
        depth == 8 ? (x * 7 + y * 13 + c * 50) % 256 : (x * 997 + y * 4099 + c * 12345) % 65536;

    [Theory]
    [InlineData("gray", 8)]
    [InlineData("gray", 16)]
    [InlineData("rgb", 8)]
    [InlineData("rgb", 16)]
    public void DecodesEveryFilterTypeOfHandWrittenFiles(string kind, int depth)
    {
        var channels = kind == "gray" ? 1 : 3;
        for (var filter = 0; filter <= 4; filter++)
        {
            var image = Png.Read(Fixture.Path($"png_{kind}{depth}_f{filter}.png"));
            Assert.Equal((5, 4, channels, depth), (image.Width, image.Height, image.Channels, image.BitDepth));
            for (var y = 0; y < 4; y++)
                for (var x = 0; x < 5; x++)
                    for (var c = 0; c < channels; c++)
                        Assert.Equal(Expected(x, y, c, depth), image.Samples[(y * 5 + x) * channels + c]);
        }
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(1, 16)]
    [InlineData(3, 8)]
    [InlineData(3, 16)]
    public void EncodeThenDecodeIsLosslessForEveryFilter(int channels, int depth)
    {
        var rng = new Random(1);
        var samples = Enumerable.Range(0, 7 * 6 * channels).Select(_ => (ushort)rng.Next(1 << depth)).ToArray();
        var image = new PngImage(7, 6, channels, depth, samples);
        foreach (int? filter in new int?[] { null, 0, 1, 2, 3, 4 })
            Assert.Equal(samples, Png.Decode(Png.Encode(image, filter)).Samples);
    }

    [Fact]
    public void ChannelMajorConversionScalesByBitDepth()
    {
        var image = Png.Read(Fixture.Path("png_rgb16_f0.png"));
        var pixels = image.ToChannelMajor();
        Assert.Equal(Expected(2, 1, 2, 16) / 65535f, pixels[2 * 20 + 1 * 5 + 2]);
    }

    private static byte[] Fixture8() => File.ReadAllBytes(Fixture.Path("png_gray8_f4.png"));

    [Fact]
    public void TruncatedFileIsANamedError()
    {
        var bytes = Fixture8();
        for (var cut = 0; cut < bytes.Length; cut += 7)
        {
            var e = Assert.Throws<DataFormatException>(() => Png.Decode(bytes.AsSpan(0, cut), "cut.png"));
            Assert.Equal("cut.png", e.Path);
        }
    }

    [Fact]
    public void FlippedByteFailsTheCrcCheck()
    {
        var bytes = Fixture8();
        bytes[40] ^= 0x10; // inside the IDAT body
        var e = Assert.Throws<DataFormatException>(() => Png.Decode(bytes, "bad.png"));
        Assert.Contains("CRC", e.Problem);
    }

    private static byte[] WithIhdr(Action<byte[]> change)
    {
        var bytes = Fixture8();
        change(bytes); // IHDR body starts at 16
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(29), Crc32Of(bytes.AsSpan(12, 17)));
        return bytes;
    }

    private static uint Crc32Of(ReadOnlySpan<byte> data)
    {
        // independent bitwise CRC-32 so a test does not lean on the table implementation it checks
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void InterlacedIsRejectedClearly()
    {
        var e = Assert.Throws<DataFormatException>(() => Png.Decode(WithIhdr(b => b[28] = 1)));
        Assert.Contains("interlaced", e.Problem);
    }

    [Fact]
    public void GiantDeclaredSizeIsRefusedWithoutAllocating()
    {
        var e = Assert.Throws<DataFormatException>(() => Png.Decode(WithIhdr(b =>
        {
            BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(16), 1_000_000);
            BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(20), 1_000_000);
        })));
        Assert.Contains("outside the accepted bound", e.Problem);
    }

    [Fact]
    public void HeaderLargerThanTheDataIsTruncation()
    {
        var e = Assert.Throws<DataFormatException>(() => Png.Decode(WithIhdr(b => BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(20), 400))));
        Assert.Contains("truncated", e.Problem);
    }

    [Fact]
    public void PaletteAndLowBitDepthAreRejected()
    {
        Assert.Contains("colour type 3", Assert.Throws<DataFormatException>(() => Png.Decode(WithIhdr(b => b[25] = 3))).Problem);
        Assert.Contains("bit depth 4", Assert.Throws<DataFormatException>(() => Png.Decode(WithIhdr(b => b[24] = 4))).Problem);
    }

    [Fact]
    public void NotAPngAndMissingFileAreNamedErrors()
    {
        Assert.Contains("signature", Assert.Throws<DataFormatException>(() => Png.Decode("hello world"u8)).Problem);
        var missing = Assert.Throws<DataFormatException>(() => Png.Read("/nonexistent/x.png"));
        Assert.Equal("/nonexistent/x.png", missing.Path);
    }
}

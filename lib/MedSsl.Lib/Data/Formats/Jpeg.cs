using SkiaSharp;

namespace MedSsl.Data.Formats;

/// <summary>JPEG images (baseline and progressive, 8-bit grey or colour) decoded by SkiaSharp (libjpeg-turbo), as an
/// 8-bit <see cref="PngImage"/> raster: 1 channel for a grey JPEG, 3 (RGB) for a colour one (YCbCr and CMYK are
/// converted by the decoder). No colour management: samples are the file's, as PIL decodes them.</summary>
public static class Jpeg
{
    /// <summary>Largest pixel count accepted (2^28): a header claiming more is refused before decoding.</summary>
    public const long MaxPixels = 1L << 28;

    public static PngImage Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new DataFormatException(path, "file not found"); }
        catch (DirectoryNotFoundException) { throw new DataFormatException(path, "file not found"); }
        return Decode(bytes, path);
    }

    public static PngImage Decode(byte[] bytes, string path = "<memory>")
    {
        if (bytes.Length < 3 || bytes[0] != 0xFF || bytes[1] != 0xD8 || bytes[2] != 0xFF)
            throw new DataFormatException(path, "not a JPEG file (no FF D8 FF start-of-image marker)");
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data)
            ?? throw new DataFormatException(path, "corrupt JPEG: the header cannot be read");
        if (codec.EncodedFormat != SKEncodedImageFormat.Jpeg)
            throw new DataFormatException(path, $"not a JPEG file ({codec.EncodedFormat})");
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if (width <= 0 || height <= 0 || (long)width * height > MaxPixels)
            throw new DataFormatException(path, $"JPEG header declares {width}×{height} pixels, outside 1 … {MaxPixels}");
        var gray = codec.Info.ColorType == SKColorType.Gray8;
        // The codec's own colour space: no conversion between colour spaces.
        var info = new SKImageInfo(width, height, gray ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Unpremul, codec.Info.ColorSpace);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result == SKCodecResult.IncompleteInput) throw new DataFormatException(path, "truncated JPEG: the image data ends early");
        if (result != SKCodecResult.Success) throw new DataFormatException(path, $"corrupt JPEG: decoding failed ({result})");
        var channels = gray ? 1 : 3;
        var samples = new ushort[(long)width * height * channels];
        var pixels = bitmap.GetPixelSpan();
        var stride = bitmap.RowBytes;
        for (var y = 0; y < height; y++)
        {
            var rowBytes = pixels.Slice(y * stride);
            for (var x = 0; x < width; x++)
            {
                var o = (y * width + x) * channels;
                if (gray) samples[o] = rowBytes[x];
                else
                {
                    samples[o] = rowBytes[4 * x];
                    samples[o + 1] = rowBytes[4 * x + 1];
                    samples[o + 2] = rowBytes[4 * x + 2];
                }
            }
        }
        return new PngImage(width, height, channels, 8, samples);
    }
}

namespace MedSsl.Data.Formats;

/// <summary>A decoded PNG: samples interleaved row by row (H × W × C), at the file's bit depth (8 or 16).
/// Channels is 1 (gray) or 3 (RGB); an alpha channel in the file is dropped on reading.</summary>
public sealed record PngImage(int Width, int Height, int Channels, int BitDepth, ushort[] Samples)
{
    /// <summary>Pixels channel-major (C × H × W) scaled to [0, 1] by the bit depth's maximum.</summary>
    public float[] ToChannelMajor()
    {
        var max = (float)((1 << BitDepth) - 1);
        var plane = Width * Height;
        var result = new float[Channels * plane];
        for (var p = 0; p < plane; p++)
            for (var c = 0; c < Channels; c++)
                result[c * plane + p] = Samples[p * Channels + c] / max;
        return result;
    }

    /// <summary>An image from channel-major values in [0, 1] (clamped), rounded to the bit depth.</summary>
    public static PngImage FromChannelMajor(ReadOnlySpan<float> pixels, int channels, int height, int width, int bitDepth = 8)
    {
        if (channels != 1 && channels != 3) throw new ArgumentException("PNG images here are gray (1 channel) or RGB (3)");
        if (bitDepth != 8 && bitDepth != 16) throw new ArgumentException("bit depth must be 8 or 16");
        if (pixels.Length != channels * height * width) throw new ArgumentException("pixel count does not match the shape");
        var max = (1 << bitDepth) - 1;
        var plane = width * height;
        var samples = new ushort[channels * plane];
        for (var p = 0; p < plane; p++)
            for (var c = 0; c < channels; c++)
                samples[p * channels + c] = (ushort)Math.Round(Math.Clamp(pixels[c * plane + p], 0f, 1f) * max);
        return new PngImage(width, height, channels, bitDepth, samples);
    }
}

namespace MedSsl.Data;

/// <summary>One CT-like volume and its complete organ label map, both [Depth, Height, Width] (slice-major, x
/// fastest, as NIfTI stores them). <see cref="Mask"/> holds 0 for background and k + 1 for organ k.</summary>
public sealed record CtVolume(string Id, int Depth, int Height, int Width, float[] Intensities, byte[] Mask,
    double[] Spacing, double[,] Affine)
{
    public int SliceSize => Height * Width;
}

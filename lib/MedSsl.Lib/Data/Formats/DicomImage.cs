namespace MedSsl.Data.Formats;

/// <summary>One decoded DICOM image (a single- or multi-frame instance).
/// <see cref="Stored"/> holds the stored pixel values, Bits Stored applied (masked, sign-extended when
/// <see cref="Signed"/>), laid out frame, row, column, sample (samples interleaved whatever the file's Planar
/// Configuration) — the order and values of pydicom's <c>pixel_array</c>. Photometric values are kept as stored:
/// MONOCHROME1 is not inverted, YBR is not converted, a palette is not applied (<see cref="ToUnitImage"/> does the
/// first two for display and training). Rescale slope/intercept give physical units (e.g. Hounsfield units) through
/// <see cref="Physical"/>; window centre/width are metadata for display.</summary>
public sealed record DicomImage(
    string Path,
    string TransferSyntaxUid,
    int Rows, int Columns, int Frames, int SamplesPerPixel,
    string PhotometricInterpretation,
    int BitsAllocated, int BitsStored, bool Signed,
    double RescaleSlope, double RescaleIntercept,
    double[] WindowCenter, double[] WindowWidth,
    double[]? ImagePositionPatient, double[]? ImageOrientationPatient, double[]? PixelSpacing,
    double? SliceThickness, int? InstanceNumber,
    string? SeriesInstanceUid, string? Modality,
    double[] Stored)
{
    public int FrameSize => Rows * Columns * SamplesPerPixel;

    /// <summary>Stored values through the modality rescale: slope · stored + intercept (PS3.3 C.11.1).</summary>
    public float[] Physical()
    {
        var result = new float[Stored.Length];
        for (var i = 0; i < result.Length; i++) result[i] = (float)(RescaleSlope * Stored[i] + RescaleIntercept);
        return result;
    }

    /// <summary>One frame as a [0, 1] image, channel-major (C × H × W), for training and display.
    /// Grey images: the first window (centre/width, PS3.3 C.11.2.1.2 linear) when the file has one, else the frame's
    /// own minimum … maximum; MONOCHROME1 inverted so that bright is high. Colour: YBR_FULL / YBR_FULL_422 converted
    /// to RGB (PS3.3 C.7.6.3.1.2), samples divided by 2^BitsStored − 1.</summary>
    public float[] ToUnitImage(int frame = 0)
    {
        if (frame < 0 || frame >= Frames) throw new ArgumentOutOfRangeException(nameof(frame), $"the image has {Frames} frame(s)");
        var plane = Rows * Columns;
        var result = new float[SamplesPerPixel * plane];
        var start = (long)frame * FrameSize;
        if (SamplesPerPixel == 1)
        {
            double lo, hi;
            if (WindowCenter.Length > 0 && WindowWidth.Length > 0 && WindowWidth[0] > 1)
            {
                // The standard's linear window: values ≤ c − 0.5 − (w − 1)/2 are black, > c − 0.5 + (w − 1)/2 white.
                lo = WindowCenter[0] - 0.5 - (WindowWidth[0] - 1) / 2;
                hi = WindowCenter[0] - 0.5 + (WindowWidth[0] - 1) / 2;
            }
            else
            {
                lo = double.MaxValue;
                hi = double.MinValue;
                for (var p = 0; p < plane; p++)
                {
                    var v = RescaleSlope * Stored[start + p] + RescaleIntercept;
                    lo = Math.Min(lo, v);
                    hi = Math.Max(hi, v);
                }
            }
            var invert = PhotometricInterpretation == "MONOCHROME1";
            for (var p = 0; p < plane; p++)
            {
                var v = RescaleSlope * Stored[start + p] + RescaleIntercept;
                var y = hi > lo ? Math.Clamp((v - lo) / (hi - lo), 0, 1) : 0;
                result[p] = (float)(invert ? 1 - y : y);
            }
            return result;
        }
        var max = Math.Pow(2, BitsStored) - 1;
        var ybr = PhotometricInterpretation.StartsWith("YBR_FULL", StringComparison.Ordinal);
        var half = Math.Pow(2, BitsStored - 1);
        for (var p = 0; p < plane; p++)
        {
            double r = Stored[start + 3 * p], g = Stored[start + 3 * p + 1], b = Stored[start + 3 * p + 2];
            if (ybr)
            {
                var (y, cb, cr) = (r, g - half, b - half);
                (r, g, b) = (y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb);
            }
            result[p] = (float)Math.Clamp(r / max, 0, 1);
            result[plane + p] = (float)Math.Clamp(g / max, 0, 1);
            result[2 * plane + p] = (float)Math.Clamp(b / max, 0, 1);
        }
        return result;
    }
}

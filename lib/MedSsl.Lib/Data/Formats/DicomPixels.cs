using System.Buffers.Binary;
using System.Globalization;

namespace MedSsl.Data.Formats;

/// <summary>Pixel data of a parsed DICOM data set → <see cref="DicomImage"/>: the Image Pixel module (PS3.3 C.7.6.3),
/// native pixel data (PS3.5 §8.1.1, 1-bit packed, 8/16/32-bit in the data set's byte order) and RLE Lossless
/// (PS3.5 Annex G).</summary>
internal static class DicomPixels
{
    public static DicomImage Decode(DicomDataSet set, string path)
    {
        var b = set.Bytes;
        var el = set.Elements;
        int Us(uint tag, string name, int? fallback = null)
        {
            if (!el.TryGetValue(tag, out var e) || e.Length < 2)
                return fallback ?? throw new DataFormatException(path, $"no {name} ({tag >> 16:X4},{tag & 0xFFFF:X4}): the file holds no image");
            return Dicom.U16(b, e.Offset, set.Little);
        }
        string? Str(uint tag) => el.TryGetValue(tag, out var e) ? Dicom.Text(b, e) : null;
        double[]? Nums(uint tag, string name) => el.TryGetValue(tag, out var e) ? Dicom.Numbers(b, e, path, name) : null;

        if (!el.TryGetValue(Dicom.PixelDataTag, out var pixels))
            throw new DataFormatException(path, "no Pixel Data (7FE0,0010): the file holds no image (a report, plan, waveform or DICOMDIR?)");
        var rows = Us(0x00280010, "Rows");
        var columns = Us(0x00280011, "Columns");
        var samples = Us(0x00280002, "Samples per Pixel", 1);
        var bitsAllocated = Us(0x00280100, "Bits Allocated");
        var bitsStored = Us(0x00280101, "Bits Stored", bitsAllocated);
        var highBit = Us(0x00280102, "High Bit", bitsStored - 1);
        var signed = Us(0x00280103, "Pixel Representation", 0) == 1;
        var planar = Us(0x00280006, "Planar Configuration", 0);
        var photometric = Str(0x00280004) ?? (samples == 1 ? "MONOCHROME2" : "RGB");
        var framesText = Str(0x00280008);
        var frames = string.IsNullOrEmpty(framesText) ? 1
            : int.TryParse(framesText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var f) ? f
            : throw new DataFormatException(path, $"Number of Frames holds '{framesText}', not an integer");

        if (rows == 0 || columns == 0 || frames <= 0) throw new DataFormatException(path, $"empty image: {frames} frame(s) of {rows}×{columns}");
        if (samples != 1 && samples != 3) throw new DataFormatException(path, $"{samples} samples per pixel: only 1 (grey) or 3 (colour) are read");
        if (bitsAllocated is not (1 or 8 or 16 or 32)) throw new DataFormatException(path, $"Bits Allocated {bitsAllocated} is not supported (1, 8, 16, 32)");
        if (bitsStored < 1 || bitsStored > bitsAllocated || highBit >= bitsAllocated || highBit + 1 < bitsStored)
            throw new DataFormatException(path, $"corrupt: Bits Stored {bitsStored} / High Bit {highBit} do not fit Bits Allocated {bitsAllocated}");
        var count = (long)frames * rows * columns * samples;
        if (count > Dicom.MaxSamples)
            throw new DataFormatException(path, $"{frames} frame(s) of {rows}×{columns}×{samples} = {count} samples, beyond the bound of {Dicom.MaxSamples}");

        var syntax = set.TransferSyntaxUid;
        double[] stored;
        if (pixels.Fragments != null)
        {
            if (syntax != "1.2.840.10008.1.2.5") throw Unsupported(path, syntax);
            stored = DecodeRle(b, pixels.Fragments, frames, rows, columns, samples, bitsAllocated, path);
        }
        else if (Dicom.TransferSyntaxes.ContainsKey(syntax) && !IsNative(syntax)) throw Unsupported(path, syntax);
        else stored = DecodeNative(b, pixels, set.Little, frames, rows, columns, samples, bitsAllocated, planar, photometric, path);

        if (bitsAllocated > 1) ApplyBitsStored(stored, bitsAllocated, bitsStored, highBit, signed);
        var slope = Nums(0x00281053, "Rescale Slope") is [var s, ..] ? s : 1;
        var intercept = Nums(0x00281052, "Rescale Intercept") is [var i, ..] ? i : 0;
        var instance = Str(0x00200013);
        return new DicomImage(path, syntax, rows, columns, frames, samples, photometric, bitsAllocated, bitsStored,
            signed && bitsAllocated > 1, slope, intercept,
            Nums(0x00281050, "Window Center") ?? [], Nums(0x00281051, "Window Width") ?? [],
            Nums(0x00200032, "Image Position (Patient)"), Nums(0x00200037, "Image Orientation (Patient)"),
            Nums(0x00280030, "Pixel Spacing"), Nums(0x00180050, "Slice Thickness") is [var t, ..] ? t : null,
            int.TryParse(instance, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null,
            Str(0x0020000E), Str(0x00080060), stored);
    }

    private static bool IsNative(string syntax) =>
        syntax is "1.2.840.10008.1.2" or "1.2.840.10008.1.2.1" or "1.2.840.10008.1.2.1.99" or "1.2.840.10008.1.2.2";

    private static DataFormatException Unsupported(string path, string syntax) =>
        new(path, $"transfer syntax {syntax} ({(Dicom.TransferSyntaxes.TryGetValue(syntax, out var name) ? name : "unknown")}) is not supported: " +
            "only uncompressed, deflated and RLE Lossless pixel data are decoded; decompress the file first (e.g. dcmtk's " +
            "`dcmdjpeg`/`dcmdjpls`, or `gdcmconv --raw in.dcm out.dcm`)");

    private static double[] DecodeNative(byte[] b, DicomElement pixels, bool little, int frames, int rows, int columns,
        int samples, int bitsAllocated, int planar, string photometric, string path)
    {
        var plane = rows * columns;
        var count = (long)frames * plane * samples;
        var subsampled = photometric == "YBR_FULL_422" && samples == 3 && bitsAllocated > 1;
        // YBR_FULL_422 stores Y1 Y2 Cb Cr for each pair of pixels: 2 samples a pixel instead of 3 (PS3.3 C.7.6.3.1.2).
        var storedSamples = subsampled ? count / 3 * 2 : count;
        var expected = bitsAllocated == 1 ? (storedSamples + 7) / 8 : storedSamples * (bitsAllocated / 8);
        if (pixels.Length < expected)
            throw new DataFormatException(path, $"truncated: the pixel data holds {pixels.Length} bytes, {frames} frame(s) of {rows}×{columns}×{samples} at {bitsAllocated} bits need {expected}");
        var raw = new double[storedSamples];
        var at = pixels.Offset;
        switch (bitsAllocated)
        {
            case 1:
                for (long i = 0; i < storedSamples; i++) raw[i] = (b[at + (int)(i >> 3)] >> (int)(i & 7)) & 1;
                break;
            case 8:
                for (long i = 0; i < storedSamples; i++) raw[i] = b[at + i];
                break;
            case 16:
                for (long i = 0; i < storedSamples; i++) raw[i] = Dicom.U16(b, at + (int)(2 * i), little);
                break;
            default:
                for (long i = 0; i < storedSamples; i++) raw[i] = Dicom.U32(b, at + (int)(4 * i), little);
                break;
        }
        if (subsampled)
        {
            var full = new double[count];
            for (long pair = 0; pair < storedSamples / 4; pair++)
            {
                double y1 = raw[4 * pair], y2 = raw[4 * pair + 1], cb = raw[4 * pair + 2], cr = raw[4 * pair + 3];
                var o = 6 * pair;
                (full[o], full[o + 1], full[o + 2], full[o + 3], full[o + 4], full[o + 5]) = (y1, cb, cr, y2, cb, cr);
            }
            return full;
        }
        if (samples == 3 && planar == 1)
        {
            // Planar configuration 1: each frame is R plane, G plane, B plane; interleave.
            var interleaved = new double[count];
            for (var fr = 0; fr < frames; fr++)
            {
                var start = (long)fr * plane * 3;
                for (var p = 0; p < plane; p++)
                    for (var c = 0; c < 3; c++) interleaved[start + 3 * p + c] = raw[start + (long)c * plane + p];
            }
            return interleaved;
        }
        return raw;
    }

    // PS3.5 Annex G: each frame is one fragment: a 64-byte header (segment count, 15 offsets, little endian), then
    // one PackBits segment per byte of each sample, most significant byte first, sample by sample.
    private static double[] DecodeRle(byte[] b, List<(int Offset, int Length)> items, int frames, int rows, int columns,
        int samples, int bitsAllocated, string path)
    {
        if (bitsAllocated == 1) throw new DataFormatException(path, "RLE with 1-bit pixels is not supported");
        var fragments = items.Skip(1).ToList(); // the first item is the Basic Offset Table
        if (fragments.Count != frames)
            throw new DataFormatException(path, $"RLE pixel data has {fragments.Count} fragment(s) for {frames} frame(s); one fragment a frame is expected");
        var bytesPerSample = bitsAllocated / 8;
        var plane = rows * columns;
        var result = new double[(long)frames * plane * samples];
        var segment = new byte[plane];
        for (var fr = 0; fr < frames; fr++)
        {
            var (offset, length) = fragments[fr];
            if (length < 64) throw new DataFormatException(path, $"frame {fr}: RLE fragment of {length} bytes has no 64-byte header");
            var segments = (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(offset));
            if (segments != samples * bytesPerSample)
                throw new DataFormatException(path, $"frame {fr}: {segments} RLE segments, {samples} sample(s) of {bytesPerSample} byte(s) need {samples * bytesPerSample}");
            for (var s = 0; s < segments; s++)
            {
                var start = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(offset + 4 + 4 * s));
                var stop = s + 1 < segments ? BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(offset + 8 + 4 * s)) : (uint)length;
                if (start < 64 || stop > length || start > stop)
                    throw new DataFormatException(path, $"frame {fr}: RLE segment {s} spans {start}…{stop}, outside the fragment's {length} bytes");
                UnpackBits(b.AsSpan(offset + (int)start, (int)(stop - start)), segment, path, fr, s);
                var sample = s / bytesPerSample;
                var shift = 8 * (bytesPerSample - 1 - s % bytesPerSample);
                var dst = (long)fr * plane * samples + sample;
                for (var p = 0; p < plane; p++) result[dst + (long)p * samples] += (double)((ulong)segment[p] << shift);
            }
        }
        return result;
    }

    // PackBits (PS3.5 G.3.1): n in 0…127 copies the next n + 1 bytes, −127…−1 repeats the next byte 1 − n times,
    // −128 does nothing. The segment must fill the plane; bytes beyond it (padding) are ignored.
    private static void UnpackBits(ReadOnlySpan<byte> src, byte[] dst, string path, int frame, int segment)
    {
        int i = 0, o = 0;
        while (o < dst.Length && i < src.Length)
        {
            var n = (sbyte)src[i++];
            if (n >= 0)
            {
                var run = Math.Min(n + 1, dst.Length - o);
                if (i + n + 1 > src.Length) throw new DataFormatException(path, $"frame {frame}: RLE segment {segment} ends inside a literal run");
                src.Slice(i, run).CopyTo(dst.AsSpan(o));
                i += n + 1;
                o += run;
            }
            else if (n != -128)
            {
                if (i >= src.Length) throw new DataFormatException(path, $"frame {frame}: RLE segment {segment} ends inside a repeat run");
                var run = Math.Min(1 - n, dst.Length - o);
                dst.AsSpan(o, run).Fill(src[i++]);
                o += run;
            }
        }
        if (o < dst.Length) throw new DataFormatException(path, $"frame {frame}: RLE segment {segment} decodes to {o} bytes, the image needs {dst.Length}");
    }

    // Bits Stored (PS3.5 §8.1.1): the value occupies bits HighBit − BitsStored + 1 … HighBit; other bits are not
    // pixel data. Shift down, mask, and sign-extend from the stored width for signed pixels.
    private static void ApplyBitsStored(double[] values, int bitsAllocated, int bitsStored, int highBit, bool signed)
    {
        var shift = highBit + 1 - bitsStored;
        if (bitsStored == bitsAllocated && !signed) return;
        var mask = bitsStored == 64 ? ulong.MaxValue : (1UL << bitsStored) - 1;
        var sign = 1UL << (bitsStored - 1);
        for (var i = 0; i < values.Length; i++)
        {
            var v = ((ulong)values[i] >> shift) & mask;
            values[i] = signed && (v & sign) != 0 ? (double)((long)v - (1L << bitsStored)) : v;
        }
    }
}

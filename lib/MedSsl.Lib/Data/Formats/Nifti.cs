using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace MedSsl.Data.Formats;

/// <summary>Single-file NIfTI-1 (<c>.nii</c>, <c>.nii.gz</c>) reading and writing, either byte order.
/// Reads volumes of up to 3 dimensions (a 4th of size 1 is accepted) in the types of <see cref="NiftiDataType"/>.</summary>
public static partial class Nifti
{
    /// <summary>Largest voxel count accepted (2^27, e.g. 512³): a header claiming more is refused before
    /// anything is allocated.</summary>
    public const long MaxVoxels = 1L << 27;

    private const int HeaderSize = 348;

    /// <summary>Reads a volume, charging its raw and decoded bytes to <paramref name="budget"/> (a fresh
    /// <see cref="LoadBudget"/> when none is given) before allocating them.</summary>
    public static NiftiVolume Read(string path, LoadBudget? budget = null)
    {
        budget ??= new LoadBudget();
        using var stream = CompressedFile.Open(path);
        var h = CompressedFile.ReadExactly(stream, HeaderSize, path, "the NIfTI header");
        if (BinaryPrimitives.ReadInt32LittleEndian(h) == Header2Size || BinaryPrimitives.ReadInt32BigEndian(h) == Header2Size)
            return ReadImage(path) is { Volumes: 1 } image ? image.Volume(0) : throw new DataFormatException(path, "a 4-d NIfTI-2 image: read it with Nifti.ReadImage or Nifti.Read(path, t)");
        var little = BinaryPrimitives.ReadInt32LittleEndian(h) == HeaderSize;
        if (!little && BinaryPrimitives.ReadInt32BigEndian(h) != HeaderSize)
            throw new DataFormatException(path, "not a NIfTI-1 file (sizeof_hdr is not 348)");
        var magic = Encoding.ASCII.GetString(h, 344, 3);
        if (magic == "ni1") throw new DataFormatException(path, "two-file NIfTI (.hdr/.img) is not supported: convert to a single .nii");
        if (magic != "n+1") throw new DataFormatException(path, $"not a NIfTI-1 file (magic '{magic}')");

        short I16(int at) => little ? BinaryPrimitives.ReadInt16LittleEndian(h.AsSpan(at)) : BinaryPrimitives.ReadInt16BigEndian(h.AsSpan(at));
        float F32(int at) => little ? BinaryPrimitives.ReadSingleLittleEndian(h.AsSpan(at)) : BinaryPrimitives.ReadSingleBigEndian(h.AsSpan(at));

        var ndim = I16(40);
        if (ndim < 1 || ndim > 7) throw new DataFormatException(path, $"corrupt: dim[0] = {ndim}");
        var dims = new int[3];
        for (var d = 0; d < 3; d++) dims[d] = d < ndim ? I16(42 + 2 * d) : 1;
        for (var d = 3; d < ndim; d++)
            if (I16(42 + 2 * d) > 1) throw new DataFormatException(path, $"{ndim}-d image with dim[{d + 1}] = {I16(42 + 2 * d)}: only 3-d volumes are read here (Nifti.ReadImage reads 4-d images)");
        if (dims.Any(s => s <= 0)) throw new DataFormatException(path, $"corrupt: non-positive size {string.Join('×', dims)}");
        var voxels = (long)dims[0] * dims[1] * dims[2];
        if (voxels > MaxVoxels)
            throw new DataFormatException(path, $"header declares {string.Join('×', dims)} = {voxels} voxels, beyond the bound of {MaxVoxels}");

        var type = (NiftiDataType)I16(70);
        var size = BytesPerVoxel(type, path);
        var voxOffset = (long)F32(108);
        if (voxOffset < HeaderSize || voxOffset > 1 << 26)
            throw new DataFormatException(path, $"corrupt: vox_offset {voxOffset} is outside {HeaderSize} … {1 << 26}");
        var spacing = new[] { (double)F32(80), F32(84), F32(88) };
        var slope = F32(112);
        var inter = F32(116);
        if (slope == 0 || !float.IsFinite(slope)) { slope = 1; inter = 0; } // the standard: slope 0 means unscaled
        if (!float.IsFinite(inter)) inter = 0;
        var qformCode = I16(252);
        var sformCode = I16(254);
        var affine = sformCode > 0 ? Sform(F32) : qformCode > 0 ? Qform(F32, I16(76) == 0 ? 0 : F32(76), spacing) : Diagonal(spacing);

        var what = $"{string.Join('×', dims)} voxels of {type}";
        budget.Charge(path, voxels * size + voxels * sizeof(float), what);
        CompressedFile.Skip(stream, voxOffset - HeaderSize, path, "the header extension");
        var raw = CompressedFile.ReadExactly(stream, voxels * size, path, what);
        CompressedFile.Finish(stream, path);
        var data = DecodeVoxels(raw, voxels, size, type, little, slope, inter);
        return new NiftiVolume(dims[0], dims[1], dims[2], spacing, affine, qformCode, sformCode, type, data);
    }

    /// <summary>Stored voxel values of <paramref name="type"/> in the file's byte order, scaled to physical values
    /// (slope · stored + intercept): the one decoding loop of NIfTI-1 and NIfTI-2, 3-D and 4-D.</summary>
    private static float[] DecodeVoxels(byte[] raw, long count, int size, NiftiDataType type, bool little, double slope, double inter)
    {
        var data = new float[count];
        for (long v = 0; v < count; v++)
        {
            var at = raw.AsSpan((int)(v * size), size);
            double stored = type switch
            {
                NiftiDataType.UInt8 => at[0],
                NiftiDataType.Int8 => (sbyte)at[0],
                NiftiDataType.Int16 => little ? BinaryPrimitives.ReadInt16LittleEndian(at) : BinaryPrimitives.ReadInt16BigEndian(at),
                NiftiDataType.UInt16 => little ? BinaryPrimitives.ReadUInt16LittleEndian(at) : BinaryPrimitives.ReadUInt16BigEndian(at),
                NiftiDataType.Int32 => little ? BinaryPrimitives.ReadInt32LittleEndian(at) : BinaryPrimitives.ReadInt32BigEndian(at),
                NiftiDataType.Float32 => little ? BinaryPrimitives.ReadSingleLittleEndian(at) : BinaryPrimitives.ReadSingleBigEndian(at),
                _ => little ? BinaryPrimitives.ReadDoubleLittleEndian(at) : BinaryPrimitives.ReadDoubleBigEndian(at),
            };
            data[v] = (float)(slope * stored + inter);
        }
        return data;
    }

    private static double[,] Sform(Func<int, float> f32)
    {
        var a = new double[4, 4];
        for (var r = 0; r < 3; r++)
            for (var c = 0; c < 4; c++) a[r, c] = f32(280 + 16 * r + 4 * c);
        a[3, 3] = 1;
        return a;
    }

    // NIfTI-1 method 2: rotation from the quaternion (b, c, d), a = sqrt(1 − b² − c² − d²), z flipped by qfac.
    private static double[,] Qform(Func<int, float> f32, float qfac, double[] spacing)
    {
        double b = f32(256), c = f32(260), d = f32(264);
        var a = Math.Sqrt(Math.Max(0, 1 - (b * b + c * c + d * d)));
        var q = qfac < 0 ? -1.0 : 1.0;
        var r = new[,]
        {
            { a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c) },
            { 2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b) },
            { 2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b },
        };
        var m = new double[4, 4];
        var s = new[] { spacing[0], spacing[1], q * spacing[2] };
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++) m[i, j] = r[i, j] * s[j];
        m[0, 3] = f32(268);
        m[1, 3] = f32(272);
        m[2, 3] = f32(276);
        m[3, 3] = 1;
        return m;
    }

    private static double[,] Diagonal(double[] spacing)
    {
        var m = new double[4, 4];
        for (var i = 0; i < 3; i++) m[i, i] = spacing[i];
        m[3, 3] = 1;
        return m;
    }

    /// <summary>Writes a little-endian single-file NIfTI-1, gzipped when the path ends in <c>.gz</c>, through a
    /// temporary file. Values are stored as <paramref name="type"/> after (value − inter) / slope, rounded for
    /// integer types; the affine is written as the sform (code 2, aligned) and the qform is left unset.</summary>
    public static void Write(string path, int sizeX, int sizeY, int sizeZ, ReadOnlySpan<float> data,
        NiftiDataType type = NiftiDataType.Float32, double[]? spacing = null, double[,]? affine = null,
        float slope = 1, float inter = 0)
    {
        if (data.Length != (long)sizeX * sizeY * sizeZ) throw new ArgumentException("data length does not match the size");
        if (slope == 0) throw new ArgumentException("slope must be non-zero");
        spacing ??= [1, 1, 1];
        affine ??= Diagonal(spacing);
        var size = type switch
        {
            NiftiDataType.UInt8 or NiftiDataType.Int8 => 1,
            NiftiDataType.Int16 or NiftiDataType.UInt16 => 2,
            NiftiDataType.Int32 or NiftiDataType.Float32 => 4,
            _ => 8,
        };
        var bytes = new byte[352 + data.Length * size];
        var h = bytes.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(h, HeaderSize);
        h[38] = (byte)'r'; // regular = 'r', as every writer sets it
        short[] dim = [3, (short)sizeX, (short)sizeY, (short)sizeZ, 1, 1, 1, 1];
        for (var i = 0; i < 8; i++) BinaryPrimitives.WriteInt16LittleEndian(h[(40 + 2 * i)..], dim[i]);
        BinaryPrimitives.WriteInt16LittleEndian(h[70..], (short)type);
        BinaryPrimitives.WriteInt16LittleEndian(h[72..], (short)(8 * size));
        float[] pixdim = [1, (float)spacing[0], (float)spacing[1], (float)spacing[2], 1, 1, 1, 1];
        for (var i = 0; i < 8; i++) BinaryPrimitives.WriteSingleLittleEndian(h[(76 + 4 * i)..], pixdim[i]);
        BinaryPrimitives.WriteSingleLittleEndian(h[108..], 352);
        BinaryPrimitives.WriteSingleLittleEndian(h[112..], slope);
        BinaryPrimitives.WriteSingleLittleEndian(h[116..], inter);
        h[123] = 2 | 8; // mm, s
        Encoding.ASCII.GetBytes("MedSsl", h[148..]);
        BinaryPrimitives.WriteInt16LittleEndian(h[254..], 2);
        for (var r = 0; r < 3; r++)
            for (var c = 0; c < 4; c++) BinaryPrimitives.WriteSingleLittleEndian(h[(280 + 16 * r + 4 * c)..], (float)affine[r, c]);
        Encoding.ASCII.GetBytes("n+1\0", h[344..]);
        for (var v = 0; v < data.Length; v++)
        {
            var stored = (data[v] - inter) / (double)slope;
            var at = h[(352 + v * size)..];
            switch (type)
            {
                case NiftiDataType.UInt8: at[0] = (byte)Math.Clamp(Math.Round(stored), 0, 255); break;
                case NiftiDataType.Int8: at[0] = (byte)(sbyte)Math.Clamp(Math.Round(stored), -128, 127); break;
                case NiftiDataType.Int16: BinaryPrimitives.WriteInt16LittleEndian(at, (short)Math.Clamp(Math.Round(stored), short.MinValue, short.MaxValue)); break;
                case NiftiDataType.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)Math.Clamp(Math.Round(stored), 0, ushort.MaxValue)); break;
                case NiftiDataType.Int32: BinaryPrimitives.WriteInt32LittleEndian(at, (int)Math.Clamp(Math.Round(stored), int.MinValue, int.MaxValue)); break;
                case NiftiDataType.Float32: BinaryPrimitives.WriteSingleLittleEndian(at, (float)stored); break;
                default: BinaryPrimitives.WriteDoubleLittleEndian(at, stored); break;
            }
        }
        AtomicFile.Write(path, stream =>
        {
            if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
            {
                using var gz = new GZipStream(stream, CompressionLevel.Optimal, leaveOpen: true);
                gz.Write(bytes);
            }
            else stream.Write(bytes);
        });
    }

    /// <summary>The bytes of one voxel of <paramref name="type"/>, or a named error for a type the readers do not decode.</summary>
    internal static int BytesPerVoxel(NiftiDataType type, string path) => type switch
        {
            NiftiDataType.UInt8 or NiftiDataType.Int8 => 1,
            NiftiDataType.Int16 or NiftiDataType.UInt16 => 2,
            NiftiDataType.Int32 or NiftiDataType.Float32 => 4,
            NiftiDataType.Float64 => 8,
            _ => throw new DataFormatException(path, $"NIfTI datatype {(short)type} is not supported (uint8, int8, int16, uint16, int32, float32, float64)"),
        };
}

using System.Buffers.Binary;
using System.Text;

namespace MedSsl.Data.Formats;

/// <summary>A NIfTI-1 or NIfTI-2 image of up to 4 dimensions (x, y, z, t; dimensions 5–7 must be 1): voxel values
/// after scaling, x fastest, then y, z and volume t — as an array [T, Z, Y, X]. <see cref="Volume"/> takes one 3-d
/// volume (e.g. one time point of an fMRI run).</summary>
public sealed record NiftiImage(
    int Version,
    int SizeX, int SizeY, int SizeZ, int Volumes,
    double[] Spacing,
    double[,] Affine,
    int QformCode, int SformCode,
    NiftiDataType DataType,
    float[] Data)
{
    public long VolumeSize => (long)SizeX * SizeY * SizeZ;

    /// <summary>Volume <paramref name="t"/> (0-based) as a 3-d <see cref="NiftiVolume"/>.</summary>
    public NiftiVolume Volume(int t)
    {
        if (t < 0 || t >= Volumes) throw new ArgumentOutOfRangeException(nameof(t), $"the image has {Volumes} volume(s)");
        return new NiftiVolume(SizeX, SizeY, SizeZ, Spacing, Affine, QformCode, SformCode, DataType,
            Data.AsSpan((int)(t * VolumeSize), (int)VolumeSize).ToArray());
    }
}

public static partial class Nifti
{
    private const int Header2Size = 540;

    /// <summary>Reads a single-file NIfTI-1 or NIfTI-2 image (<c>.nii</c>, <c>.nii.gz</c>, either byte order) of up
    /// to 4 dimensions, all volumes. Header layouts: NIfTI-1 (nifti1.h, NIfTI DFWG 2004) and NIfTI-2 (nifti2.h, 2011:
    /// 64-bit sizes and offsets, double-precision spacing, scaling and orientation).</summary>
    public static NiftiImage ReadImage(string path)
    {
        using var stream = CompressedFile.Open(path);
        var head = CompressedFile.ReadExactly(stream, 4, path, "the NIfTI header size");
        var le = BinaryPrimitives.ReadInt32LittleEndian(head);
        var be = BinaryPrimitives.ReadInt32BigEndian(head);
        var little = le is HeaderSize or Header2Size;
        var size = little ? le : be;
        if (size is not (HeaderSize or Header2Size))
            throw new DataFormatException(path, $"not a NIfTI file (sizeof_hdr is {le}, neither 348 nor 540)");
        var rest = CompressedFile.ReadExactly(stream, size - 4, path, "the NIfTI header");
        var h = new byte[size];
        head.CopyTo(h, 0);
        rest.CopyTo(h, 4);
        var v2 = size == Header2Size;

        short I16(int at) => little ? BinaryPrimitives.ReadInt16LittleEndian(h.AsSpan(at)) : BinaryPrimitives.ReadInt16BigEndian(h.AsSpan(at));
        int I32(int at) => little ? BinaryPrimitives.ReadInt32LittleEndian(h.AsSpan(at)) : BinaryPrimitives.ReadInt32BigEndian(h.AsSpan(at));
        long I64(int at) => little ? BinaryPrimitives.ReadInt64LittleEndian(h.AsSpan(at)) : BinaryPrimitives.ReadInt64BigEndian(h.AsSpan(at));
        double F(int at) => v2
            ? little ? BinaryPrimitives.ReadDoubleLittleEndian(h.AsSpan(at)) : BinaryPrimitives.ReadDoubleBigEndian(h.AsSpan(at))
            : little ? BinaryPrimitives.ReadSingleLittleEndian(h.AsSpan(at)) : BinaryPrimitives.ReadSingleBigEndian(h.AsSpan(at));

        var magic = Encoding.ASCII.GetString(h, v2 ? 4 : 344, 3);
        if (magic is "ni1" or "ni2") throw new DataFormatException(path, "two-file NIfTI (.hdr/.img) is not supported: convert to a single .nii");
        if (magic != (v2 ? "n+2" : "n+1")) throw new DataFormatException(path, $"not a NIfTI-{(v2 ? 2 : 1)} file (magic '{magic}')");

        // Field offsets: NIfTI-1 | NIfTI-2.
        long Dim(int i) => v2 ? I64(16 + 8 * i) : I16(40 + 2 * i);
        var ndim = Dim(0);
        if (ndim < 1 || ndim > 7) throw new DataFormatException(path, $"corrupt: dim[0] = {ndim}");
        var dims = new long[4];
        for (var d = 0; d < 4; d++) dims[d] = d < ndim ? Dim(d + 1) : 1;
        for (var d = 4; d < ndim; d++)
            if (Dim(d + 1) > 1) throw new DataFormatException(path, $"{ndim}-d image with dim[{d + 1}] = {Dim(d + 1)}: up to 4 dimensions are read");
        if (dims.Any(s => s <= 0)) throw new DataFormatException(path, $"corrupt: non-positive size {string.Join('×', dims)}");
        var voxels = dims.Aggregate(1.0, (a, s) => a * s); // a double: four int64 sizes cannot overflow it
        if (voxels > MaxVoxels || dims.Any(s => s > int.MaxValue))
            throw new DataFormatException(path, $"header declares {string.Join('×', dims)} = {voxels} voxels, beyond the bound of {MaxVoxels}");

        var type = (NiftiDataType)I16(v2 ? 12 : 70);
        var bytes = Nifti.BytesPerVoxel(type, path);
        var voxOffset = v2 ? I64(168) : (long)F(108);
        if (voxOffset < size || voxOffset > 1 << 26)
            throw new DataFormatException(path, $"corrupt: vox_offset {voxOffset} is outside {size} … {1 << 26}");
        var pixdim = Enumerable.Range(0, 4).Select(i => F((v2 ? 104 : 76) + (v2 ? 8 : 4) * i)).ToArray();
        double[] spacing = [pixdim[1], pixdim[2], pixdim[3]];
        var slope = F(v2 ? 176 : 112);
        var inter = F(v2 ? 184 : 116);
        if (slope == 0 || !double.IsFinite(slope)) { slope = 1; inter = 0; } // the standard: slope 0 means unscaled
        if (!double.IsFinite(inter)) inter = 0;
        int qform = v2 ? I32(344) : I16(252), sform = v2 ? I32(348) : I16(254);
        var step = v2 ? 8 : 4;
        int quatern = v2 ? 352 : 256, srow = v2 ? 400 : 280;
        double[,] affine;
        if (sform > 0)
        {
            affine = new double[4, 4];
            for (var r = 0; r < 3; r++)
                for (var c = 0; c < 4; c++) affine[r, c] = F(srow + step * (4 * r + c));
            affine[3, 3] = 1;
        }
        else if (qform > 0)
            affine = QuaternionAffine(F(quatern), F(quatern + step), F(quatern + 2 * step),
                [F(quatern + 3 * step), F(quatern + 4 * step), F(quatern + 5 * step)], pixdim[0] < 0 ? -1 : 1, spacing);
        else
        {
            affine = new double[4, 4];
            for (var i = 0; i < 3; i++) affine[i, i] = spacing[i];
            affine[3, 3] = 1;
        }

        CompressedFile.Skip(stream, voxOffset - size, path, "the header extension");
        var count = (long)voxels;
        var raw = CompressedFile.ReadExactly(stream, count * bytes, path, $"{string.Join('×', dims)} voxels of {type}");
        var data = DecodeVoxels(raw, count, bytes, type, little, slope, inter);
        return new NiftiImage(v2 ? 2 : 1, (int)dims[0], (int)dims[1], (int)dims[2], (int)dims[3], spacing, affine, qform, sform, type, data);
    }

    /// <summary>Volume <paramref name="t"/> of a NIfTI-1 or NIfTI-2 image of up to 4 dimensions.</summary>
    public static NiftiVolume Read(string path, int t) => ReadImage(path).Volume(t);

    // NIfTI method 2: rotation from the quaternion (b, c, d) with a = √(1 − b² − c² − d²), the z column flipped by qfac.
    private static double[,] QuaternionAffine(double b, double c, double d, double[] offset, double qfac, double[] spacing)
    {
        var a = Math.Sqrt(Math.Max(0, 1 - (b * b + c * c + d * d)));
        double[,] r =
        {
            { a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c) },
            { 2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b) },
            { 2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b },
        };
        double[] s = [spacing[0], spacing[1], qfac * spacing[2]];
        var m = new double[4, 4];
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++) m[i, j] = r[i, j] * s[j];
            m[i, 3] = offset[i];
        }
        m[3, 3] = 1;
        return m;
    }
}

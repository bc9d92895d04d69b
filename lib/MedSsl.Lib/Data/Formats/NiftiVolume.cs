namespace MedSsl.Data.Formats;

/// <summary>NIfTI-1 data types this reader handles (the header's <c>datatype</c> code).</summary>
public enum NiftiDataType : short
{
    UInt8 = 2,
    Int16 = 4,
    Int32 = 8,
    Float32 = 16,
    Float64 = 64,
    Int8 = 256,
    UInt16 = 512,
}

/// <summary>A 3-d NIfTI-1 image: voxel values after the header's scaling (value = scl_slope·stored + scl_inter),
/// stored x fastest, so as an array it is [Z, Y, X] = [slices, height, width]. The orientation is kept as metadata:
/// <see cref="Affine"/> maps voxel (i, j, k) to scanner millimetres (sform when present, else qform, else the
/// voxel sizes).</summary>
public sealed record NiftiVolume(
    int SizeX, int SizeY, int SizeZ,
    double[] Spacing,
    double[,] Affine,
    int QformCode, int SformCode,
    NiftiDataType DataType,
    float[] Data)
{
    public int VoxelCount => SizeX * SizeY * SizeZ;

    public float this[int x, int y, int z] => Data[x + SizeX * (y + SizeY * z)];
}

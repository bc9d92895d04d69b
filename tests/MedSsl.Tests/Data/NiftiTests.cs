using System.IO.Compression;
using MedSsl.Data;
using MedSsl.Data.Formats;

namespace MedSsl.Tests.Data;

public class NiftiTests
{
    [Fact]
    public void BigEndianGzippedInt16WithScalingAndQform()
    {
        var v = Nifti.Read(Fixture.Path("nifti_be_int16_qform.nii.gz"));
        Assert.Equal((3, 4, 2), (v.SizeX, v.SizeY, v.SizeZ));
        Assert.Equal(NiftiDataType.Int16, v.DataType);
        for (var z = 0; z < 2; z++)
            for (var y = 0; y < 4; y++)
                for (var x = 0; x < 3; x++)
                    Assert.Equal(2f * (x + 10 * y + 100 * z) - 10f, v[x, y, z]); // scl_slope 2, scl_inter −10
        // quaternion (0, 0, 1) is a 180° turn about z; qfac −1 flips z; voxel sizes 1.5, 2, 3; offset (5, 6, 7)
        double[,] expected = { { -1.5, 0, 0, 5 }, { 0, -2, 0, 6 }, { 0, 0, -3, 7 }, { 0, 0, 0, 1 } };
        for (var r = 0; r < 4; r++)
            for (var c = 0; c < 4; c++) Assert.Equal(expected[r, c], v.Affine[r, c], 1e-6);
        Assert.Equal((1, 0), (v.QformCode, v.SformCode));
    }

    [Fact]
    public void LittleEndianFloat64WithSformAndNoScaling()
    {
        var v = Nifti.Read(Fixture.Path("nifti_le_float64_sform.nii"));
        Assert.Equal(0.5f * (2 + 10 * 3 + 100 * 1), v[2, 3, 1]); // slope 0 in the header means unscaled
        Assert.Equal(3.0, v.Affine[0, 2]);
        Assert.Equal(-3.0, v.Affine[2, 3]);
        Assert.Equal(new[] { 1.5, 2.0, 3.0 }, v.Spacing);
    }

    [Theory]
    [InlineData(NiftiDataType.UInt8, "a.nii")]
    [InlineData(NiftiDataType.Int16, "a.nii.gz")]
    [InlineData(NiftiDataType.Int32, "a.nii")]
    [InlineData(NiftiDataType.Float32, "a.nii.gz")]
    [InlineData(NiftiDataType.Float64, "a.nii")]
    public void WriteThenReadKeepsValuesAndAffine(NiftiDataType type, string name)
    {
        var path = Path.Combine(Fixture.TempDir(), name);
        var data = Enumerable.Range(0, 4 * 3 * 2).Select(i => (float)(i * 3)).ToArray();
        double[,] affine = { { 0, 0, 2, 1 }, { 0, -1, 0, 2 }, { 0.5, 0, 0, 3 }, { 0, 0, 0, 1 } };
        Nifti.Write(path, 4, 3, 2, data, type, [0.5, 1, 2], affine, slope: 1.5f, inter: -3f);
        var v = Nifti.Read(path);
        Assert.Equal(type, v.DataType);
        Assert.Equal(2, v.SformCode);
        for (var i = 0; i < data.Length; i++) Assert.Equal(data[i], v.Data[i], 1e-4); // i·3 = 1.5·k − 3 exactly for integer k
        for (var r = 0; r < 4; r++)
            for (var c = 0; c < 4; c++) Assert.Equal(affine[r, c], v.Affine[r, c]);
    }

    private static string Corrupt(Func<byte[], byte[]> change)
    {
        using var input = new GZipStream(File.OpenRead(Fixture.Path("nifti_be_int16_qform.nii.gz")), CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        input.CopyTo(buffer);
        var path = Path.Combine(Fixture.TempDir(), "bad.nii");
        File.WriteAllBytes(path, change(buffer.ToArray()));
        return path;
    }

    [Fact]
    public void TruncatedVolumeIsANamedError()
    {
        var path = Corrupt(b => b[..^5]);
        var e = Assert.Throws<DataFormatException>(() => Nifti.Read(path));
        Assert.Equal(path, e.Path);
        Assert.Contains("truncated", e.Problem);
        Assert.Contains("truncated", Assert.Throws<DataFormatException>(() => Nifti.Read(Corrupt(b => b[..200]))).Problem);
    }

    [Fact]
    public void GiantDeclaredSizeIsRefusedBeforeAllocation()
    {
        var path = Corrupt(b =>
        {
            b[42] = 0x7f; b[44] = 0x7f; b[46] = 0x7f; // big-endian dims 32 5xx each
            return b;
        });
        Assert.Contains("beyond the bound", Assert.Throws<DataFormatException>(() => Nifti.Read(path)).Problem);
    }

    [Fact]
    public void HugeVoxOffsetIsRefused()
    {
        var path = Corrupt(b => { b[108] = 0x4f; return b; }); // big-endian float ≈ 2e9
        Assert.Contains("vox_offset", Assert.Throws<DataFormatException>(() => Nifti.Read(path)).Problem);
    }

    [Fact]
    public void BadMagicUnknownTypeAndTwoFileFormAreNamedErrors()
    {
        Assert.Contains("not a NIfTI-1", Assert.Throws<DataFormatException>(() => Nifti.Read(Corrupt(b => { b[0] = 9; return b; }))).Problem);
        Assert.Contains("datatype", Assert.Throws<DataFormatException>(() => Nifti.Read(Corrupt(b => { b[71] = 32; return b; }))).Problem); // complex64
        Assert.Contains(".hdr/.img", Assert.Throws<DataFormatException>(() => Nifti.Read(Corrupt(b => { b[345] = (byte)'i'; return b; }))).Problem);
    }
}

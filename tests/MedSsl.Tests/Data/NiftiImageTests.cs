using MedSsl.Data;
using MedSsl.Data.Formats;

namespace MedSsl.Tests.Data;

/// <summary>nibabel's values (x fastest, then y, z, t) and affines for its NIfTI test files, read once per class.</summary>
public sealed class NibabelFiles : IDisposable
{
    public const string Folder = "/usr/lib/python3/dist-packages/nibabel/tests/data";
    internal PythonReference Reference { get; } = new("""
        import nibabel as nib
        folder = "/usr/lib/python3/dist-packages/nibabel/tests/data"
        out = {}
        for name in ["example_nifti2.nii.gz", "example4d.nii.gz", "functional.nii", "anatomical.nii", "standard.nii.gz", "reoriented_anat_moved.nii"]:
            image = nib.load(os.path.join(folder, name))
            data = np.asanyarray(image.dataobj, dtype=np.float64)
            if data.ndim == 3: data = data[..., None]
            save(name, np.transpose(data, (3, 2, 1, 0)))  # [t, z, y, x]: x fastest, as the file stores it
            out[name] = {"shape": list(data.shape), "affine": image.affine.ravel().tolist()}
        print(json.dumps(out))
        """);

    public void Dispose() => Reference.Dispose();
}

/// <summary>NIfTI-1 (3-d and 4-d) and NIfTI-2 against nibabel on its own test files.</summary>
public class NiftiImageTests(NibabelFiles nibabel) : IClassFixture<NibabelFiles>
{
    private const string Folder = NibabelFiles.Folder;

    [Theory]
    [InlineData("example_nifti2.nii.gz", 2)]
    [InlineData("example4d.nii.gz", 1)]
    [InlineData("functional.nii", 1)]
    [InlineData("anatomical.nii", 1)]
    [InlineData("standard.nii.gz", 1)]
    [InlineData("reoriented_anat_moved.nii", 1)]
    public void ValuesAndAffineEqualNibabels(string name, int version)
    {
        var image = Nifti.ReadImage(Path.Combine(Folder, name));
        var info = nibabel.Reference.Output.GetProperty(name);
        var shape = info.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(version, image.Version);
        Assert.Equal(shape, new[] { image.SizeX, image.SizeY, image.SizeZ, image.Volumes });
        var expected = nibabel.Reference.Doubles(name);
        Assert.Equal(expected.Length, image.Data.Length);
        for (var i = 0; i < expected.Length; i++)
            if (Math.Abs(image.Data[i] - expected[i]) > 1e-5 * Math.Max(1, Math.Abs(expected[i])))
                Assert.Fail($"voxel {i}: {image.Data[i]}, nibabel {expected[i]}");
        var affine = info.GetProperty("affine").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (var r = 0; r < 4; r++)
            for (var c = 0; c < 4; c++) Assert.Equal(affine[4 * r + c], image.Affine[r, c], 1e-4);
    }

    [Fact]
    public void OneVolumeOfA4dImage()
    {
        var path = Path.Combine(Folder, "functional.nii");
        var all = Nifti.ReadImage(path);
        Assert.Equal(20, all.Volumes);
        var v = Nifti.Read(path, 7);
        Assert.Equal((17, 21, 3), (v.SizeX, v.SizeY, v.SizeZ));
        Assert.Equal(all.Data.AsSpan((int)(7 * all.VolumeSize), v.VoxelCount).ToArray(), v.Data);
        Assert.Throws<ArgumentOutOfRangeException>(() => all.Volume(20));
        Assert.Contains("ReadImage", Assert.Throws<DataFormatException>(() => Nifti.Read(path)).Message);
        Assert.Contains("4-d", Assert.Throws<DataFormatException>(() => Nifti.Read(Path.Combine(Folder, "example_nifti2.nii.gz"))).Message);
    }

    [Fact]
    public void TruncatedNifti2GivesNamedError()
    {
        var dir = Fixture.TempDir();
        using var input = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(Folder, "example_nifti2.nii.gz")), System.IO.Compression.CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        input.CopyTo(buffer);
        var bytes = buffer.ToArray();
        foreach (var keep in new[] { 300, 600, bytes.Length - 1 })
        {
            var path = Path.Combine(dir, $"cut{keep}.nii");
            File.WriteAllBytes(path, bytes[..keep]);
            var e = Assert.Throws<DataFormatException>(() => Nifti.ReadImage(path));
            Assert.Equal(path, e.Path);
            Assert.Contains("truncated", e.Message);
        }
    }
}

using MedSsl.Data;
using MedSsl.Data.Formats;

namespace MedSsl.Tests.Data;

/// <summary>pydicom's pixel arrays (numpy and RLE handlers only, i.e. without plugins) for every file of its test set.</summary>
public sealed class PydicomFiles : IDisposable
{
    public const string Folder = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
    internal PythonReference Reference { get; } = new("""
        import pydicom
        from pydicom.pixel_data_handlers import numpy_handler, rle_handler
        from pydicom.pixel_data_handlers.util import apply_modality_lut
        pydicom.config.pixel_data_handlers = [numpy_handler, rle_handler]
        folder = "/usr/lib/python3/dist-packages/pydicom/data/test_files"
        result = {}
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not os.path.isfile(path): continue
            try:
                ds = pydicom.dcmread(path, force=True)
                a = ds.pixel_array
            except Exception as e:
                result[name] = {"decoded": False, "why": type(e).__name__}
                continue
            save(name + ".stored", a)
            save(name + ".modality", apply_modality_lut(a, ds))
            result[name] = {"decoded": True, "shape": list(a.shape), "syntax": str(ds.file_meta.get("TransferSyntaxUID", ""))}
        print(json.dumps(result))
        """);

    public void Dispose() => Reference.Dispose();
}

public class DicomTests(PydicomFiles pydicom) : IClassFixture<PydicomFiles>
{
    private IEnumerable<(string Name, System.Text.Json.JsonElement Info)> Files() =>
        pydicom.Reference.Output.EnumerateObject().Select(p => (p.Name, p.Value));

    [Fact]
    public void EveryFilePydicomDecodesGivesItsValuesAndRescaledValues()
    {
        var decoded = Files().Where(f => f.Info.GetProperty("decoded").GetBoolean()).ToList();
        Assert.True(decoded.Count >= 25, $"pydicom decoded only {decoded.Count} files"); // the set holds ~30 plugin-free images
        var failures = new List<string>();
        foreach (var (name, info) in decoded)
        {
            try
            {
                var image = Dicom.Read(Path.Combine(PydicomFiles.Folder, name));
                var expected = pydicom.Reference.Doubles(name + ".stored");
                var shape = info.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).Aggregate(1L, (a, b) => a * b);
                if (image.Stored.Length != expected.Length || shape != expected.Length) { failures.Add($"{name}: {image.Stored.Length} values, pydicom {expected.Length}"); continue; }
                var bad = Enumerable.Range(0, expected.Length).FirstOrDefault(i => image.Stored[i] != expected[i], -1);
                if (bad >= 0) { failures.Add($"{name}: value {bad} is {image.Stored[bad]}, pydicom {expected[bad]}"); continue; }
                var physical = image.Physical();
                var modality = pydicom.Reference.Doubles(name + ".modality");
                var badM = Enumerable.Range(0, modality.Length).FirstOrDefault(i => Math.Abs(physical[i] - modality[i]) > 1e-6 * Math.Max(1, Math.Abs(modality[i])), -1);
                if (badM >= 0) failures.Add($"{name}: rescaled value {badM} is {physical[badM]}, pydicom {modality[badM]}");
            }
            catch (DataFormatException e) { failures.Add($"{name}: {e.Message}"); }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void EveryFilePydicomCannotDecodeGivesANamedError()
    {
        var failures = new List<string>();
        foreach (var (name, _) in Files().Where(f => !f.Info.GetProperty("decoded").GetBoolean()))
        {
            var path = Path.Combine(PydicomFiles.Folder, name);
            try
            {
                Dicom.Read(path);
                failures.Add($"{name}: decoded, pydicom cannot");
            }
            catch (DataFormatException e) when (e.Path == path) { }
            catch (Exception e) { failures.Add($"{name}: {e.GetType().Name}: {e.Message}"); }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("JPEG2000.dcm", "1.2.840.10008.1.2.4.91", "JPEG 2000")]
    [InlineData("SC_rgb_jpeg_gdcm.dcm", "1.2.840.10008.1.2.4.70", "JPEG Lossless")]
    [InlineData("MR_small_jpeg_ls_lossless.dcm", "1.2.840.10008.1.2.4.80", "JPEG-LS Lossless")]
    [InlineData("JPGExtended.dcm", "1.2.840.10008.1.2.4.51", "JPEG Extended")]
    public void CompressedSyntaxesNameTheSyntax(string name, string uid, string syntaxName)
    {
        var e = Assert.Throws<DataFormatException>(() => Dicom.Read(Path.Combine(PydicomFiles.Folder, name)));
        Assert.Contains(uid, e.Message);
        Assert.Contains(syntaxName, e.Message);
        Assert.Contains("not supported", e.Message);
    }

    [Fact]
    public void TruncatedCopiesGiveDataFormatExceptionNamingTheFile()
    {
        var dir = Fixture.TempDir();
        var failures = new List<string>();
        foreach (var (name, info) in Files().Where(f => f.Info.GetProperty("decoded").GetBoolean()))
        {
            var bytes = File.ReadAllBytes(Path.Combine(PydicomFiles.Folder, name));
            // A deflated data set (image_dfl.dcm) ends in bytes after the deflate stream, and a stream cut inside its
            // final block may still inflate completely: only cuts well inside it are checked there.
            var deflated = info.GetProperty("syntax").GetString() == "1.2.840.10008.1.2.1.99";
            int[] cuts = deflated ? [100, 200, bytes.Length / 2] : [100, 200, bytes.Length / 2, bytes.Length - 9, bytes.Length - 1];
            foreach (var keep in cuts.Distinct())
            {
                var path = Path.Combine(dir, $"{keep}-{name}");
                File.WriteAllBytes(path, bytes[..keep]);
                try
                {
                    Dicom.Read(path);
                    failures.Add($"{name} cut to {keep} of {bytes.Length} bytes: decoded");
                }
                catch (DataFormatException e) when (e.Path == path) { }
                catch (Exception e) { failures.Add($"{name} cut to {keep}: {e.GetType().Name}: {e.Message}"); }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void CtSmallKeepsRescaleWindowAndGeometry()
    {
        var ct = Dicom.Read(Path.Combine(PydicomFiles.Folder, "CT_small.dcm"));
        Assert.Equal((128, 128, 1, 1), (ct.Rows, ct.Columns, ct.Frames, ct.SamplesPerPixel));
        Assert.True(ct.Signed);
        Assert.Equal((1.0, -1024.0), (ct.RescaleSlope, ct.RescaleIntercept));
        Assert.NotNull(ct.ImagePositionPatient);
        Assert.Equal(6, ct.ImageOrientationPatient!.Length);
        Assert.Equal(2, ct.PixelSpacing!.Length);
        Assert.Equal("CT", ct.Modality);
    }

    [Theory]
    [InlineData("dicomdirtests/98892001/CT5N")]
    [InlineData("dicomdirtests/77654033/CT2")]
    public void SeriesFolderIsAVolumeSortedAlongTheSliceNormal(string relative)
    {
        var folder = Path.Combine(PydicomFiles.Folder, relative);
        using var reference = new PythonReference($$"""
            import pydicom
            from pydicom.pixel_data_handlers.util import apply_modality_lut
            folder = "{{folder}}"
            slices = [pydicom.dcmread(os.path.join(folder, f)) for f in os.listdir(folder)]
            o = np.array(slices[0].ImageOrientationPatient, dtype=float)
            normal = np.cross(o[:3], o[3:])
            slices.sort(key=lambda s: float(np.dot(np.array(s.ImagePositionPatient, dtype=float), normal)))
            save("volume", np.stack([apply_modality_lut(s.pixel_array, s) for s in slices]))
            print(json.dumps({"shape": [len(slices), int(slices[0].Rows), int(slices[0].Columns)],
                              "first": [float(v) for v in slices[0].ImagePositionPatient]}))
            """);
        var volume = DicomSeries.Read(folder);
        var shape = reference.Output.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(shape, new[] { volume.SizeZ, volume.SizeY, volume.SizeX });
        Assert.Equal(reference.Doubles("volume"), volume.Data.Select(v => (double)v));
        var first = reference.Output.GetProperty("first").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (var r = 0; r < 3; r++) Assert.Equal(first[r], volume.Affine[r, 3], 1e-6);
        Assert.True(volume.Spacing[2] > 0);
    }

    [Fact]
    public void FolderWithSeveralSeriesAsksForOne()
    {
        var folder = Path.Combine(PydicomFiles.Folder, "dicomdirtests/98892003/MR2");
        var e = Assert.Throws<DataFormatException>(() => DicomSeries.Read(folder));
        Assert.Contains("series", e.Message);
        Assert.Equal(folder, e.Path);
    }

    [Fact]
    public void CorruptedBytesGiveDataFormatExceptionOrAnImageNeverACrash()
    {
        var dir = Fixture.TempDir();
        var random = new Random(28);
        var failures = new List<string>();
        foreach (var name in new[] { "CT_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "SC_rgb_rle_2frame.dcm", "image_dfl.dcm", "rtdose.dcm" })
        {
            var original = File.ReadAllBytes(Path.Combine(PydicomFiles.Folder, name));
            for (var trial = 0; trial < 40; trial++)
            {
                var bytes = (byte[])original.Clone();
                // A few bytes changed in the header region, where lengths, VRs and image attributes live.
                for (var k = 0; k < 1 + trial % 4; k++) bytes[random.Next(128, Math.Min(bytes.Length, 1600))] = (byte)random.Next(256);
                var path = Path.Combine(dir, $"{trial}-{name}");
                File.WriteAllBytes(path, bytes);
                try { Dicom.Read(path); }
                catch (DataFormatException e) when (e.Path == path) { }
                catch (Exception e) { failures.Add($"{name} trial {trial}: {e.GetType().Name}: {e.Message}"); }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}

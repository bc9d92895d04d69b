using MedSsl.Data;
using MedSsl.Data.Formats;
using MedSsl.Data.Loaders;

namespace MedSsl.Tests.Data;

/// <summary>JPEG files written by PIL (Debian's python3-pil, libjpeg-turbo) and its decode of them, once per class.</summary>
public sealed class PilJpegs : IDisposable
{
    internal PythonReference Reference { get; } = new("""
        from PIL import Image
        rng = np.random.default_rng(7)
        y, x = np.mgrid[0:37, 0:53]
        smooth = 120 + 80 * np.sin(x / 7.0) * np.cos(y / 5.0)
        gray = np.clip(smooth + rng.normal(0, 12, smooth.shape), 0, 255).astype(np.uint8)
        rgb = np.clip(np.stack([smooth, 255 - smooth, (x * 4) % 256], -1) + rng.normal(0, 10, smooth.shape + (3,)), 0, 255).astype(np.uint8)
        files = {
            "gray.jpg": (Image.fromarray(gray, "L"), dict(quality=85)),
            "rgb420.jpg": (Image.fromarray(rgb, "RGB"), dict(quality=90)),
            "rgb444.jpeg": (Image.fromarray(rgb, "RGB"), dict(quality=95, subsampling=0)),
            "progressive.jpg": (Image.fromarray(rgb, "RGB"), dict(quality=80, progressive=True)),
        }
        out = {}
        for name, (image, options) in files.items():
            path = os.path.join(OUT, name)
            image.save(path, "JPEG", **options)
            decoded = np.asarray(Image.open(path))
            save(name + ".pil", decoded)
            out[name] = {"path": path, "channels": 1 if decoded.ndim == 2 else decoded.shape[2]}
        print(json.dumps(out))
        """);

    public void Dispose() => Reference.Dispose();
}

public class JpegTests(PilJpegs pil) : IClassFixture<PilJpegs>
{
    [Theory]
    [InlineData("gray.jpg")]
    [InlineData("rgb420.jpg")]
    [InlineData("rgb444.jpeg")]
    [InlineData("progressive.jpg")]
    public void SamplesEqualPilsDecodeWithinOne(string name)
    {
        var info = pil.Reference.Output.GetProperty(name);
        var image = Jpeg.Read(info.GetProperty("path").GetString()!);
        Assert.Equal((53, 37, info.GetProperty("channels").GetInt32(), 8), (image.Width, image.Height, image.Channels, image.BitDepth));
        var expected = pil.Reference.Doubles(name + ".pil");
        Assert.Equal(expected.Length, image.Samples.Length);
        var worst = Enumerable.Range(0, expected.Length).Max(i => Math.Abs(image.Samples[i] - expected[i]));
        Assert.True(worst <= 1, $"largest difference from PIL {worst}");
    }

    [Fact]
    public void TruncatedAndForeignFilesGiveNamedErrors()
    {
        var dir = Fixture.TempDir();
        var bytes = File.ReadAllBytes(pil.Reference.Output.GetProperty("rgb420.jpg").GetProperty("path").GetString()!);
        foreach (var keep in new[] { 2, 40, bytes.Length / 2, bytes.Length - 2 })
        {
            var path = Path.Combine(dir, $"cut{keep}.jpg");
            File.WriteAllBytes(path, bytes[..keep]);
            var e = Assert.Throws<DataFormatException>(() => Jpeg.Read(path));
            Assert.Equal(path, e.Path);
        }
        var png = Path.Combine(dir, "png.jpg");
        File.Copy(Fixture.Path("png_gray8_f0.png"), png);
        Assert.Contains("not a JPEG", Assert.Throws<DataFormatException>(() => Jpeg.Read(png)).Message);
    }

    [Fact]
    public void ImageFolderTakesJpegBesidePngAndDicom()
    {
        var dir = Fixture.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "images"));
        File.Copy(pil.Reference.Output.GetProperty("gray.jpg").GetProperty("path").GetString()!, Path.Combine(dir, "images", "a.jpg"));
        var gray = Jpeg.Read(Path.Combine(dir, "images", "a.jpg"));
        Png.Write(Path.Combine(dir, "images", "b.png"), gray);
        File.WriteAllText(Path.Combine(dir, ImageFolder.ManifestName),
            "image,exam_id,patient_id,split,finding\nimages/a.jpg,E1,P1,labelled,1\nimages/b.png,E2,P2,unlabelled,0\n");
        var data = ImageFolder.Load(dir);
        Assert.Equal((2, 1, 37, 53), (data.Count, data.Channels, data.Height, data.Width));
        var a = new float[37 * 53];
        var b = new float[37 * 53];
        data.CopyImage(0, a);
        data.CopyImage(1, b);
        Assert.Equal(a, b); // the JPEG's samples, and the PNG written from them
        Assert.Equal(gray.Samples[5] / 255f, a[5]);

        // A DICOM image of another size in the same manifest is named in the error.
        File.Copy(Path.Combine(PydicomFiles.Folder, "MR_small.dcm"), Path.Combine(dir, "images", "c.dcm"));
        File.AppendAllText(Path.Combine(dir, ImageFolder.ManifestName), "images/c.dcm,E3,P3,,0\n");
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Load(dir));
        Assert.Contains("c.dcm", e.Path);
        Assert.Contains("1×64×64", e.Message);
    }

    [Fact]
    public void DicomInAnImageFolderIsWindowedToUnitRange()
    {
        var dir = Fixture.TempDir();
        foreach (var name in new[] { "MR_small.dcm", "MR_small_RLE.dcm" })
            File.Copy(Path.Combine(PydicomFiles.Folder, name), Path.Combine(dir, name));
        File.WriteAllText(Path.Combine(dir, ImageFolder.ManifestName), "image,exam_id,patient_id,x\nMR_small.dcm,E1,P1,1\nMR_small_RLE.dcm,E2,P2,0\n");
        var data = ImageFolder.Load(dir);
        var a = new float[64 * 64];
        var b = new float[64 * 64];
        data.CopyImage(0, a);
        data.CopyImage(1, b);
        Assert.Equal(a, b); // the same pixels, stored two ways
        // MR_small: window centre 600, width 1600 → black at −200, white from 1399 (PS3.3 C.11.2.1.2.1); its values
        // run from 127 to 2145 (pydicom).
        Assert.Equal((127 + 200) / 1599.0, a.Min(), 1e-4);
        Assert.Equal(1f, a.Max());
    }
}

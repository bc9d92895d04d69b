using MedSsl.Data;
using MedSsl.Data.Formats;
using MedSsl.Data.Loaders;
using MedSsl.Data.Synthetic;

namespace MedSsl.Tests.Data;

public class ImageFolderTests
{
    [Fact]
    public void WrittenSyntheticExamsLoadBackIdentically()
    {
        var dir = Path.Combine(Fixture.TempDir(), "us");
        var d = SyntheticUltrasound.Make(60, seed: 4, imageSize: 32);
        ImageFolder.Write(d, dir);
        var back = ImageFolder.Load(dir, UltrasoundOrgans.LabelNames);
        Assert.Equal(d.Count, back.Count);
        Assert.Equal(d.LabelMatrix(), back.LabelMatrix());
        for (var i = 0; i < d.Count; i++)
        {
            Assert.Equal((d.ExamId(i), d.PatientId(i), d.Split(i)), (back.ExamId(i), back.PatientId(i), back.Split(i)));
            var a = d.Image(i).ToArray();
            var b = back.Image(i).ToArray();
            for (var p = 0; p < a.Length; p++) Assert.Equal(a[p], b[p], 0.5f / 255); // 8-bit quantisation
        }
        Assert.DoesNotContain(Directory.EnumerateDirectories(Path.GetDirectoryName(dir)!), p => p.Contains(".tmp-"));
    }

    private static string SmallFolder(string manifestBody, params (string Name, PngImage Image)[] images)
    {
        var dir = Fixture.TempDir();
        foreach (var (name, image) in images) Png.Write(Path.Combine(dir, name), image);
        File.WriteAllText(Path.Combine(dir, "manifest.csv"), manifestBody);
        return dir;
    }

    private static PngImage Gray(int w, int h) => new(w, h, 1, 8, new ushort[w * h]);

    [Fact]
    public void RgbSixteenBitImagesLoadInChannelMajorOrder()
    {
        var image = new PngImage(2, 1, 3, 16, [65535, 0, 0, 0, 0, 65535]);
        var d = ImageFolder.Load(SmallFolder("image,exam_id,patient_id,a\nx.png,e,p,1\n", ("x.png", image)));
        Assert.Equal(3, d.Channels);
        Assert.Equal(new[] { 1f, 0, 0, 0, 0, 1 }, d.Image(0).ToArray()); // R plane, G plane, B plane
        using var batch = d.Batch([0]).Images;
        Assert.Equal(new long[] { 1, 3, 1, 2 }, batch.shape);
    }

    [Fact]
    public void UnknownLabelColumnIsAnError()
    {
        var dir = SmallFolder("image,exam_id,patient_id,liver,lungs\nx.png,e,p,1,0\n", ("x.png", Gray(4, 4)));
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Load(dir, ["liver"]));
        Assert.Contains("lungs", e.Problem);
        Assert.EndsWith("manifest.csv", e.Path);
    }

    [Fact]
    public void MissingImageFileNamesTheFile()
    {
        var dir = SmallFolder("image,exam_id,patient_id,a\nx.png,e,p,1\ny.png,e,p,0\n", ("x.png", Gray(4, 4)));
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Load(dir));
        Assert.EndsWith("y.png", e.Path);
    }

    [Fact]
    public void MixedSizesAreAnError()
    {
        var dir = SmallFolder("image,exam_id,patient_id,a\nx.png,e,p,1\ny.png,e,p,0\n", ("x.png", Gray(4, 4)), ("y.png", Gray(5, 4)));
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Load(dir));
        Assert.EndsWith("y.png", e.Path);
        Assert.Contains("one size", e.Problem);
    }

    [Fact]
    public void CorruptImageBadLabelAndRaggedRowsAreErrors()
    {
        var dir = SmallFolder("image,exam_id,patient_id,a\nx.png,e,p,1\n", ("x.png", Gray(4, 4)));
        File.WriteAllBytes(Path.Combine(dir, "x.png"), File.ReadAllBytes(Path.Combine(dir, "x.png"))[..30]);
        Assert.Contains("truncated", Assert.Throws<DataFormatException>(() => ImageFolder.Load(dir)).Problem);

        var labels = SmallFolder("image,exam_id,patient_id,a\nx.png,e,p,2\n", ("x.png", Gray(4, 4)));
        Assert.Contains("0 or 1", Assert.Throws<DataFormatException>(() => ImageFolder.Load(labels)).Problem);
        var ragged = SmallFolder("image,exam_id,patient_id,a\nx.png,e,1\n", ("x.png", Gray(4, 4)));
        Assert.Contains("fields", Assert.Throws<DataFormatException>(() => ImageFolder.Load(ragged)).Problem);
        var noPatient = SmallFolder("image,exam_id,a\nx.png,e,1\n", ("x.png", Gray(4, 4)));
        Assert.Contains("patient_id", Assert.Throws<DataFormatException>(() => ImageFolder.Load(noPatient)).Problem);
    }

    [Fact]
    public void WritingIntoANonEmptyFolderIsRefused()
    {
        var dir = Fixture.TempDir();
        File.WriteAllText(Path.Combine(dir, "keep.txt"), "x");
        Assert.Throws<IOException>(() => ImageFolder.Write(SyntheticUltrasound.Make(5, imageSize: 16), dir));
        Assert.Equal(["keep.txt"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }
}

using MedSsl.Data;
using MedSsl.Data.Formats;
using MedSsl.Data.Loaders;
using MedSsl.Data.Synthetic;

namespace MedSsl.Tests.Data;

/// <summary>Image folders with a mask column: masks written and read back value for value, unannotated rows, and each
/// named error by type, file and message.</summary>
public class SegmentationFolderTests
{
    [Fact]
    public void Written_lesions_with_an_unannotated_image_load_back_with_the_same_masks()
    {
        var lesions = SyntheticSkinLesions.Make(12, seed: 3, imageSize: 16);
        // Image 1 (a training image) loses its mask: it must come back unannotated and unlabelled.
        var training = lesions.IndicesOf(DataSplit.Labelled)[0];
        var splits = Enumerable.Range(0, lesions.Count).Select(i => i == training ? DataSplit.Unassigned : lesions.Images.Split(i)).ToArray();
        var images = new ImageDataset(3, 16, 16, lesions.Images.LabelNames, [.. Enumerable.Range(0, lesions.Count).SelectMany(i => lesions.Images.Image(i).ToArray())],
            [.. Enumerable.Range(0, lesions.Count).SelectMany(i => Enumerable.Range(0, 4).Select(l => lesions.Images.HasLabel(i, l)))],
            [.. Enumerable.Range(0, lesions.Count).Select(lesions.Images.ExamId)], [.. Enumerable.Range(0, lesions.Count).Select(lesions.Images.PatientId)], splits);
        var masks = Enumerable.Range(0, lesions.Count).SelectMany(i => lesions.Mask(i).ToArray()).ToArray();
        var written = new SegmentationDataset(images, masks, SyntheticSkinLesions.ClassNames, [.. Enumerable.Range(0, lesions.Count).Select(i => i != training)]);
        var dir = Path.Combine(Fixture.TempDir(), "lesions");
        ImageFolder.Write(written, dir);

        var back = ImageFolder.LoadSegmentation(dir, SyntheticSkinLesions.ClassNames, SyntheticSkinLesions.FindingNames);
        Assert.Equal(SyntheticSkinLesions.ClassNames, back.ClassNames);
        Assert.Equal(lesions.Images.LabelMatrix(), back.Images.LabelMatrix());
        for (var i = 0; i < lesions.Count; i++)
        {
            Assert.Equal(i != training, back.IsAnnotated(i));
            Assert.Equal(i == training ? DataSplit.Unlabelled : lesions.Images.Split(i), back.Images.Split(i));
            if (i != training) Assert.Equal(lesions.Mask(i).ToArray(), back.Mask(i).ToArray());
        }
        Assert.Equal($"image {training} ({lesions.Images.ExamId(training)}) has no mask", Assert.Throws<InvalidOperationException>(() => back.Mask(training).ToArray()).Message);
        // The plain loader reads the same folder as images with their findings, the mask column left alone.
        Assert.Equal(lesions.Images.LabelMatrix(), ImageFolder.Load(dir).LabelMatrix());
    }

    [Fact]
    public void Undeclared_classes_are_the_ones_the_masks_show_and_sixteen_bit_masks_read_as_values()
    {
        var dir = Folder("image,exam_id,patient_id,split,mask\na.png,e1,p1,labelled,ma.png\nb.png,e2,p2,test,mb.png\n",
            ("a.png", Grey(3, 2)), ("b.png", Grey(3, 2)),
            ("ma.png", new PngImage(3, 2, 1, 16, [0, 1, 2, 2, 0, 0])), ("mb.png", new PngImage(3, 2, 1, 8, [0, 0, 1, 0, 0, 0])));
        var data = ImageFolder.LoadSegmentation(dir);
        Assert.Equal(["background", "class 1", "class 2"], data.ClassNames);
        Assert.Equal(new byte[] { 0, 1, 2, 2, 0, 0 }, data.Mask(0).ToArray());
        Assert.Equal(new long[] { 8, 2, 2 }, data.PixelCounts());
        Assert.Empty(data.Images.LabelNames);
        using var batch = data.MaskBatch([1, 0]);
        Assert.Equal(new long[] { 0, 0, 1, 0, 0, 0, 0, 1, 2, 2, 0, 0 }, batch.data<long>().ToArray());
    }

    [Fact]
    public void A_missing_mask_file_names_the_mask_and_its_image()
    {
        var dir = Folder("image,exam_id,patient_id,mask\na.png,e,p,masks/a.png\n", ("a.png", Grey(4, 4)));
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.LoadSegmentation(dir));
        Assert.Equal(Path.Combine(dir, "masks/a.png"), e.Path);
        Assert.Equal($"mask file not found (the mask of {Path.Combine(dir, "a.png")})", e.Problem);
    }

    [Fact]
    public void A_mask_of_another_size_than_its_image_is_an_error()
    {
        var dir = Folder("image,exam_id,patient_id,mask\na.png,e,p,m.png\n", ("a.png", Grey(4, 4)), ("m.png", Grey(4, 3)));
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.LoadSegmentation(dir));
        Assert.EndsWith("m.png", e.Path);
        Assert.Equal($"mask is 4×3 but its image {Path.Combine(dir, "a.png")} is 4×4: a mask must have its image's size", e.Problem);
    }

    [Fact]
    public void An_rgb_mask_is_an_error()
    {
        var dir = Folder("image,exam_id,patient_id,mask\na.png,e,p,m.png\n", ("a.png", Grey(2, 2)), ("m.png", new PngImage(2, 2, 3, 8, new ushort[12])));
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.LoadSegmentation(dir));
        Assert.EndsWith("m.png", e.Path);
        Assert.Equal("mask has 3 channels: a mask is a single-channel (grey) label map holding class indices, 0 = background, k = class k", e.Problem);
    }

    [Fact]
    public void A_value_beyond_the_declared_classes_is_an_error_with_its_pixel()
    {
        var dir = Folder("image,exam_id,patient_id,mask\na.png,e,p,m.png\n", ("a.png", Grey(3, 2)), ("m.png", new PngImage(3, 2, 1, 8, [0, 1, 0, 0, 0, 2])));
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.LoadSegmentation(dir, ["skin", "lesion"]));
        Assert.EndsWith("m.png", e.Path);
        Assert.Equal("value 2 at (x 2, y 1) is beyond the 2 declared classes (skin, lesion: values 0–1)", e.Problem);
    }

    [Fact]
    public void A_mask_saved_as_0_and_255_is_an_error_unless_declared()
    {
        var dir = Folder("image,exam_id,patient_id,mask\na.png,e,p,m.png\n", ("a.png", Grey(2, 1)), ("m.png", new PngImage(2, 1, 1, 8, [0, 255])));
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.LoadSegmentation(dir));
        Assert.Equal("value 255 at (x 1, y 0): a mask holds class indices 0, 1, 2, …; save a 0/255 binary mask as 0/1 (or declare the class names when 255 really is a class)", e.Problem);
    }

    [Fact]
    public void Manifest_level_mask_errors_name_the_manifest_or_the_mask()
    {
        var noColumn = Folder("image,exam_id,patient_id,a\nx.png,e,p,1\n", ("x.png", Grey(2, 2)));
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.LoadSegmentation(noColumn));
        Assert.EndsWith("manifest.csv", e.Path);
        Assert.Equal("no 'mask' column: a segmentation manifest names each image's label map (header: image,exam_id,patient_id,a)", e.Problem);

        var noMasks = Folder("image,exam_id,patient_id,mask\nx.png,e,p,\n", ("x.png", Grey(2, 2)));
        Assert.Equal("no row names a mask in the 'mask' column", Assert.Throws<DataFormatException>(() => ImageFolder.LoadSegmentation(noMasks)).Problem);

        var testWithout = Folder("image,exam_id,patient_id,split,mask\nx.png,e,p,labelled,m.png\ny.png,f,q,test,\n", ("x.png", Grey(2, 2)), ("y.png", Grey(2, 2)), ("m.png", Grey(2, 2)));
        Assert.Equal("row 2: a 'test' image needs a mask (an image without one can only be unlabelled)",
            Assert.Throws<DataFormatException>(() => ImageFolder.LoadSegmentation(testWithout)).Problem);

        var jpeg = Folder("image,exam_id,patient_id,mask\nx.png,e,p,m.jpg\n", ("x.png", Grey(2, 2)));
        var j = Assert.Throws<DataFormatException>(() => ImageFolder.LoadSegmentation(jpeg));
        Assert.EndsWith("m.jpg", j.Path);
        Assert.Equal("a mask must be a PNG label map (8- or 16-bit grey), not '.jpg': a lossy format would change the class indices", j.Problem);
    }

    private static string Folder(string manifest, params (string Name, PngImage Image)[] files)
    {
        var dir = Fixture.TempDir();
        foreach (var (name, image) in files) Png.Write(Path.Combine(dir, name), image);
        File.WriteAllText(Path.Combine(dir, "manifest.csv"), manifest);
        return dir;
    }

    private static PngImage Grey(int w, int h) => new(w, h, 1, 8, new ushort[w * h]);
}

namespace MedSsl.Data.Formats;

/// <summary>One 2-d image file of any format the image folders accept, by extension: <c>.png</c> (8/16-bit, the own
/// reader), <c>.jpg</c>/<c>.jpeg</c> (<see cref="Jpeg"/>), <c>.dcm</c> (<see cref="Dicom"/>, single-frame; grey
/// images windowed to [0, 1] and stored at 16 bits, see <see cref="DicomImage.ToUnitImage"/>). A file without one of
/// these extensions is read as DICOM when it starts like DICOM (scanners often write names without extension).</summary>
public static class ImageFile
{
    public static readonly IReadOnlyList<string> Extensions = [".png", ".jpg", ".jpeg", ".dcm"];

    /// <summary>Reads the image, charging its file to <paramref name="budget"/> (shared by a manifest's files) first;
    /// PNG also charges its decoded samples before allocating them, JPEG and DICOM bound their own decoding.</summary>
    public static PngImage Read(string path, LoadBudget? budget = null)
    {
        var extension = System.IO.Path.GetExtension(path).ToLowerInvariant();
        if (extension == ".png") return Png.Read(path, budget);
        if (extension is ".jpg" or ".jpeg" or ".dcm" || (File.Exists(path) && Dicom.LooksLikeDicom(path)))
            (budget ?? new LoadBudget()).Charge(path, CompressedFile.RegularFileLength(path), "the image file");
        switch (extension)
        {
            case ".jpg" or ".jpeg": return Jpeg.Read(path);
            case ".dcm": return FromDicom(Dicom.Read(path));
        }
        if (File.Exists(path) && Dicom.LooksLikeDicom(path)) return FromDicom(Dicom.Read(path));
        if (!File.Exists(path)) throw new DataFormatException(path, "file not found");
        throw new DataFormatException(path, $"unsupported image format '{extension}' (expected {string.Join(", ", Extensions)}, or a DICOM file)");
    }

    private static PngImage FromDicom(DicomImage image)
    {
        if (image.Frames != 1)
            throw new DataFormatException(image.Path, $"multi-frame DICOM ({image.Frames} frames): an image folder takes one image a file (read it with Dicom.Read)");
        return PngImage.FromChannelMajor(image.ToUnitImage(), image.SamplesPerPixel, image.Rows, image.Columns, bitDepth: 16);
    }
}

using System.Globalization;
using MedSsl.Data.Formats;
using MedSsl.Data.Loaders;

namespace MedSsl.Data;

/// <summary>The masks of a segmentation manifest: how many images have one, and each class's share of their pixels
/// (background first).</summary>
public sealed record MaskSummary(int Annotated, IReadOnlyList<string> ClassNames, IReadOnlyList<double> PixelShares)
{
    public static MaskSummary Of(SegmentationDataset data)
    {
        var counts = data.PixelCounts();
        double total = counts.Sum();
        return new(Enumerable.Range(0, data.Count).Count(data.IsAnnotated), data.ClassNames, [.. counts.Select(c => c / total)]);
    }
}

/// <summary>What <c>medssl data inspect</c> reports about a dataset on disk.</summary>
public sealed record DataSummary(string Path, string Format, int Count, IReadOnlyList<string> Shapes,
    IReadOnlyDictionary<string, int> LabelCounts)
{
    /// <summary>The masks, for a manifest with a <c>mask</c> column; null otherwise.</summary>
    public MaskSummary? Masks { get; init; }

    /// <summary>The lines <c>medssl data inspect</c> prints.</summary>
    public override string ToString() =>
        string.Join(Environment.NewLine, new[] { $"path     {Path}", $"format   {Format}", $"items    {Count}", $"shape    {string.Join(", ", Shapes)}" }
            .Concat(LabelCounts.Select(l => $"  {l.Key,-14} {l.Value}"))
            .Concat(Masks is null ? [] : [$"masks    {Masks.Annotated} of {Count} images, {Masks.ClassNames.Count} classes (share of mask pixels)"])
            .Concat(Masks is null ? [] : Masks.ClassNames.Select((c, k) => $"  {k} {c,-12} {Masks.PixelShares[k].ToString("P1", CultureInfo.InvariantCulture)}")));
}

/// <summary>Recognises the layouts the loaders read and summarises them, by loading them fully (so a summary
/// is also a validation: bad data raises <see cref="DataFormatException"/>).</summary>
public static class DataInspector
{
    public static DataSummary Inspect(string path)
    {
        if (Directory.Exists(path)) return InspectFolder(path);
        if (!File.Exists(path)) throw new DataFormatException(path, "no such file or folder");
        var name = System.IO.Path.GetFileName(path).ToLowerInvariant();
        if (name.EndsWith(".png")) return Png(path);
        if (name.EndsWith(".jpg") || name.EndsWith(".jpeg")) return JpegFile(path);
        if (name.EndsWith(".dcm")) return DicomFile(path);
        if (name.EndsWith(".nii") || name.EndsWith(".nii.gz")) return Volume(path);
        if (name.EndsWith(".csv")) return Manifest(path);
        if (name.Contains("idx")) return IdxFile(path);
        if (Dicom.LooksLikeDicom(path)) return DicomFile(path); // scanners often write DICOM files without an extension
        throw new DataFormatException(path, "unrecognised format (expected .png, .jpg, .dcm or another DICOM file, .nii[.gz], .csv manifest, IDX file or a dataset folder)");
    }

    private static DataSummary InspectFolder(string folder)
    {
        foreach (var manifest in new[] { ImageFolder.ManifestName, VolumeFolder.ManifestName, "moons.csv" })
        {
            var candidate = System.IO.Path.Combine(folder, manifest);
            if (File.Exists(candidate)) return Manifest(candidate) with { Path = folder };
        }
        var files = Directory.GetFiles(folder);
        var images = files.Where(f => System.IO.Path.GetFileName(f).Contains("idx3")).ToArray();
        var labels = files.Where(f => System.IO.Path.GetFileName(f).Contains("idx1")).ToArray();
        if (images.Length == 1 && labels.Length == 1) return Images(folder, "mnist-idx", Mnist.Load(images[0], labels[0]));
        if (files.Any(Dicom.LooksLikeDicom)) return DicomFolder(folder);
        throw new DataFormatException(folder, $"no dataset found: expected {ImageFolder.ManifestName}, {VolumeFolder.ManifestName}, moons.csv, one *idx3* images file with one *idx1* labels file, or the DICOM files of one series");
    }

    private static DataSummary Manifest(string path)
    {
        var (header, _) = Csv.Read(path);
        if (header.Contains("image") && header.Contains("exam_id") && header.Contains(ImageFolder.MaskColumn))
        {
            var masked = ImageFolder.LoadSegmentation(path);
            return Images(path, "png-folder", masked.Images) with { Masks = MaskSummary.Of(masked) };
        }
        if (header.Contains("image") && header.Contains("exam_id")) return Images(path, "png-folder", ImageFolder.Load(path));
        if (header.Contains("image") && header.Contains("mask")) return Volumes(path, VolumeFolder.Load(path));
        if (header.Length >= 2 && header[^1] == "label")
        {
            var points = PointsCsv.Load(path);
            var counts = points.Y.GroupBy(c => c).OrderBy(g => g.Key).ToDictionary(g => g.Key.ToString(), g => g.Count());
            return new DataSummary(path, "points-csv", points.Count, [$"{points.Dimensions}"], counts);
        }
        throw new DataFormatException(path, $"CSV header matches no known manifest: {string.Join(',', header)}");
    }

    private static DataSummary Images(string path, string format, ImageDataset data)
    {
        var counts = data.LabelCounts();
        return new DataSummary(path, format, data.Count, [$"{data.Channels}x{data.Height}x{data.Width}"],
            data.LabelNames.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => counts[p.i]));
    }

    private static DataSummary Volumes(string path, VolumeDataset data)
    {
        var shapes = Enumerable.Range(0, data.Count).Select(i => $"{data[i].Depth}x{data[i].Height}x{data[i].Width}").Distinct().ToList();
        var counts = data.OrganNames.Select((o, k) => (o, k))
            .ToDictionary(p => p.o, p => Enumerable.Range(0, data.Count).Count(v => data.IsAnnotated(v, p.k)));
        return new DataSummary(path, "nifti-volumes", data.Count, shapes, counts);
    }

    private static DataSummary Png(string path)
    {
        var image = Formats.Png.Read(path);
        return new DataSummary(path, $"png ({image.BitDepth}-bit {(image.Channels == 1 ? "gray" : "RGB")})", 1,
            [$"{image.Channels}x{image.Height}x{image.Width}"], new Dictionary<string, int>());
    }

    private static DataSummary Volume(string path)
    {
        var v = Nifti.ReadImage(path);
        var shape = v.Volumes > 1 ? $"{v.Volumes}x{v.SizeZ}x{v.SizeY}x{v.SizeX}" : $"{v.SizeZ}x{v.SizeY}x{v.SizeX}";
        return new DataSummary(path, v.Version == 1 ? $"nifti ({v.DataType})" : $"nifti-2 ({v.DataType})", v.Volumes, [shape], new Dictionary<string, int>());
    }

    private static DataSummary JpegFile(string path)
    {
        var image = Jpeg.Read(path);
        return new DataSummary(path, $"jpeg (8-bit {(image.Channels == 1 ? "gray" : "RGB")})", 1,
            [$"{image.Channels}x{image.Height}x{image.Width}"], new Dictionary<string, int>());
    }

    // Format: dicom (modality, photometric interpretation, bits, transfer syntax); items = frames.
    private static DataSummary DicomFile(string path)
    {
        var d = Dicom.Read(path);
        var syntax = Dicom.TransferSyntaxes.TryGetValue(d.TransferSyntaxUid, out var name) ? name : d.TransferSyntaxUid;
        var shape = d.Frames > 1 ? $"{d.Frames}x{d.SamplesPerPixel}x{d.Rows}x{d.Columns}" : $"{d.SamplesPerPixel}x{d.Rows}x{d.Columns}";
        return new DataSummary(path, $"dicom ({d.Modality ?? "?"}, {d.PhotometricInterpretation}, {d.BitsStored}-bit {(d.Signed ? "signed" : "unsigned")}, {syntax})",
            d.Frames, [shape], new Dictionary<string, int>());
    }

    private static DataSummary DicomFolder(string folder)
    {
        var v = DicomSeries.Read(folder);
        return new DataSummary(folder, $"dicom-series ({v.Modality ?? "?"}, spacing {string.Join('x', v.Spacing.Select(s => s.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)))} mm)",
            v.SizeZ, [$"{v.SizeZ}x{v.SizeY}x{v.SizeX}"], new Dictionary<string, int>());
    }

    private static DataSummary IdxFile(string path)
    {
        var a = Idx.Read(path);
        return new DataSummary(path, $"idx (type 0x{a.TypeCode:X2})", a.Shape[0], [string.Join('x', a.Shape.Skip(1))], new Dictionary<string, int>());
    }
}

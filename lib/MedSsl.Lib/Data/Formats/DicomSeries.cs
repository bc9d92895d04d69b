namespace MedSsl.Data.Formats;

/// <summary>A DICOM series as one volume: slices sorted along the slice normal, values in physical units
/// (rescale applied), stored x fastest as [Z, Y, X] = [slices, rows, columns] like <see cref="NiftiVolume"/>.
/// <see cref="Affine"/> maps voxel (column, row, slice) to patient millimetres (DICOM's LPS axes); <see cref="Files"/>
/// lists the slice files in volume order.</summary>
public sealed record DicomVolume(
    int SizeX, int SizeY, int SizeZ,
    double[] Spacing,
    double[,] Affine,
    string? SeriesInstanceUid, string? Modality,
    double[] WindowCenter, double[] WindowWidth,
    IReadOnlyList<string> Files,
    float[] Data)
{
    public float this[int x, int y, int z] => Data[x + SizeX * (y + SizeY * z)];

    /// <summary>Slice <paramref name="z"/> as a [row, column] image in [0, 1] for display: the first window (centre/width,
    /// PS3.3 C.11.2.1.2 linear) when the series has one, else the volume's minimum … maximum.</summary>
    public float[,] DisplaySlice(int z)
    {
        if (z < 0 || z >= SizeZ) throw new ArgumentOutOfRangeException(nameof(z), z, $"the volume has {SizeZ} slices");
        double low, high;
        if (WindowCenter.Length > 0 && WindowWidth.Length > 0 && WindowWidth[0] > 1)
            (low, high) = (WindowCenter[0] - 0.5 - (WindowWidth[0] - 1) / 2, WindowCenter[0] - 0.5 + (WindowWidth[0] - 1) / 2);
        else (low, high) = (Data.Min(), Data.Max());
        var slice = new float[SizeY, SizeX];
        for (var y = 0; y < SizeY; y++)
            for (var x = 0; x < SizeX; x++)
                slice[y, x] = high > low ? (float)Math.Clamp((this[x, y, z] - low) / (high - low), 0, 1) : 0f;
        return slice;
    }
}

/// <summary>Reads a folder of single-frame DICOM files (one series) into a <see cref="DicomVolume"/>.
/// Files that do not start like DICOM (a README, a DICOMDIR index without pixels is refused explicitly) are left out;
/// a folder holding several series must name one. Slices are ordered by Image Position (Patient) projected on the
/// normal of Image Orientation (Patient), row × column direction (PS3.3 C.7.6.2.1.1).</summary>
public static class DicomSeries
{
    public static DicomVolume Read(string folder, string? seriesInstanceUid = null)
    {
        if (!Directory.Exists(folder)) throw new DataFormatException(folder, "no such folder");
        var files = Directory.GetFiles(folder).Order(StringComparer.Ordinal)
            .Where(f => !System.IO.Path.GetFileName(f).Equals("DICOMDIR", StringComparison.OrdinalIgnoreCase) && Dicom.LooksLikeDicom(f))
            .ToArray();
        if (files.Length == 0) throw new DataFormatException(folder, "no DICOM files in the folder");
        // Each slice keeps only its physical values (4 bytes a voxel), not the stored doubles.
        var decoded = ParallelDecode.Map(files.Length, i =>
        {
            var image = Dicom.Read(files[i]);
            return (Image: image with { Stored = [] }, Values: image.Physical());
        });
        var physical = decoded.ToDictionary(d => d.Image.Path, d => d.Values);
        var images = decoded.Select(d => d.Image).ToArray();
        var series = images.GroupBy(s => s.SeriesInstanceUid ?? "").ToList();
        if (seriesInstanceUid != null)
        {
            series = series.Where(g => g.Key == seriesInstanceUid).ToList();
            if (series.Count == 0) throw new DataFormatException(folder, $"no file of series {seriesInstanceUid}");
        }
        if (series.Count > 1)
            throw new DataFormatException(folder, $"{series.Count} series in one folder ({string.Join(", ", series.Select(g => $"{g.Key}: {g.Count()} files"))}): " +
                "put each series in its own folder, or pass its Series Instance UID to DicomSeries.Read(folder, uid)");
        var slices = series[0].ToList();
        var first = slices[0];
        foreach (var s in slices)
        {
            if (s.Frames != 1 || s.SamplesPerPixel != 1)
                throw new DataFormatException(s.Path, $"{s.Frames} frame(s) of {s.SamplesPerPixel} sample(s): a series volume is built from single-frame grey images");
            if (s.Rows != first.Rows || s.Columns != first.Columns)
                throw new DataFormatException(s.Path, $"slice is {s.Rows}×{s.Columns}, but {first.Path} is {first.Rows}×{first.Columns}");
            if (s.ImagePositionPatient is not { Length: 3 } || s.ImageOrientationPatient is not { Length: 6 })
                throw new DataFormatException(s.Path, "no Image Position / Image Orientation (Patient): the slices cannot be ordered in space");
            if (!s.ImageOrientationPatient.Zip(first.ImageOrientationPatient!).All(p => Math.Abs(p.First - p.Second) < 1e-4))
                throw new DataFormatException(s.Path, $"Image Orientation differs from {first.Path}'s: not one stack of parallel slices");
        }
        var o = first.ImageOrientationPatient!;
        double[] row = [o[0], o[1], o[2]], column = [o[3], o[4], o[5]];
        double[] normal = [row[1] * column[2] - row[2] * column[1], row[2] * column[0] - row[0] * column[2], row[0] * column[1] - row[1] * column[0]];
        double Along(DicomImage s) => s.ImagePositionPatient!.Zip(normal).Sum(p => p.First * p.Second);
        slices = slices.OrderBy(Along).ToList();
        var positions = slices.Select(Along).ToArray();
        for (var k = 1; k < positions.Length; k++)
            if (positions[k] - positions[k - 1] < 1e-6)
                throw new DataFormatException(slices[k].Path, $"same position along the slice normal as {slices[k - 1].Path}: duplicate slice");
        var between = positions.Length > 1 ? (positions[^1] - positions[0]) / (positions.Length - 1) : first.SliceThickness ?? 1;
        var spacing = first.PixelSpacing is { Length: 2 } ps ? ps : [1.0, 1.0]; // DICOM: row spacing (Δy), column spacing (Δx)

        var plane = first.Rows * first.Columns;
        if ((long)plane * slices.Count > Nifti.MaxVoxels)
            throw new DataFormatException(folder, $"{slices.Count} slices of {first.Rows}×{first.Columns} are beyond the bound of {Nifti.MaxVoxels} voxels");
        var data = new float[(long)plane * slices.Count];
        for (var k = 0; k < slices.Count; k++) physical[slices[k].Path].CopyTo(data, (long)k * plane);
        var affine = new double[4, 4];
        var origin = slices[0].ImagePositionPatient!;
        for (var r = 0; r < 3; r++)
        {
            affine[r, 0] = row[r] * spacing[1];
            affine[r, 1] = column[r] * spacing[0];
            affine[r, 2] = normal[r] * between;
            affine[r, 3] = origin[r];
        }
        affine[3, 3] = 1;
        return new DicomVolume(first.Columns, first.Rows, slices.Count, [spacing[1], spacing[0], between], affine,
            first.SeriesInstanceUid, first.Modality, first.WindowCenter, first.WindowWidth,
            slices.Select(s => s.Path).ToArray(), data);
    }
}

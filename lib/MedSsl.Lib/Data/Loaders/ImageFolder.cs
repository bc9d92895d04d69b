using System.Text;
using MedSsl.Data.Formats;

namespace MedSsl.Data.Loaders;

/// <summary>A folder of images (PNG, JPEG or DICOM: <see cref="ImageFile"/>) described by a CSV manifest — the layout users give their own data in:
/// <code>
/// image,exam_id,patient_id[,split][,mask],liver,gallbladder,...   (one 0/1 column per label)
/// images/E0001/000.png,E0001,P0001,labelled,masks/E0001/000.png,1,0,...
/// </code>
/// Image and mask paths are relative to the manifest's folder. <c>split</c> is optional (labelled, unlabelled, validation,
/// test); <c>mask</c> is optional, for segmentation (<see cref="LoadSegmentation"/>). All images must have the same size
/// and channel count.</summary>
public static class ImageFolder
{
    public const string ManifestName = "manifest.csv";
    /// <summary>The optional column naming each image's label map (<see cref="LoadSegmentation"/>).</summary>
    public const string MaskColumn = "mask";
    private static readonly string[] Columns = ["image", "exam_id", "patient_id", "split"];
    private static readonly string[] Reserved = [.. Columns, MaskColumn];

    /// <summary>Loads a manifest (a CSV file, or a folder holding <c>manifest.csv</c>) and every image it lists; a
    /// <c>mask</c> column, if any, is not read (<see cref="LoadSegmentation"/> reads it).</summary>
    /// <param name="labelNames">when given, the label columns must be exactly these (in any order; the dataset
    /// keeps this order): an unknown or missing column is an error.</param>
    /// <param name="budget">memory this load may allocate (default: <see cref="LoadBudget.DefaultBytes"/>).</param>
    public static ImageDataset Load(string path, IReadOnlyList<string>? labelNames = null, LoadBudget? budget = null)
    {
        var manifest = Manifest.Read(path);
        return ReadImages(manifest, labelNames, budget ?? new LoadBudget(), labelsRequired: true);
    }

    /// <summary>Loads a manifest with a <c>mask</c> column: each row's image and its label map, a PNG (8- or 16-bit grey,
    /// the image's size) whose pixels hold class indices, 0 = background and k = class k. A row may leave its mask empty:
    /// that image is unannotated, usable only as an unlabelled image (its split must be empty, which makes it
    /// <see cref="DataSplit.Unlabelled"/>, or <c>unlabelled</c>). Label columns (0/1 findings) are optional here.</summary>
    /// <param name="classNames">the classes, background first: a mask value of their count or more is an error. Null:
    /// the classes the masks show (the largest value + 1, at least 2), named background, class 1, class 2, …</param>
    public static SegmentationDataset LoadSegmentation(string path, IReadOnlyList<string>? classNames = null,
        IReadOnlyList<string>? labelNames = null, LoadBudget? budget = null)
    {
        budget ??= new LoadBudget();
        var manifest = Manifest.Read(path);
        if (classNames is { Count: < 2 or > 256 })
            throw new ArgumentException($"a label map holds 2 to 256 classes (background included), not {classNames.Count}", nameof(classNames));
        var maskCol = Array.IndexOf(manifest.Header, MaskColumn);
        if (maskCol < 0)
            throw new DataFormatException(manifest.Path, $"no '{MaskColumn}' column: a segmentation manifest names each image's label map (header: {string.Join(',', manifest.Header)})");
        var n = manifest.Rows.Count;
        var maskPaths = manifest.Rows.Select(r => r[maskCol].Trim() is { Length: > 0 } m ? System.IO.Path.Combine(manifest.Folder, m) : null).ToArray();
        if (maskPaths.All(m => m is null)) throw new DataFormatException(manifest.Path, $"no row names a mask in the '{MaskColumn}' column");
        var images = ReadImages(manifest, labelNames, budget, labelsRequired: false, (row, split) => maskPaths[row] is not null ? split : split switch
        {
            DataSplit.Unassigned or DataSplit.Unlabelled => DataSplit.Unlabelled,
            _ => throw new DataFormatException(manifest.Path, $"row {row + 1}: a '{split.ToString().ToLowerInvariant()}' image needs a mask (an image without one can only be unlabelled)"),
        });

        var plane = images.Height * images.Width;
        budget.Charge(manifest.Path, (long)n * plane, $"{n} masks of {images.Height}×{images.Width}");
        var masks = new byte[(long)n * plane];
        var largest = ParallelDecode.Map(n, i => maskPaths[i] is { } mask
            ? ReadMask(mask, System.IO.Path.Combine(manifest.Folder, manifest.Rows[i][manifest.Column("image")]), images, classNames, budget, masks.AsSpan(i * plane, plane))
            : 0).Max();
        classNames ??= [.. Enumerable.Range(0, Math.Max(2, largest + 1)).Select(k => k == 0 ? "background" : $"class {k}")];
        return new SegmentationDataset(images, masks, classNames, [.. maskPaths.Select(m => m is not null)]);
    }

    /// <summary>Decodes one label map into <paramref name="destination"/> and returns its largest value.</summary>
    private static int ReadMask(string path, string imagePath, ImageDataset images, IReadOnlyList<string>? classNames, LoadBudget budget, Span<byte> destination)
    {
        var extension = System.IO.Path.GetExtension(path).ToLowerInvariant();
        if (extension != ".png")
            throw new DataFormatException(path, $"a mask must be a PNG label map (8- or 16-bit grey), not '{extension}': a lossy format would change the class indices");
        if (!File.Exists(path)) throw new DataFormatException(path, $"mask file not found (the mask of {imagePath})");
        var mask = Png.Read(path, budget);
        if (mask.Channels != 1)
            throw new DataFormatException(path, $"mask has {mask.Channels} channels: a mask is a single-channel (grey) label map holding class indices, 0 = background, k = class k");
        if (mask.Width != images.Width || mask.Height != images.Height)
            throw new DataFormatException(path, $"mask is {mask.Width}×{mask.Height} but its image {imagePath} is {images.Width}×{images.Height}: a mask must have its image's size");
        var largest = 0;
        for (var p = 0; p < mask.Samples.Length; p++)
        {
            int value = mask.Samples[p];
            if (classNames is not null && value >= classNames.Count)
                throw new DataFormatException(path, $"value {value} at (x {p % mask.Width}, y {p / mask.Width}) is beyond the {classNames.Count} declared classes ({string.Join(", ", classNames)}: values 0–{classNames.Count - 1})");
            if (classNames is null && value >= byte.MaxValue)
                throw new DataFormatException(path, $"value {value} at (x {p % mask.Width}, y {p / mask.Width}): a mask holds class indices 0, 1, 2, …; save a 0/255 binary mask as 0/1 (or declare the class names when {value} really is a class)");
            destination[p] = (byte)value;
            largest = Math.Max(largest, value);
        }
        return largest;
    }

    /// <summary>A manifest's header and rows, with the folder its paths are relative to.</summary>
    private sealed record Manifest(string Path, string[] Header, List<string[]> Rows, string Folder)
    {
        public static Manifest Read(string path)
        {
            var manifest = Directory.Exists(path) ? System.IO.Path.Combine(path, ManifestName) : path;
            var (header, rows) = Csv.Read(manifest);
            foreach (var required in Columns.Take(3))
                if (!header.Contains(required)) throw new DataFormatException(manifest, $"missing column '{required}' (header: {string.Join(',', header)})");
            if (rows.Count == 0) throw new DataFormatException(manifest, "manifest lists no images");
            return new Manifest(manifest, header, rows, System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(manifest))!);
        }

        public int Column(string name) => Array.IndexOf(Header, name);
    }

    /// <param name="split">the split of a row from its parsed split column (the row's index, 0-based), where a caller
    /// refines it</param>
    private static ImageDataset ReadImages(Manifest manifest, IReadOnlyList<string>? labelNames, LoadBudget budget, bool labelsRequired,
        Func<int, DataSplit, DataSplit>? split = null)
    {
        var (path, header, rows) = (manifest.Path, manifest.Header, manifest.Rows);
        var labelColumns = header.Where(h => !Reserved.Contains(h)).ToArray();
        if (labelNames != null)
        {
            var unknown = labelColumns.Except(labelNames).ToArray();
            if (unknown.Length > 0)
                throw new DataFormatException(path, $"unknown label column(s) {string.Join(", ", unknown)} (expected {string.Join(", ", labelNames)})");
            var missing = labelNames.Except(labelColumns).ToArray();
            if (missing.Length > 0) throw new DataFormatException(path, $"missing label column(s) {string.Join(", ", missing)}");
            labelColumns = labelNames.ToArray();
        }
        if (labelsRequired && labelColumns.Length == 0) throw new DataFormatException(path, "no label columns");
        var splitCol = manifest.Column("split");
        var labelCols = labelColumns.Select(manifest.Column).ToArray();

        var n = rows.Count;
        budget.Charge(path, (long)n * labelColumns.Length, $"{n} images × {labelColumns.Length} labels");
        var labels = new bool[(long)n * labelColumns.Length];
        var splits = new DataSplit[n];
        var imagePaths = new string[n];
        for (var i = 0; i < n; i++)
        {
            var row = rows[i];
            imagePaths[i] = System.IO.Path.Combine(manifest.Folder, row[manifest.Column("image")]);
            for (var l = 0; l < labelCols.Length; l++)
            {
                labels[(long)i * labelCols.Length + l] = row[labelCols[l]].Trim() switch
                {
                    "1" => true,
                    "0" => false,
                    var v => throw new DataFormatException(path, $"row {i + 1}, column '{labelColumns[l]}': label must be 0 or 1, found '{v}'"),
                };
            }
            if (splitCol >= 0) splits[i] = ParseSplit(row[splitCol], path, i + 1);
            if (split is not null) splits[i] = split(i, splits[i]);
        }

        var images = ParallelDecode.Map(n, i => ImageFile.Read(imagePaths[i], budget));
        var first = images[0];
        for (var i = 1; i < n; i++)
            if (images[i].Width != first.Width || images[i].Height != first.Height || images[i].Channels != first.Channels)
                throw new DataFormatException(imagePaths[i],
                    $"image is {images[i].Channels}×{images[i].Height}×{images[i].Width}, but {imagePaths[0]} is {first.Channels}×{first.Height}×{first.Width}: all images must have one size (resize them first)");
        var size = first.Channels * first.Height * first.Width;
        budget.Charge(path, (long)n * size * sizeof(float), $"{n} images of {first.Channels}×{first.Height}×{first.Width} as floats");
        var pixels = new float[(long)n * size];
        Parallel.For(0, n, i => images[i].ToChannelMajor().CopyTo(pixels, (long)i * size));
        return new ImageDataset(first.Channels, first.Height, first.Width, labelColumns, pixels, labels,
            rows.Select(r => r[manifest.Column("exam_id")]).ToArray(), rows.Select(r => r[manifest.Column("patient_id")]).ToArray(), splits);
    }

    private static DataSplit ParseSplit(string text, string manifest, int row) => text.Trim().ToLowerInvariant() switch
    {
        "" => DataSplit.Unassigned,
        "labelled" or "labeled" => DataSplit.Labelled,
        "unlabelled" or "unlabeled" => DataSplit.Unlabelled,
        "validation" or "val" => DataSplit.Validation,
        "test" => DataSplit.Test,
        _ => throw new DataFormatException(manifest, $"row {row}: unknown split '{text}' (labelled, unlabelled, validation, test)"),
    };

    /// <summary>Writes the dataset as <c>images/EXAM/NNNNN.png</c> plus <c>manifest.csv</c> into a new folder,
    /// built in a temporary sibling and renamed when complete.</summary>
    public static void Write(IImageDataset data, string directory, int bitDepth = 8) => Write(data, null, directory, bitDepth);

    /// <summary>Writes the images as <see cref="Write(IImageDataset, string, int)"/> does, each mask as
    /// <c>masks/EXAM/NNNNN.png</c> (8-bit grey, the class indices as values) and the manifest with a <c>mask</c> column
    /// (empty for an unannotated image): the layout <see cref="LoadSegmentation"/> reads.</summary>
    public static void Write(SegmentationDataset data, string directory, int bitDepth = 8) => Write(data.Images, data, directory, bitDepth);

    private static void Write(IImageDataset data, SegmentationDataset? masks, string directory, int bitDepth)
    {
        AtomicFile.WriteDirectory(directory, temp =>
        {
            var manifest = new StringBuilder();
            manifest.AppendLine(Csv.Line(Columns.Concat(masks is null ? [] : [MaskColumn]).Concat(data.LabelNames)));
            var relative = new string[data.Count];
            for (var i = 0; i < data.Count; i++) relative[i] = $"{Sanitize(data.ExamId(i))}/{i:D5}.png";
            void WritePng(string file, PngImage image)
            {
                var full = System.IO.Path.Combine(temp, file);
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
                File.WriteAllBytes(full, Png.Encode(image));
            }
            Parallel.For(0, data.Count, i =>
            {
                var pixels = new float[data.Channels * data.Height * data.Width];
                data.CopyImage(i, pixels);
                WritePng($"images/{relative[i]}", PngImage.FromChannelMajor(pixels, data.Channels, data.Height, data.Width, bitDepth));
                if (masks is not null && masks.IsAnnotated(i))
                    WritePng($"masks/{relative[i]}", new PngImage(data.Width, data.Height, 1, 8, [.. masks.Mask(i).ToArray().Select(m => (ushort)m)]));
            });
            for (var i = 0; i < data.Count; i++)
            {
                var split = data.Split(i) == DataSplit.Unassigned ? "" : data.Split(i).ToString().ToLowerInvariant();
                IEnumerable<string> mask = masks is null ? [] : [masks.IsAnnotated(i) ? $"masks/{relative[i]}" : ""];
                manifest.AppendLine(Csv.Line(new[] { $"images/{relative[i]}", data.ExamId(i), data.PatientId(i), split }.Concat(mask)
                    .Concat(Enumerable.Range(0, data.LabelNames.Count).Select(l => data.HasLabel(i, l) ? "1" : "0"))));
            }
            File.WriteAllText(System.IO.Path.Combine(temp, ManifestName), manifest.ToString());
        });
    }

    private static string Sanitize(string id) =>
        new(id.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
}

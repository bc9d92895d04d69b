using System.Text;
using MedSsl.Data.Formats;

namespace MedSsl.Data.Loaders;

/// <summary>A folder of images (PNG, JPEG or DICOM: <see cref="ImageFile"/>) described by a CSV manifest — the layout users give their own data in:
/// <code>
/// image,exam_id,patient_id[,split],liver,gallbladder,...   (one 0/1 column per label)
/// images/E0001/000.png,E0001,P0001,labelled,1,0,...
/// </code>
/// Image paths are relative to the manifest's folder. <c>split</c> is optional (labelled, unlabelled, validation,
/// test). All images must have the same size and channel count.</summary>
public static class ImageFolder
{
    public const string ManifestName = "manifest.csv";
    private static readonly string[] Reserved = ["image", "exam_id", "patient_id", "split"];

    /// <summary>Loads a manifest (a CSV file, or a folder holding <c>manifest.csv</c>) and every image it lists.</summary>
    /// <param name="labelNames">when given, the label columns must be exactly these (in any order; the dataset
    /// keeps this order): an unknown or missing column is an error.</param>
    /// <param name="budget">memory this load may allocate (default: <see cref="LoadBudget.DefaultBytes"/>).</param>
    public static ImageDataset Load(string path, IReadOnlyList<string>? labelNames = null, LoadBudget? budget = null)
    {
        budget ??= new LoadBudget();
        var manifest = Directory.Exists(path) ? System.IO.Path.Combine(path, ManifestName) : path;
        var (header, rows) = Csv.Read(manifest);
        foreach (var required in Reserved.Take(3))
            if (!header.Contains(required)) throw new DataFormatException(manifest, $"missing column '{required}' (header: {string.Join(',', header)})");
        var labelColumns = header.Where(h => !Reserved.Contains(h)).ToArray();
        if (labelNames != null)
        {
            var unknown = labelColumns.Except(labelNames).ToArray();
            if (unknown.Length > 0)
                throw new DataFormatException(manifest, $"unknown label column(s) {string.Join(", ", unknown)} (expected {string.Join(", ", labelNames)})");
            var missing = labelNames.Except(labelColumns).ToArray();
            if (missing.Length > 0) throw new DataFormatException(manifest, $"missing label column(s) {string.Join(", ", missing)}");
            labelColumns = labelNames.ToArray();
        }
        if (labelColumns.Length == 0) throw new DataFormatException(manifest, "no label columns");
        if (rows.Count == 0) throw new DataFormatException(manifest, "manifest lists no images");
        int Col(string name) => Array.IndexOf(header, name);
        var splitCol = Col("split");
        var labelCols = labelColumns.Select(Col).ToArray();
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(manifest))!;

        var n = rows.Count;
        budget.Charge(manifest, (long)n * labelColumns.Length, $"{n} images × {labelColumns.Length} labels");
        var labels = new bool[(long)n * labelColumns.Length];
        var splits = new DataSplit[n];
        var imagePaths = new string[n];
        for (var i = 0; i < n; i++)
        {
            var row = rows[i];
            imagePaths[i] = System.IO.Path.Combine(folder, row[Col("image")]);
            for (var l = 0; l < labelCols.Length; l++)
            {
                labels[(long)i * labelCols.Length + l] = row[labelCols[l]].Trim() switch
                {
                    "1" => true,
                    "0" => false,
                    var v => throw new DataFormatException(manifest, $"row {i + 1}, column '{labelColumns[l]}': label must be 0 or 1, found '{v}'"),
                };
            }
            if (splitCol >= 0) splits[i] = ParseSplit(row[splitCol], manifest, i + 1);
        }

        var images = ParallelDecode.Map(n, i => ImageFile.Read(imagePaths[i], budget));
        var first = images[0];
        for (var i = 1; i < n; i++)
            if (images[i].Width != first.Width || images[i].Height != first.Height || images[i].Channels != first.Channels)
                throw new DataFormatException(imagePaths[i],
                    $"image is {images[i].Channels}×{images[i].Height}×{images[i].Width}, but {imagePaths[0]} is {first.Channels}×{first.Height}×{first.Width}: all images must have one size (resize them first)");
        var size = first.Channels * first.Height * first.Width;
        budget.Charge(manifest, (long)n * size * sizeof(float), $"{n} images of {first.Channels}×{first.Height}×{first.Width} as floats");
        var pixels = new float[(long)n * size];
        Parallel.For(0, n, i => images[i].ToChannelMajor().CopyTo(pixels, (long)i * size));
        return new ImageDataset(first.Channels, first.Height, first.Width, labelColumns, pixels, labels,
            rows.Select(r => r[Col("exam_id")]).ToArray(), rows.Select(r => r[Col("patient_id")]).ToArray(), splits);
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
    public static void Write(IImageDataset data, string directory, int bitDepth = 8)
    {
        AtomicFile.WriteDirectory(directory, temp =>
        {
            var manifest = new StringBuilder();
            manifest.AppendLine(Csv.Line(Reserved.Concat(data.LabelNames)));
            var relative = new string[data.Count];
            for (var i = 0; i < data.Count; i++) relative[i] = $"images/{Sanitize(data.ExamId(i))}/{i:D5}.png";
            Parallel.For(0, data.Count, i =>
            {
                var pixels = new float[data.Channels * data.Height * data.Width];
                data.CopyImage(i, pixels);
                var file = System.IO.Path.Combine(temp, relative[i]);
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
                File.WriteAllBytes(file, Png.Encode(PngImage.FromChannelMajor(pixels, data.Channels, data.Height, data.Width, bitDepth)));
            });
            for (var i = 0; i < data.Count; i++)
            {
                var split = data.Split(i) == DataSplit.Unassigned ? "" : data.Split(i).ToString().ToLowerInvariant();
                manifest.AppendLine(Csv.Line(new[] { relative[i], data.ExamId(i), data.PatientId(i), split }
                    .Concat(Enumerable.Range(0, data.LabelNames.Count).Select(l => data.HasLabel(i, l) ? "1" : "0"))));
            }
            File.WriteAllText(System.IO.Path.Combine(temp, ManifestName), manifest.ToString());
        });
    }

    private static string Sanitize(string id) =>
        new(id.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
}

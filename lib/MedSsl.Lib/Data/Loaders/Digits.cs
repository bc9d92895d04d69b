using System.Globalization;
using System.IO.Compression;

namespace MedSsl.Data.Loaders;

/// <summary>The UCI optical-recognition handwritten digits as scikit-learn ships them (<c>load_digits</c>): 1797 images
/// of 8×8 pixels, each pixel a count 0–16 of set pixels in a 4×4 block of the 32×32 bitmap, one class 0–9 per image
/// (Alpaydin &amp; Kaynak 1998). The file is a CSV of 65 columns (64 pixels row by row, then the label), optionally
/// gzipped. Loaded as a single-label <see cref="ImageDataset"/>: pixels scaled by 1/16 to [0, 1], label names "0" … "9",
/// each image its own exam and patient (<c>digit-00000</c> …), no split assigned.</summary>
public static class Digits
{
    /// <summary>Where Debian's python3-sklearn installs the file.</summary>
    public const string SklearnCsv = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";
    public const int Side = 8;
    public const int MaxValue = 16;
    public const int Classes = 10;

    /// <summary>Reads the CSV (default: <see cref="SklearnCsv"/>).</summary>
    public static ImageDataset Load(string? path = null, LoadBudget? budget = null)
    {
        path ??= SklearnCsv;
        budget ??= new LoadBudget();
        if (!File.Exists(path))
            throw new DataFormatException(path, "no such file (the digits come with python3-sklearn: apt-get install python3-sklearn, or give the CSV's path)");
        var pixels = new List<float>();
        var labels = new List<int>();
        using (var stream = File.OpenRead(path))
        using (var reader = new StreamReader(path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(stream, CompressionMode.Decompress) : stream))
        {
            var line = 0;
            for (var text = reader.ReadLine(); text is not null; text = reader.ReadLine())
            {
                line++;
                if (text.Trim().Length == 0) continue;
                var cells = text.Split(',');
                if (cells.Length != Side * Side + 1)
                    throw new DataFormatException(path, $"line {line}: {cells.Length} columns, expected {Side * Side} pixels and a label");
                budget.Charge(path, (Side * Side + 1) * sizeof(float), $"digit {labels.Count + 1}");
                for (var j = 0; j <= Side * Side; j++)
                {
                    if (!double.TryParse(cells[j], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v != Math.Floor(v)
                        || v < 0 || v > (j < Side * Side ? MaxValue : Classes - 1))
                        throw new DataFormatException(path, $"line {line}, column {j + 1}: '{cells[j]}' is not " +
                            (j < Side * Side ? $"a pixel count 0–{MaxValue}" : $"a class 0–{Classes - 1}"));
                    if (j < Side * Side) pixels.Add((float)(v / MaxValue));
                    else labels.Add((int)v);
                }
            }
        }
        if (labels.Count == 0) throw new DataFormatException(path, "no digits in the file");
        var n = labels.Count;
        var onehot = new bool[n * Classes];
        for (var i = 0; i < n; i++) onehot[i * Classes + labels[i]] = true;
        var ids = Enumerable.Range(0, n).Select(i => $"digit-{i:D5}").ToArray();
        return new ImageDataset(1, Side, Side, [.. Enumerable.Range(0, Classes).Select(c => c.ToString(CultureInfo.InvariantCulture))],
            [.. pixels], onehot, ids, ids);
    }

    /// <summary>Writes the digits as an image folder (8-bit PNGs and <c>manifest.csv</c>, see <see cref="ImageFolder"/>)
    /// into <paramref name="directory"/> (new or empty) and returns its path: a folder laid
    /// out as a user's own data would be.</summary>
    public static string WriteImageFolder(string directory, string? csvPath = null)
    {
        ImageFolder.Write(Load(csvPath), directory);
        return directory;
    }
}

using System.Globalization;
using System.Text;
using MedSsl.Data.Formats;

namespace MedSsl.Data.Loaders;

/// <summary>Points as CSV: columns <c>x0, x1, …, label</c>, one point per row, label an integer class index.</summary>
public static class PointsCsv
{
    public static PointDataset Load(string path)
    {
        var (header, rows) = Csv.Read(path);
        if (header.Length < 2 || header[^1] != "label")
            throw new DataFormatException(path, $"expected columns x0, …, label; found {string.Join(',', header)}");
        if (rows.Count == 0) throw new DataFormatException(path, "no points");
        var d = header.Length - 1;
        var x = new double[rows.Count * d];
        var y = new int[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            for (var j = 0; j < d; j++)
                if (!double.TryParse(rows[i][j], NumberStyles.Float, CultureInfo.InvariantCulture, out x[i * d + j]) || !double.IsFinite(x[i * d + j]))
                    throw new DataFormatException(path, $"row {i + 1}, column '{header[j]}': '{rows[i][j]}' is not a finite number");
            if (!int.TryParse(rows[i][d], NumberStyles.Integer, CultureInfo.InvariantCulture, out y[i]) || y[i] < 0)
                throw new DataFormatException(path, $"row {i + 1}: label '{rows[i][d]}' is not a class index ≥ 0");
        }
        return new PointDataset(x, y, d);
    }

    public static void Write(PointDataset data, string path)
    {
        var text = new StringBuilder();
        text.AppendLine(string.Join(',', Enumerable.Range(0, data.Dimensions).Select(j => $"x{j}").Append("label")));
        for (var i = 0; i < data.Count; i++)
            text.AppendLine(string.Join(',', Enumerable.Range(0, data.Dimensions).Select(j => data[i, j].ToString("R", CultureInfo.InvariantCulture)).Append(data.Y[i].ToString(CultureInfo.InvariantCulture))));
        AtomicFile.WriteAllText(path, text.ToString());
    }
}

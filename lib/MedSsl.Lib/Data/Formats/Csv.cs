using System.Text;

namespace MedSsl.Data.Formats;

/// <summary>Minimal RFC 4180 CSV: comma-separated, fields may be double-quoted (with "" for a quote).</summary>
public static class Csv
{
    /// <summary>Largest manifest read (256 MiB).</summary>
    public const long MaxBytes = 1L << 28;

    /// <summary>Header and rows of a CSV file; every row must have the header's field count.</summary>
    public static (string[] Header, List<string[]> Rows) Read(string path)
    {
        string[] lines;
        var length = CompressedFile.RegularFileLength(path);
        if (length > MaxBytes) throw new DataFormatException(path, $"CSV file of {length} bytes is beyond the bound of {MaxBytes} bytes for a manifest");
        try { lines = File.ReadAllLines(path); }
        catch (UnauthorizedAccessException e) { throw new DataFormatException(path, "permission denied", e); }
        catch (FileNotFoundException) { throw new DataFormatException(path, "file not found"); }
        catch (DirectoryNotFoundException) { throw new DataFormatException(path, "file not found"); }
        var nonEmpty = lines.Select((text, i) => (text, line: i + 1)).Where(l => l.text.Trim().Length > 0).ToList();
        if (nonEmpty.Count == 0) throw new DataFormatException(path, "empty CSV file (no header)");
        var header = Split(nonEmpty[0].text, path, nonEmpty[0].line).Select(h => h.Trim()).ToArray();
        var duplicate = header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null) throw new DataFormatException(path, $"column '{duplicate.Key}' appears twice in the header");
        var rows = new List<string[]>();
        foreach (var (text, line) in nonEmpty.Skip(1))
        {
            var fields = Split(text, path, line);
            if (fields.Length != header.Length)
                throw new DataFormatException(path, $"line {line} has {fields.Length} fields, the header has {header.Length}");
            rows.Add(fields);
        }
        return (header, rows);
    }

    private static string[] Split(string line, string path, int lineNumber)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        if (quoted) throw new DataFormatException(path, $"line {lineNumber}: unterminated quoted field");
        fields.Add(field.ToString());
        return fields.ToArray();
    }

    public static string Line(IEnumerable<string> fields) =>
        string.Join(',', fields.Select(f => f.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{f.Replace("\"", "\"\"")}\"" : f));

    /// <summary>A DataFrame as CSV: a header of column names, then one line per row; numbers in their shortest
    /// round-trip form with the invariant culture (DataFrame.SaveCsv writes 17 digits: 0.86 as 0.85999999999999999).</summary>
    public static void Write(Microsoft.Data.Analysis.DataFrame frame, Stream stream)
    {
        using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
        writer.WriteLine(Line(frame.Columns.Select(c => c.Name)));
        for (long row = 0; row < frame.Rows.Count; row++)
            writer.WriteLine(Line(frame.Columns.Select(c => Format(c[row]))));
    }

    private static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        float f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

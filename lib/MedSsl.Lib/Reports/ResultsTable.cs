using MedSsl.Metrics;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MedSsl.Reports;

/// <summary>
/// Rows of named values (a method, a seed, its metrics), summarised as mean ± 95 % t-interval over seeds, shown as HTML
/// in notebooks (through <see cref="DisplayFormatters"/>), written as Markdown or CSV, and saved to the run's <c>&lt;stem&gt;.results.json</c>.
/// <code>
/// var runs = new ResultsTable("accuracy");
/// foreach (var seed in seeds) runs.Add(new { Method = "FixMatch", Seed = seed, Accuracy = Train(seed) });
/// var summary = runs.Summarize(by: ["Method"]);   // Accuracy becomes mean ± CI over the seeds
/// summary.Save();                                 // into out/&lt;notebook&gt;.results.json under "accuracy"
/// summary                                         // last expression: drawn as a table
/// </code>
/// </summary>
public sealed class ResultsTable
{
    private readonly List<string> columns = [];
    private readonly List<Dictionary<string, object?>> rows = [];

    public ResultsTable(string name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("a results table needs a name", nameof(name));
        Name = name;
    }

    /// <summary>The key under which <see cref="Save"/> stores this table.</summary>
    public string Name { get; }

    /// <summary>Decimals shown for non-integer numbers.</summary>
    public int Digits { get; set; } = 3;

    public IReadOnlyList<string> Columns => columns;
    public int Count => rows.Count;

    /// <summary>The value in <paramref name="column"/> of row <paramref name="row"/> (null where the row has none).</summary>
    public object? this[int row, string column] => rows[row].GetValueOrDefault(column);

    /// <summary>Adds a row from name/value pairs.</summary>
    public ResultsTable Add(params (string Name, object? Value)[] values)
    {
        var row = new Dictionary<string, object?>();
        foreach (var (name, value) in values)
        {
            if (!row.TryAdd(name, value)) throw new ArgumentException($"column '{name}' given twice in one row", nameof(values));
            if (!columns.Contains(name)) columns.Add(name);
        }
        rows.Add(row);
        return this;
    }

    /// <summary>Adds a row from an object's public properties, e.g. <c>new { Method = "A", Seed = 0, Accuracy = 0.9 }</c>,
    /// or from a dictionary.</summary>
    public ResultsTable Add(object row) => row switch
    {
        IEnumerable<KeyValuePair<string, object?>> pairs => Add(pairs.Select(p => (p.Key, p.Value)).ToArray()),
        _ => Add(row.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0)
            .Select(p => (p.Name, p.GetValue(row)))
            .ToArray()),
    };

    /// <summary>One row per distinct combination of the <paramref name="by"/> columns; every other numeric column
    /// becomes its <see cref="MeanConfidenceInterval"/> over the group's rows (the seeds), and <c>n</c> counts them.
    /// <paramref name="over"/> (default "Seed") is dropped.</summary>
    public ResultsTable Summarize(string[] by, string over = "Seed", double level = 0.95)
    {
        foreach (var column in by)
            if (!columns.Contains(column)) throw new ArgumentException($"results table '{Name}' has no column '{column}'", nameof(by));
        var metrics = columns.Where(c => !by.Contains(c) && c != over && rows.Any(r => IsNumber(r.GetValueOrDefault(c)))).ToList();
        var summary = new ResultsTable(Name) { Digits = Digits };
        var groups = rows.GroupBy(r => string.Join("\u001f", by.Select(c => Convert.ToString(r.GetValueOrDefault(c), CultureInfo.InvariantCulture))));
        foreach (var group in groups)
        {
            var values = by.Select(c => (c, group.First().GetValueOrDefault(c))).ToList();
            foreach (var metric in metrics)
            {
                var numbers = group.Select(r => r.GetValueOrDefault(metric)).Where(IsNumber).Select(v => Convert.ToDouble(v, CultureInfo.InvariantCulture)).ToArray();
                values.Add((metric, numbers.Length == 0 ? null : MeanConfidenceInterval.Of(numbers, level)));
            }
            values.Add(("n", group.Count()));
            summary.Add(values.ToArray());
        }
        return summary;
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", columns.Select(EscapeMarkdown)).AppendLine(" |");
        text.Append('|').AppendJoin("", columns.Select(c => rows.All(r => IsNumeric(r.GetValueOrDefault(c))) ? " ---: |" : " --- |")).AppendLine();
        foreach (var row in rows)
            text.Append("| ").AppendJoin(" | ", columns.Select(c => EscapeMarkdown(Format(row.GetValueOrDefault(c))))).AppendLine(" |");
        return text.ToString();
    }

    /// <summary>RFC 4180 CSV; an interval becomes two columns, <c>X</c> (the mean) and <c>X_ci95</c> (the half-width).</summary>
    public string ToCsv()
    {
        var intervalColumns = columns.Where(c => rows.Any(r => r.GetValueOrDefault(c) is MeanConfidenceInterval)).ToHashSet();
        var header = columns.SelectMany(c => intervalColumns.Contains(c) ? new[] { c, $"{c}_ci{Percent(rows)}" } : [c]);
        var text = new StringBuilder().AppendJoin(",", header.Select(CsvField)).Append("\r\n");
        foreach (var row in rows)
        {
            var fields = columns.SelectMany(c =>
            {
                var value = row.GetValueOrDefault(c);
                if (!intervalColumns.Contains(c)) return new[] { CsvValue(value) };
                return value is MeanConfidenceInterval ci ? [Invariant(ci.Mean), Invariant(ci.HalfWidth)] : [CsvValue(value), ""];
            });
            text.AppendJoin(",", fields.Select(CsvField)).Append("\r\n");
        }
        return text.ToString();
    }

    public string ToHtml()
    {
        var html = new StringBuilder("<table class=\"medssl-results\">");
        html.Append("<caption>").Append(WebUtility.HtmlEncode(Name)).Append("</caption><thead><tr>");
        foreach (var column in columns) html.Append("<th>").Append(WebUtility.HtmlEncode(column)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            foreach (var column in columns)
            {
                var value = row.GetValueOrDefault(column);
                html.Append(IsNumeric(value) ? "<td style=\"text-align:right\">" : "<td>").Append(WebUtility.HtmlEncode(Format(value))).Append("</td>");
            }
            html.Append("</tr>");
        }
        return html.Append("</tbody></table>").ToString();
    }

    public override string ToString() => $"{Name}\n{ToMarkdown()}";

    /// <summary>The table as JSON: <c>{"columns": [...], "rows": [{column: value}]}</c>; an interval is
    /// <c>{"mean", "ci_low", "ci_high", "half_width", "n", "level"}</c>.</summary>
    public JsonObject ToJson() => new()
    {
        ["columns"] = new JsonArray(columns.Select(c => (JsonNode?)c).ToArray()),
        ["rows"] = new JsonArray(rows.Select(r => (JsonNode?)new JsonObject(columns.Where(r.ContainsKey).Select(c => KeyValuePair.Create(c, JsonValueOf(r[c]))))).ToArray()),
    };

    /// <summary>
    /// Stores this table under <see cref="Name"/> in a results file (other tables there are kept), written to a temporary
    /// file and renamed so a reader never sees half a file. The file is <paramref name="path"/> when given, else the one
    /// <c>medssl run</c> names in <see cref="ResultsFile.PathVariable"/>; with neither (an interactive session) nothing is
    /// written. Returns the path written, or null.
    /// </summary>
    public string? Save(string? path = null) => ResultsFile.Update(document =>
    {
        var tables = document["tables"] as JsonObject ?? new JsonObject();
        tables[Name] = ToJson();
        document["tables"] = tables;
    }, path);

    private string Format(object? value) => value switch
    {
        null => "",
        MeanConfidenceInterval ci => ci.ToString(Digits),
        double or float or decimal => Convert.ToDouble(value, CultureInfo.InvariantCulture).ToString("F" + Digits, CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static JsonNode? JsonValueOf(object? value) => value switch
    {
        null => null,
        MeanConfidenceInterval ci => new JsonObject
        {
            ["mean"] = FiniteOrNull(ci.Mean), ["ci_low"] = FiniteOrNull(ci.Lower), ["ci_high"] = FiniteOrNull(ci.Upper),
            ["half_width"] = FiniteOrNull(ci.HalfWidth), ["n"] = ci.Count, ["level"] = ci.Level,
        },
        bool b => b,
        string s => s,
        _ when IsNumber(value) => FiniteOrNull(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    private static JsonNode? FiniteOrNull(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static bool IsNumber(object? value) => value is sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal;
    private static bool IsNumeric(object? value) => value is null || value is MeanConfidenceInterval || IsNumber(value);

    private static string Percent(List<Dictionary<string, object?>> rows)
    {
        var level = rows.SelectMany(r => r.Values).OfType<MeanConfidenceInterval>().Select(c => c.Level).FirstOrDefault(0.95);
        return Math.Round(level * 100).ToString(CultureInfo.InvariantCulture);
    }

    private static string Invariant(double value) => double.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : "";
    private static string CsvValue(object? value) => value switch
    {
        null => "",
        double d => Invariant(d),
        float f => Invariant(f),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
    private static string CsvField(string field) =>
        field.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;
    private static string EscapeMarkdown(string text) => text.Replace("|", "\\|").Replace("\n", " ");
}

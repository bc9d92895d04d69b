using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MedSsl.Data;
using MedSsl.Data.Formats;
using Microsoft.Data.Analysis;

namespace MedSsl.Cli.Sweeps;

/// <summary>One grid point as gathered: how it ended and the scalar values of its results.json.</summary>
internal sealed record GatheredPoint(SweepPoint Point, string Status, string? Error, double? Seconds, IReadOnlyDictionary<string, JsonValue> Results);

/// <summary>
/// Gathers every point's status.json and results.json into one table: a row per point with its parameters, status,
/// error, run time and results. Results are the scalar values of results.json (nested objects flattened as
/// <c>outer.inner</c>; arrays and the "tables" section left out).
/// </summary>
internal static class SweepTable
{
    public const string Missing = "missing";

    public static List<GatheredPoint> Gather(SweepSettings settings, SweepGrid grid, string missingHint) =>
        grid.Points.Select(point =>
        {
            var folder = settings.PointFolder(point);
            PointStatus? status;
            try { status = PointStatus.Read(folder); }
            catch (InvalidDataException e) { return new GatheredPoint(point, PointStatus.Failed, e.Message, null, new Dictionary<string, JsonValue>()); }
            if (status is null)
                return new GatheredPoint(point, Missing, $"did not finish: no {point.Folder}/{PointStatus.FileName} ({missingHint})", null, new Dictionary<string, JsonValue>());
            var resultsPath = Path.Combine(folder, settings.NotebookStem + ".results.json");
            var results = new Dictionary<string, JsonValue>();
            var error = status.Error;
            if (File.Exists(resultsPath))
            {
                try { Flatten(JsonNode.Parse(File.ReadAllText(resultsPath)) as JsonObject ?? [], "", results); }
                catch (JsonException e) { error = (error is null ? "" : error + "; ") + $"{resultsPath} is not valid JSON: {e.Message}"; }
            }
            return new GatheredPoint(point, status.Status, error, status.Seconds, results);
        }).ToList();

    private static void Flatten(JsonObject node, string prefix, Dictionary<string, JsonValue> into)
    {
        foreach (var (key, value) in node)
        {
            if (prefix.Length == 0 && key is "format" or "tables") continue;
            switch (value)
            {
                case JsonValue scalar: into[prefix + key] = scalar; break;
                case JsonObject inner: Flatten(inner, prefix + key + ".", into); break;
            }
        }
    }

    /// <summary>Columns: point, the swept parameters (as given), status, error, seconds, then each result — numeric when
    /// every point's value is a number. A result named like one of the first columns gets a "result." prefix.</summary>
    public static DataFrame ToDataFrame(SweepGrid grid, IReadOnlyList<GatheredPoint> points)
    {
        var columns = new List<DataFrameColumn> { new StringDataFrameColumn("point", points.Select(p => p.Point.Folder)) };
        foreach (var (name, _) in grid.Parameters)
            columns.Add(new StringDataFrameColumn(name, points.Select(p => p.Point.Parameters.Single(q => q.Name == name).Value)));
        columns.Add(new StringDataFrameColumn("status", points.Select(p => p.Status)));
        columns.Add(new StringDataFrameColumn("error", points.Select(p => p.Error)));
        columns.Add(new DoubleDataFrameColumn("seconds", points.Select(p => p.Seconds)));
        var taken = columns.Select(c => c.Name).ToHashSet();
        foreach (var key in ResultNames(points))
        {
            var name = taken.Contains(key) ? "result." + key : key;
            var values = points.Select(p => p.Results.GetValueOrDefault(key)).ToList();
            columns.Add(values.All(v => v is null || v.GetValueKind() == JsonValueKind.Number)
                ? new DoubleDataFrameColumn(name, values.Select(v => v?.GetValue<double>()))
                : new StringDataFrameColumn(name, values.Select(Text)));
        }
        return new DataFrame(columns);
    }

    /// <summary>Result keys in the order they first appear.</summary>
    public static List<string> ResultNames(IEnumerable<GatheredPoint> points) => points.SelectMany(p => p.Results.Keys).Distinct().ToList();

    private static string? Text(JsonValue? value) => value?.GetValueKind() switch
    {
        null or JsonValueKind.Null => null,
        JsonValueKind.String => value.GetValue<string>(),
        _ => value.ToJsonString(),
    };

    /// <summary>Writes CSV (invariant culture, RFC 4180 quoting, shortest round-trip numbers) atomically.</summary>
    public static void WriteCsv(DataFrame table, string path) => AtomicFile.Write(path, stream => Csv.Write(table, stream));
}

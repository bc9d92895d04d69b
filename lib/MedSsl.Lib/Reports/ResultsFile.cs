using System.Text.Json;
using MedSsl.Data;
using MedSsl.Data.Formats;
using MedSsl.Experiments;
using System.Text.Json.Nodes;

namespace MedSsl.Reports;

/// <summary>A run's <c>&lt;stem&gt;.results.json</c>: headline values at the top level (what nightly runs compare)
/// (a study writes its rows as a CSV beside it). Every write merges into the file and replaces it atomically.</summary>
public static class ResultsFile
{
    /// <summary>Stores each public property (or dictionary entry) of <paramref name="values"/> as a top-level key,
    /// e.g. <c>ResultsFile.SaveValues(new { accuracy = 0.97, seeds = new[] { 0, 1 } })</c>. Returns the path written, or null.</summary>
    public static string? SaveValues(object values, string? path = null) => Update(document =>
    {
        var node = JsonSerializer.SerializeToNode(values) as JsonObject
            ?? throw new ArgumentException("results values must be an object with named values", nameof(values));
        foreach (var (key, value) in node.ToList())
        {
            if (key is "format") throw new ArgumentException($"'{key}' is reserved in a results file", nameof(values));
            node.Remove(key);
            document[key] = value;
        }
    }, path);

    /// <summary>Applies <paramref name="change"/> to the results document at <paramref name="path"/> (or the run's,
    /// <see cref="RunContext.ResultsPath"/> of <see cref="RunContext.Current"/>: none in an interactive session) and writes it through a temporary file and a rename. Returns the path, or null.</summary>
    public static string? Update(Action<JsonObject> change, string? path = null)
    {
        path ??= RunContext.Current.ResultsPath;
        if (string.IsNullOrEmpty(path)) return null;
        path = Path.GetFullPath(path);
        JsonObject document;
        try
        {
            document = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new JsonException("not an object") : new JsonObject();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"results file {path} exists but is not a results JSON object: {e.Message}", e);
        }
        document["format"] = "medssl-results/1";
        change(document);
        AtomicFile.WriteAllText(path, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    /// <summary>The headline values of a study (its one call into results.json, e.g. <c>ResultsFile.Save(study.Headline, study)</c>)
    /// and a CSV of all its rows beside the results file, <c>&lt;stem&gt;.&lt;study name&gt;.csv</c>. Returns the results path, or null
    /// outside <c>medssl run</c> when no path is given.</summary>
    public static string? Save<TRow>(object headline, Study<TRow> study, string? path = null) where TRow : notnull
    {
        var written = SaveValues(headline, path);
        if (written is null) return null;
        var csv = Path.Combine(Path.GetDirectoryName(written)!, Path.GetFileName(written).Replace(".results.json", "") + $".{study.Name}.csv");
        AtomicFile.Write(csv, stream => Csv.Write(study.Table, stream));
        return written;
    }

    /// <summary>A protocol's results (<see cref="ProtocolResult{TSetting, TRun, TRow}.Save"/>): the headline values, the
    /// <c>seeds</c> and whether they were fresh, the <c>claims</c> array (text, source, measure, difference, interval,
    /// n, detectable, verdict, pairs), and the CSV of all rows. Returns the path, or null where the context has no folder.</summary>
    public static string? Save<TRow>(object headline, Study<TRow> study, ClaimTable claims, SeedPlan seeds, RunContext context) where TRow : notnull
    {
        var path = context.ResultsPath;
        if (path is null) return null;
        Update(document =>
        {
            document["seeds"] = JsonSerializer.SerializeToNode(seeds.Seeds);
            document["fresh_seeds"] = seeds.Fresh;
            document["claims"] = new JsonArray([.. claims.Results.Select(ClaimJson)]);
        }, path);
        return Save(headline, study, path);
    }

    /// <summary>A second protocol of the same notebook, after the first one's <see cref="Save{TRow}(object, Study{TRow}, ClaimTable, SeedPlan, RunContext)"/>:
    /// its headline values, its seeds as <c>&lt;prefix&gt;_seeds</c>, its claims appended to the <c>claims</c> array, and
    /// its rows as <c>&lt;stem&gt;.&lt;study name&gt;.csv</c>. Returns the path, or null where the context has no folder.</summary>
    public static string? Append<TRow>(string prefix, object headline, Study<TRow> study, ClaimTable claims, SeedPlan seeds, RunContext context) where TRow : notnull
    {
        var path = context.ResultsPath;
        if (path is null) return null;
        Update(document =>
        {
            document[$"{prefix}_seeds"] = JsonSerializer.SerializeToNode(seeds.Seeds);
            document["claims"] = new JsonArray([.. (document["claims"] as JsonArray ?? []).Select(c => c!.DeepClone()), .. claims.Results.Select(ClaimJson)]);
        }, path);
        return Save(headline, study, path);
    }

    /// <summary>One claim as results.json holds it. A claim of fewer than two pairs has no interval (NaN), written as
    /// JSON's null.</summary>
    private static JsonObject ClaimJson(ClaimResult claim)
    {
        static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
        return new JsonObject
        {
            ["text"] = claim.Text,
            ["source"] = claim.Source,
            ["measure"] = claim.Measure,
            ["direction"] = claim.Direction,
            ["n"] = claim.Count,
            ["difference"] = Number(claim.Difference),
            ["interval"] = new JsonArray(Number(claim.Interval[0]), Number(claim.Interval[1])),
            ["detectable"] = Number(claim.Detectable),
            ["verdict"] = claim.Verdict.ToString(),
            ["paper_difference"] = claim.PaperDifference is { } paper ? Number(paper) : null,
            ["pairs"] = new JsonArray([.. claim.Pairs.Select(p => new JsonObject
            {
                ["seed"] = p.Seed, ["treatment"] = Number(p.Treatment), ["control"] = Number(p.Control), ["difference"] = Number(p.Difference),
            })]),
        };
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MedSsl.Data;

namespace MedSsl.Cli.Notebooks;

/// <summary>A Jupyter notebook (nbformat 4) held as JSON so that metadata we do not know survives a round trip.
/// Loading checks it is a C# (Polyglot Notebooks) notebook; saving writes nbformat 4.5 with cell ids.</summary>
internal sealed partial class NotebookDocument
{
    public string Path { get; }
    public JsonObject Root { get; }
    public List<JsonObject> Cells { get; }

    private NotebookDocument(string path, JsonObject root, List<JsonObject> cells)
    {
        Path = path;
        Root = root;
        Cells = cells;
    }

    public JsonObject Metadata => Root["metadata"] as JsonObject ?? (JsonObject)(Root["metadata"] = new JsonObject());

    /// <summary>Reads and checks a notebook; every problem is a <see cref="BadInputException"/> naming the file.</summary>
    public static NotebookDocument Load(string path)
    {
        if (Directory.Exists(path)) throw new BadInputException(path, "is a folder, expected a .ipynb file");
        if (!File.Exists(path)) throw new BadInputException(path, "no such file");
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new BadInputException(path, $"not a notebook: not valid JSON ({e.Message})");
        }
        if (node is not JsonObject root || root["cells"] is not JsonArray cellArray || root["nbformat"] is not JsonValue format)
            throw new BadInputException(path, "not a notebook: expected a JSON object with \"nbformat\" and \"cells\"");
        if (!format.TryGetValue<int>(out var major) || major != 4)
            throw new BadInputException(path, $"nbformat {format.ToJsonString()} is not supported (only nbformat 4)");
        var cells = new List<JsonObject>();
        foreach (var item in cellArray)
        {
            if (item is not JsonObject cell || (cell["cell_type"] as JsonValue)?.GetValueKind() != JsonValueKind.String
                || cell["cell_type"]!.GetValue<string>() is not ("code" or "markdown" or "raw"))
                throw new BadInputException(path, $"cell {cells.Count + 1} is not a code, markdown or raw cell");
            cells.Add(cell);
        }
        var document = new NotebookDocument(System.IO.Path.GetFullPath(path), root, cells);
        // Every field the runner reads, read once here: a number or object where text belongs is bad input, not a crash later.
        string? language;
        try { language = document.KernelLanguage(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new BadInputException(path, $"notebook metadata: a kernel field has the wrong JSON type ({e.Message})");
        }
        for (var k = 0; k < cells.Count; k++)
        {
            try
            {
                if (cells[k]["metadata"] is { } metadata and not JsonObject) throw new InvalidOperationException("metadata is not an object");
                _ = Source(cells[k]);
                _ = CellKernel(cells[k]);
                _ = Tags(cells[k]).ToList();
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new BadInputException(path, $"cell {k + 1}: a field has the wrong JSON type, e.g. a number where text belongs ({e.Message})");
            }
        }
        if (language is not null && !IsCSharp(language))
            throw new BadInputException(path, $"the notebook's kernel language is '{language}'; medssl run executes C# notebooks only");
        return document;
    }

    /// <summary>Code cells run in C# unless Polyglot metadata names another kernel.</summary>
    public static string CellKernel(JsonObject cell) =>
        cell["metadata"]?["polyglot_notebook"]?["kernelName"]?.GetValue<string>()
        ?? cell["metadata"]?["dotnet_interactive"]?["language"]?.GetValue<string>()
        ?? "csharp";

    public static bool IsCSharp(string language) => language.ToLowerInvariant() is "csharp" or "c#" or ".net-csharp";

    public static string Source(JsonObject cell) => cell["source"] switch
    {
        JsonArray lines => string.Concat(lines.Select(l => l?.GetValue<string>())),
        JsonValue text => text.GetValue<string>(),
        _ => "",
    };

    public static IEnumerable<string> Tags(JsonObject cell) =>
        (cell["metadata"]?["tags"] as JsonArray)?.Select(t => t?.GetValue<string>() ?? "") ?? [];

    /// <summary>A cell's source in nbformat's list-of-lines form.</summary>
    public static JsonArray SourceLines(string source) =>
        new(LineSplit().Split(source).Where(l => l.Length > 0).Select(l => (JsonNode?)l).ToArray());

    /// <summary>Writes nbformat 4.5 (cell ids added where missing) to a temporary file, then renames it over
    /// <paramref name="path"/>, so a reader never sees half a notebook.</summary>
    public void Save(string path)
    {
        var used = new HashSet<string>();
        foreach (var cell in Cells)
        {
            var id = cell["id"]?.GetValue<string>();
            if (id is null || !ValidId().IsMatch(id) || !used.Add(id))
            {
                id = Guid.NewGuid().ToString("N")[..16];
                used.Add(id);
                cell["id"] = id;
            }
        }
        Root["cells"] = new JsonArray(Cells.Select(c => (JsonNode?)c.DeepClone()).ToArray());
        Root["nbformat"] = 4;
        Root["nbformat_minor"] = Math.Max(5, Root["nbformat_minor"]?.GetValue<int>() ?? 5);
        AtomicFile.WriteAllText(path, Root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private string? KernelLanguage() =>
        Metadata["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"]?.GetValue<string>()
        ?? Metadata["kernelspec"]?["language"]?.GetValue<string>()
        ?? Metadata["language_info"]?["name"]?.GetValue<string>() switch
        {
            "polyglot-notebook" or null => null,
            var name => name,
        };

    [GeneratedRegex("(?<=\n)")]
    private static partial Regex LineSplit();

    [GeneratedRegex("^[a-zA-Z0-9-_]{1,64}$")]
    private static partial Regex ValidId();
}

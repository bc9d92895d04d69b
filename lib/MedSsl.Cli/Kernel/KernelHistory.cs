using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MedSsl.Cli.Kernel;

/// <summary>
/// The history_request answers: the cells this kernel process ran with <c>store_history</c>, kept in memory (one
/// session, numbered 1; nothing is kept across kernel restarts). <c>tail</c> (last <c>n</c>, default 10), <c>range</c>
/// (session 0 or 1 — the current one — lines [<c>start</c>, <c>stop</c>)) and <c>search</c> (a glob <c>pattern</c> over the
/// whole cell, <c>*</c> and <c>?</c>, case-sensitive as IPython's; <c>unique</c> keeps the latest of equal cells; the last
/// <c>n</c>) as the messaging protocol defines them. Entries are <c>[session, line, input]</c>, or
/// <c>[session, line, [input, output]]</c> with <c>output</c> (the text/plain of the cell's result, else null). <c>raw</c>
/// makes no difference: cells are stored as typed.
/// </summary>
internal sealed class KernelHistory
{
    public const int Session = 1;
    private readonly List<(int Line, string Input, string? Output)> cells = [];

    public void Add(int line, string input, string? output) => cells.Add((line, input, output));

    public JsonObject Reply(JsonObject request)
    {
        var output = request["output"] is JsonValue o && o.TryGetValue<bool>(out var withOutput) && withOutput;
        int? Number(string name) => request[name] is JsonValue v && v.TryGetValue<int>(out var number) ? number : null;
        IEnumerable<(int Line, string Input, string? Output)> selected = (request["hist_access_type"] as JsonValue)?.GetValue<string>() switch
        {
            "tail" => cells.TakeLast(Math.Max(0, Number("n") ?? 10)),
            "range" => Number("session") is null or 0 or Session
                ? cells.Where(c => c.Line >= (Number("start") ?? 1) && (Number("stop") is not { } stop || c.Line < stop))
                : [],
            "search" => Search((request["pattern"] as JsonValue)?.GetValue<string>() ?? "*",
                request["unique"] is JsonValue u && u.TryGetValue<bool>(out var unique) && unique, Number("n")),
            var other => throw new BadRequestException($"hist_access_type '{other}' is not one of tail, range, search"),
        };
        var history = new JsonArray(selected.Select(c => (JsonNode?)new JsonArray(Session, c.Line,
            output ? new JsonArray(c.Input, c.Output) : JsonValue.Create(c.Input))).ToArray());
        return new JsonObject { ["status"] = "ok", ["history"] = history };
    }

    private IEnumerable<(int Line, string Input, string? Output)> Search(string pattern, bool unique, int? n)
    {
        var glob = new Regex("^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.Singleline);
        var matches = cells.Where(c => glob.IsMatch(c.Input)).ToList();
        if (unique) matches = matches.Where((c, i) => !matches.Skip(i + 1).Any(later => later.Input == c.Input)).ToList();
        return n is { } last ? matches.TakeLast(Math.Max(0, last)) : matches;
    }
}

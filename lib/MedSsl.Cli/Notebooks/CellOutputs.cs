using System.Text;
using System.Text.Json.Nodes;

namespace MedSsl.Cli.Notebooks;

/// <summary>Where a cell's outputs go: <c>medssl run</c> appends them to the notebook (<see cref="NotebookOutputs"/>),
/// the kernel publishes them to the Jupyter client. <paramref name="data"/> arguments are mime bundles from
/// <see cref="OutputFormatter"/>.</summary>
internal interface ICellOutputSink
{
    void Stream(string name, string text);
    void Display(JsonObject data, string displayId);
    /// <summary>Replaces what an earlier <see cref="Display"/> with the same id shows, possibly from an earlier cell.</summary>
    void UpdateDisplay(JsonObject data, string displayId);
    void Result(JsonObject data, int executionCount);
    void Error(string name, string value, IReadOnlyList<string> traceback);
}

/// <summary>Routes console writes and <c>display</c> calls to the sink of the cell now running. Console is
/// process-wide, so writes from a thread a finished cell left behind land with the latest cell, as in Jupyter.</summary>
internal sealed class CellOutputs
{
    private volatile ICellOutputSink? sink;

    public void Begin(ICellOutputSink cellSink) => sink = cellSink;

    /// <summary>The current cell's sink; writes before the first cell are dropped.</summary>
    public ICellOutputSink? Sink => sink;

    /// <summary>A TextWriter for Console.Out / Console.Error that feeds the current sink.</summary>
    public TextWriter Writer(string streamName) => new StreamWriter(this, streamName);

    private sealed class StreamWriter(CellOutputs outputs, string name) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;
        public override void Write(char value) => Send(value.ToString());
        public override void Write(string? value) => Send(value ?? "");
        public override void Write(char[] buffer, int index, int count) => Send(new string(buffer, index, count));
        public override void WriteLine(string? value) => Send((value ?? "") + "\n");

        private void Send(string text)
        {
            if (text.Length > 0) outputs.Sink?.Stream(name, text);
        }
    }
}

/// <summary><c>medssl run</c>'s sink: outputs in nbformat shape, appended to the running cell's "outputs" array;
/// consecutive writes to one stream merge into one output, and an updated display is replaced in place.</summary>
internal sealed class NotebookOutputs : ICellOutputSink
{
    private readonly object gate = new();
    private readonly Dictionary<string, JsonObject> displays = [];
    private JsonArray current = [];

    /// <summary>Starts collecting into <paramref name="outputs"/> (a cell's "outputs" array).</summary>
    public void Begin(JsonArray outputs)
    {
        lock (gate) current = outputs;
    }

    public void Stream(string name, string text)
    {
        lock (gate)
        {
            if (current.Count > 0 && current[^1] is JsonObject last && last["output_type"]?.GetValue<string>() == "stream"
                && last["name"]?.GetValue<string>() == name)
            {
                last["text"] = last["text"]!.GetValue<string>() + text;
                return;
            }
            current.Add(new JsonObject { ["output_type"] = "stream", ["name"] = name, ["text"] = text });
        }
    }

    public void Display(JsonObject data, string displayId)
    {
        var output = new JsonObject { ["output_type"] = "display_data", ["data"] = data, ["metadata"] = new JsonObject() };
        lock (gate)
        {
            displays[displayId] = output;
            current.Add(output);
        }
    }

    public void UpdateDisplay(JsonObject data, string displayId)
    {
        lock (gate)
        {
            if (displays.TryGetValue(displayId, out var output)) output["data"] = data;
        }
    }

    public void Result(JsonObject data, int executionCount) => Add(new JsonObject
    {
        ["output_type"] = "execute_result",
        ["execution_count"] = executionCount,
        ["data"] = data,
        ["metadata"] = new JsonObject(),
    });

    public void Error(string name, string value, IReadOnlyList<string> traceback) => Add(new JsonObject
    {
        ["output_type"] = "error",
        ["ename"] = name,
        ["evalue"] = value,
        ["traceback"] = new JsonArray(traceback.Select(t => (JsonNode?)t).ToArray()),
    });

    private void Add(JsonObject output)
    {
        lock (gate) current.Add(output);
    }
}

using System.Text;
using System.Text.Json.Nodes;

namespace MedSsl.Cli.Notebooks;

/// <summary>The outputs of the cell now running, in nbformat shape. Console writes, <c>display</c> calls and
/// the trailing value all land here in order; consecutive writes to one stream merge into one output.</summary>
internal sealed class CellOutputs
{
    private readonly object gate = new();
    private JsonArray current = [];

    /// <summary>Starts collecting into <paramref name="outputs"/> (a cell's "outputs" array).</summary>
    public void Begin(JsonArray outputs)
    {
        lock (gate) current = outputs;
    }

    public void Stream(string name, string text)
    {
        if (text.Length == 0) return;
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

    public void Add(JsonObject output)
    {
        lock (gate) current.Add(output);
    }

    /// <summary>A TextWriter for Console.Out / Console.Error that feeds <see cref="Stream"/>.</summary>
    public TextWriter Writer(string streamName) => new StreamWriter(this, streamName);

    private sealed class StreamWriter(CellOutputs outputs, string name) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;
        public override void Write(char value) => outputs.Stream(name, value.ToString());
        public override void Write(string? value) => outputs.Stream(name, value ?? "");
        public override void Write(char[] buffer, int index, int count) => outputs.Stream(name, new string(buffer, index, count));
        public override void WriteLine(string? value) => outputs.Stream(name, (value ?? "") + "\n");
    }
}

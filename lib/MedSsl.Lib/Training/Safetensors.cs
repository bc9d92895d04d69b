using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MedSsl.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Training;

/// <summary>The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the raw little-endian bytes.
/// Python's safetensors and PyTorch read it; nothing runs on load.</summary>
public static class Safetensors
{
    private const long MaxHeaderBytes = 100 << 20;

    private static readonly Dictionary<ScalarType, string> Codes = new()
    {
        [ScalarType.Float32] = "F32", [ScalarType.Float64] = "F64", [ScalarType.Float16] = "F16", [ScalarType.BFloat16] = "BF16",
        [ScalarType.Int64] = "I64", [ScalarType.Int32] = "I32", [ScalarType.Int16] = "I16", [ScalarType.Int8] = "I8",
        [ScalarType.Byte] = "U8", [ScalarType.Bool] = "BOOL",
    };

    /// <summary>Writes the tensors (any device; copied to CPU) atomically: a failed save leaves no half-written file.</summary>
    public static void Save(string path, IEnumerable<(string Name, Tensor Value)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = tensors.ToList();
        var duplicate = entries.GroupBy(e => e.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"safetensors: tensor name '{duplicate.Key}' appears twice");
        var header = new JsonObject();
        if (metadata is not null)
            header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        long offset = 0;
        var blobs = new List<byte[]>();
        foreach (var (name, value) in entries)
        {
            var bytes = Bytes(value);
            header[name] = new JsonObject
            {
                ["dtype"] = Codes.TryGetValue(value.dtype, out var code) ? code : throw new ArgumentException($"safetensors: cannot store dtype {value.dtype} ({name})"),
                ["shape"] = new JsonArray(value.shape.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
                ["data_offsets"] = new JsonArray(JsonValue.Create(offset), JsonValue.Create(offset + bytes.Length)),
            };
            offset += bytes.Length;
            blobs.Add(bytes);
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        // The spec allows trailing spaces in the header: pad it to 8 bytes so the data is aligned.
        var padded = (json.Length + 7) / 8 * 8;
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(json);
            for (var k = json.Length; k < padded; k++) stream.WriteByte((byte)' ');
            foreach (var blob in blobs) stream.Write(blob);
        });
    }

    /// <summary>The metadata of a safetensors file (empty when it has none).</summary>
    public static IReadOnlyDictionary<string, string> Metadata(string path) =>
        (ReadHeader(path, out _, out _)["__metadata__"] as JsonObject)?.ToDictionary(kv => kv.Key, kv => (string?)kv.Value ?? "")
        ?? new Dictionary<string, string>();

    /// <summary>Reads every tensor of a safetensors file (on CPU). A malformed file raises <see cref="InvalidDataException"/>
    /// naming the file and the problem.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        var header = ReadHeader(path, out var dataStart, out var dataLength);
        InvalidDataException Bad(string what) => new($"{path}: not a valid safetensors file: {what}");
        var byCode = Codes.ToDictionary(kv => kv.Value, kv => kv.Key);
        var result = new Dictionary<string, Tensor>();
        using var stream = File.OpenRead(path);
        try
        {
            foreach (var (name, node) in header)
            {
                if (name == "__metadata__") continue;
                var entry = node as JsonObject ?? throw Bad($"entry '{name}' is not an object");
                var code = (string?)entry["dtype"] ?? throw Bad($"entry '{name}' has no dtype");
                if (!byCode.TryGetValue(code, out var dtype)) throw Bad($"entry '{name}' has unsupported dtype {code}");
                var shape = (entry["shape"] as JsonArray ?? throw Bad($"entry '{name}' has no shape")).Select(s => (long)s!).ToArray();
                var offsets = (entry["data_offsets"] as JsonArray ?? throw Bad($"entry '{name}' has no data_offsets")).Select(s => (long)s!).ToArray();
                if (shape.Any(s => s < 0)) throw Bad($"entry '{name}' has a negative dimension");
                var count = shape.Aggregate(1L, (a, b) => a * b);
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
                    throw Bad($"entry '{name}' has data_offsets outside the file's {dataLength} data bytes");
                if (offsets[1] - offsets[0] != count * TensorExtensionMethods.ElementSize(dtype))
                    throw Bad($"entry '{name}': {offsets[1] - offsets[0]} bytes for shape [{string.Join(", ", shape)}] of {code}");
                var bytes = new byte[offsets[1] - offsets[0]];
                stream.Seek(dataStart + offsets[0], SeekOrigin.Begin);
                stream.ReadExactly(bytes);
                result[name] = FromBytes(bytes, shape, dtype);
            }
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    private static JsonObject ReadHeader(string path, out long dataStart, out long dataLength)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors file not found: {path}", path);
        using var stream = File.OpenRead(path);
        InvalidDataException Bad(string what) => new($"{path}: not a valid safetensors file: {what}");
        if (stream.Length < 8) throw Bad("shorter than its 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes || (long)headerLength > stream.Length - 8)
            throw Bad($"header length {headerLength} exceeds the file or the 100 MiB limit");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        dataStart = 8 + (long)headerLength;
        dataLength = stream.Length - dataStart;
        try { return JsonNode.Parse(headerBytes) as JsonObject ?? throw Bad("header is not a JSON object"); }
        catch (JsonException e) { throw Bad($"header is not JSON ({e.Message})"); }
    }

    private static byte[] Bytes(Tensor t)
    {
        using var cpu = t.detach().cpu().contiguous();
        return cpu.bytes.ToArray();
    }

    private static Tensor FromBytes(byte[] bytes, long[] shape, ScalarType dtype)
    {
        var tensor = torch.empty(shape, dtype);
        tensor.bytes = bytes;
        return tensor;
    }
}

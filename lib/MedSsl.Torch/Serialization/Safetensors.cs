using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MedSsl.Torch.Serialization;

/// <summary>The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON
/// header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the raw
/// little-endian bytes. Readable by Python's safetensors/PyTorch; no code runs on load.</summary>
public static class Safetensors
{
    private const long MaxHeaderBytes = 100 << 20;

    private static readonly Dictionary<DType, string> Codes = new()
    {
        [DType.Float32] = "F32", [DType.Float64] = "F64", [DType.Float16] = "F16", [DType.BFloat16] = "BF16",
        [DType.Int64] = "I64", [DType.Int32] = "I32", [DType.Int16] = "I16", [DType.Int8] = "I8",
        [DType.UInt8] = "U8", [DType.Bool] = "BOOL",
    };

    /// <summary>Writes the tensors (any device; copied to CPU) to path via a temp file and a rename,
    /// so a failed save never leaves a half-written file behind.</summary>
    public static void Save(string path, IEnumerable<(string name, Tensor value)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = tensors.ToList();
        var duplicate = entries.GroupBy(e => e.name).FirstOrDefault(g => g.Count() > 1);
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
        // The spec allows trailing spaces; pad the header to 8 bytes so the data is aligned.
        var padded = (json.Length + 7) / 8 * 8;
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + $".tmp-{Environment.ProcessId}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
                stream.Write(length);
                stream.Write(json);
                for (var k = json.Length; k < padded; k++) stream.WriteByte((byte)' ');
                foreach (var blob in blobs) stream.Write(blob);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Reads every tensor of a safetensors file (on CPU). Malformed files raise
    /// <see cref="InvalidDataException"/> naming the file and the problem.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors file not found: {path}", path);
        using var stream = File.OpenRead(path);
        var length = stream.Length;
        InvalidDataException Bad(string what) => new($"{path}: not a valid safetensors file: {what}");
        if (length < 8) throw Bad("shorter than its 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes || (long)headerLength > length - 8) throw Bad($"header length {headerLength} exceeds the file or the 100 MiB limit");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        JsonObject header;
        try { header = JsonNode.Parse(headerBytes)?.AsObject() ?? throw Bad("header is not a JSON object"); }
        catch (JsonException e) { throw Bad($"header is not JSON ({e.Message})"); }
        var dataStart = 8 + (long)headerLength;
        var dataLength = length - dataStart;
        var byCode = Codes.ToDictionary(kv => kv.Value, kv => kv.Key);
        var result = new Dictionary<string, Tensor>();
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
                if (offsets[1] - offsets[0] != count * dtype.ElementSize())
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

    private static byte[] Bytes(Tensor t)
    {
        // The shim copies raw element bytes; any dtype reinterpreted as bytes is fine here.
        using var cpu = t.detach().cpu();
        using var flat = cpu.contiguous().reshape(-1);
        using var raw = flat.view(DType.UInt8);
        return raw.ToArray<byte>();
    }

    private static Tensor FromBytes(byte[] bytes, long[] shape, DType dtype)
    {
        using var raw = torch.tensor(bytes);
        return raw.view(dtype).reshape(shape);
    }
}

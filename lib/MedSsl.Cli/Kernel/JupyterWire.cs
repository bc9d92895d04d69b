using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NetMQ;

namespace MedSsl.Cli.Kernel;

/// <summary>The connection file Jupyter writes for a kernel it starts: where to bind and the signing key.</summary>
internal sealed record ConnectionInfo(string Transport, string Ip, int ShellPort, int IopubPort, int StdinPort, int ControlPort,
    int HeartbeatPort, string Key, string SignatureScheme)
{
    public static ConnectionInfo Load(string path)
    {
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException("not a JSON object");
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"connection file {path}: {e.Message}", e);
        }
        int Port(string name) => json[name]?.GetValue<int>() ?? throw new InvalidDataException($"connection file {path}: no {name}");
        var info = new ConnectionInfo(json["transport"]?.GetValue<string>() ?? "tcp", json["ip"]?.GetValue<string>() ?? "127.0.0.1",
            Port("shell_port"), Port("iopub_port"), Port("stdin_port"), Port("control_port"), Port("hb_port"),
            json["key"]?.GetValue<string>() ?? "", json["signature_scheme"]?.GetValue<string>() ?? "hmac-sha256");
        if (info.Transport != "tcp") throw new InvalidDataException($"connection file {path}: transport '{info.Transport}' is not supported (only tcp)");
        if (info.Key.Length > 0 && info.SignatureScheme != "hmac-sha256")
            throw new InvalidDataException($"connection file {path}: signature scheme '{info.SignatureScheme}' is not supported (only hmac-sha256)");
        return info;
    }

    public string Address(int port) => $"tcp://{Ip}:{port}";
}

/// <summary>One Jupyter message as the kernel handles it. <see cref="Identities"/> are the ZeroMQ routing frames a
/// reply must carry back.</summary>
internal sealed record JupyterMessage(IReadOnlyList<byte[]> Identities, JsonObject Header, JsonObject ParentHeader,
    JsonObject Metadata, JsonObject Content)
{
    public string Type => Header["msg_type"] is JsonValue v && v.TryGetValue<string>(out var type) ? type : "";

    /// <summary>The reply type of a <c>X_request</c> (<c>X_reply</c>); null for anything else.</summary>
    public string? ReplyType => Type.EndsWith("_request", StringComparison.Ordinal) && Type.Length > 8 ? Type[..^8] + "_reply" : null;
}

/// <summary>A correctly signed message the kernel cannot serve (a header field of the wrong JSON type, a content
/// field missing or of the wrong type): answered with an error reply when its header allows one.</summary>
internal sealed class BadRequestException(string message) : Exception(message);

/// <summary>
/// The wire format of the Jupyter messaging protocol 5.3: routing identities, <c>&lt;IDS|MSG&gt;</c>, the signature,
/// then header, parent header, metadata and content as JSON. The signature is HMAC-SHA256 of those four frames as
/// sent, in lowercase hex, and empty when the key is empty.
/// </summary>
internal sealed class MessageCodec(string key, string session)
{
    public const string ProtocolVersion = "5.3";
    private static readonly byte[] Delimiter = "<IDS|MSG>"u8.ToArray();
    private readonly byte[] keyBytes = Encoding.UTF8.GetBytes(key);

    /// <summary>The message, or null with the reason when it is malformed or its signature is wrong. A signed message
    /// whose header has a field of the wrong type comes back with <paramref name="problem"/> set, so the kernel can
    /// answer it with an error reply instead of leaving its client waiting.</summary>
    public JupyterMessage? Decode(NetMQMessage frames, out string? problem)
    {
        var all = frames.Select(f => f.ToByteArray()).ToList();
        var delimiter = all.FindIndex(f => f.AsSpan().SequenceEqual(Delimiter));
        if (delimiter < 0 || all.Count < delimiter + 6)
        {
            problem = "malformed message (no <IDS|MSG> delimiter followed by signature, header, parent header, metadata, content)";
            return null;
        }
        var signature = all[delimiter + 1];
        var parts = all.GetRange(delimiter + 2, 4);
        var expected = Encoding.ASCII.GetBytes(Sign(parts));
        if (!CryptographicOperations.FixedTimeEquals(signature, expected))
        {
            problem = "invalid signature";
            return null;
        }
        try
        {
            var objects = parts.Select(p => JsonNode.Parse(p) as JsonObject ?? []).ToArray();
            problem = null;
            var message = new JupyterMessage(all.GetRange(0, delimiter), objects[0], objects[1], objects[2], objects[3]);
            // The fields a reply copies or a handler switches on must be text: a number there killed the kernel.
            foreach (var field in new[] { "msg_id", "msg_type", "session", "username", "version", "date" })
                if (message.Header[field] is { } value && (value is not JsonValue text || text.GetValueKind() != JsonValueKind.String))
                {
                    problem = $"header field '{field}' is {value.GetValueKind()}, not a string";
                    break;
                }
            if (problem is null && message.Type.Length == 0) problem = "header has no msg_type";
            return message;
        }
        catch (JsonException e)
        {
            problem = $"malformed JSON in a message: {e.Message}";
            return null;
        }
    }

    /// <summary>A new message of <paramref name="type"/> answering <paramref name="parent"/> (null: none).</summary>
    public NetMQMessage Encode(JupyterMessage? parent, string type, JsonObject content, IReadOnlyList<byte[]>? identities = null)
    {
        var header = new JsonObject
        {
            ["msg_id"] = Guid.NewGuid().ToString(),
            ["session"] = session,
            ["username"] = parent?.Header["username"] is JsonValue user && user.TryGetValue<string>(out var name) ? name : "medssl",
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'"),
            ["msg_type"] = type,
            ["version"] = ProtocolVersion,
        };
        var parts = new[] { header, (JsonObject?)parent?.Header.DeepClone() ?? new JsonObject(), new JsonObject(), content }
            .Select(o => Encoding.UTF8.GetBytes(o.ToJsonString())).ToList();
        var message = new NetMQMessage();
        foreach (var identity in identities ?? parent?.Identities ?? []) message.Append(identity);
        message.Append(Delimiter);
        message.Append(Encoding.ASCII.GetBytes(Sign(parts)));
        foreach (var part in parts) message.Append(part);
        return message;
    }

    private string Sign(IReadOnlyList<byte[]> parts)
    {
        if (keyBytes.Length == 0) return "";
        using var hmac = new HMACSHA256(keyBytes);
        foreach (var part in parts) hmac.TransformBlock(part, 0, part.Length, null, 0);
        hmac.TransformFinalBlock([], 0, 0);
        return Convert.ToHexStringLower(hmac.Hash!);
    }
}

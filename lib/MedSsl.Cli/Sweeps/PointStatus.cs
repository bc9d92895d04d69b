using System.Text.Json;
using System.Text.Json.Serialization;
using MedSsl.Data;

namespace MedSsl.Cli.Sweeps;

/// <summary>DIR/&lt;point&gt;/status.json: how the point's run ended. It is written last inside the point's temporary
/// folder, so a point folder without it cannot occur; a point without a folder did not finish.</summary>
internal sealed record PointStatus(
    [property: JsonPropertyName("point")] string Point,
    [property: JsonPropertyName("parameters")] Dictionary<string, string> Parameters,
    [property: JsonPropertyName("notebook")] string Notebook,
    [property: JsonPropertyName("profile")] string? Profile,
    [property: JsonPropertyName("fixed_parameters")] Dictionary<string, string> FixedParameters,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("exit_code")] int ExitCode,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("slurm_job")] string? SlurmJob,
    [property: JsonPropertyName("finished_utc")] DateTime FinishedUtc)
{
    public const string FileName = "status.json";
    public const string Ok = "ok";
    public const string Failed = "failed";

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public void Write(string folder)
    {
        var path = Path.Combine(folder, FileName);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Options));
    }

    /// <summary>Null when the point has no finished folder; <see cref="InvalidDataException"/> when its status is unreadable.</summary>
    public static PointStatus? Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<PointStatus>(File.ReadAllText(path)) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a point status file: {e.Message}", e);
        }
    }
}

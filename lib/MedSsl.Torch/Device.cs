namespace MedSsl.Torch;

/// <summary>Device kinds; the values are c10::DeviceType's.</summary>
public enum DeviceType { CPU = 0, CUDA = 1 }

/// <summary>Where a tensor lives: "cpu", "cuda", "cuda:1".</summary>
public readonly record struct Device(DeviceType Type, int Index = -1)
{
    public static readonly Device CPU = new(DeviceType.CPU);
    public static readonly Device CUDA = new(DeviceType.CUDA);

    public static Device Parse(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split(':');
        var type = parts[0] switch
        {
            "cpu" => DeviceType.CPU,
            "cuda" => DeviceType.CUDA,
            _ => throw new ArgumentException($"unknown device '{text}' (expected cpu, cuda or cuda:N)"),
        };
        if (parts.Length == 1) return new Device(type);
        if (parts.Length == 2 && int.TryParse(parts[1], out var index) && index >= 0) return new Device(type, index);
        throw new ArgumentException($"bad device '{text}' (expected cpu, cuda or cuda:N)");
    }

    public static implicit operator Device(string text) => Parse(text);

    public override string ToString() => (Type == DeviceType.CPU ? "cpu" : "cuda") + (Index >= 0 ? $":{Index}" : "");
}

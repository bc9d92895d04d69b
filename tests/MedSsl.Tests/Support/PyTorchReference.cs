using System.Diagnostics;
using System.Text.Json;

namespace MedSsl.Tests.Support;

/// <summary>Runs a PyTorch script with Debian's /usr/bin/python3 (PyTorch 1.13, the reference)
/// and returns the JSON it prints. The script gets `load(path)` to read our safetensors files.</summary>
internal static class PyTorchReference
{
    private const string Prelude = """
        import json, struct, sys
        import numpy as np
        import torch
        torch.set_default_dtype(torch.float64)
        _codes = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8, "BOOL": np.bool_}
        def load(path):
            data = open(path, "rb").read()
            n = struct.unpack("<Q", data[:8])[0]
            header = json.loads(data[8:8 + n])
            out = {}
            for name, e in header.items():
                if name == "__metadata__": continue
                b, end = e["data_offsets"]
                arr = np.frombuffer(data[8 + n + b: 8 + n + end], dtype=_codes[e["dtype"]]).reshape(e["shape"])
                out[name] = torch.from_numpy(arr.copy())
            return out
        def emit(obj):
            print(json.dumps(obj))

        """;

    public static JsonElement Run(string script)
    {
        var file = Path.Combine(Path.GetTempPath(), $"medssl-ref-{Guid.NewGuid():N}.py");
        File.WriteAllText(file, Prelude + script);
        try
        {
            var psi = new ProcessStartInfo("/usr/bin/python3", file) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEnd();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"reference script failed: {stderr}");
            return JsonDocument.Parse(stdout).RootElement.Clone();
        }
        finally { File.Delete(file); }
    }

    public static double[] Doubles(this JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();
}

using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace MedSsl.Tests.Data;

/// <summary>Runs a script with Debian's /usr/bin/python3 (numpy, pydicom, nibabel, PIL from Debian packages; no
/// torch, so it starts in a fraction of a second) in a scratch folder passed as argv[1], and returns the JSON it
/// prints. Arrays travel as raw float64 files in that folder (<see cref="Doubles"/>), so large images cost no JSON.</summary>
internal sealed class PythonReference : IDisposable
{
    public string Folder { get; } = Fixture.TempDir();
    public JsonElement Output { get; }

    public PythonReference(string script)
    {
        var file = Path.Combine(Folder, "reference.py");
        File.WriteAllText(file, "import json, os, sys, warnings\nimport numpy as np\nwarnings.simplefilter('ignore')\nOUT = sys.argv[1]\n" +
            "def save(name, array):\n    np.asarray(array, dtype=np.float64).ravel().tofile(os.path.join(OUT, name))\n\n" + script);
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(file);
        psi.ArgumentList.Add(Folder);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"reference script failed: {stderr}");
        Output = JsonDocument.Parse(stdout.Result).RootElement.Clone();
    }

    /// <summary>The float64 array the script saved under <paramref name="name"/>.</summary>
    public double[] Doubles(string name) => MemoryMarshal.Cast<byte, double>(File.ReadAllBytes(Path.Combine(Folder, name))).ToArray();

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}

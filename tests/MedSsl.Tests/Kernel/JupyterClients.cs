using System.Diagnostics;
using System.Text.Json.Nodes;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Kernel;

/// <summary>
/// The kernelspec installed into a temporary <c>--prefix</c> and Debian's jupyter_client / nbclient run against it.
/// JUPYTER_PATH and the other JUPYTER_* folders point into the temporary folder, so the user's own Jupyter set-up is
/// neither read nor written.
/// </summary>
public sealed class JupyterClients : IDisposable
{
    /// <summary>Debian's interpreter: the pyenv python3 on PATH lacks jupyter_client and zmq.</summary>
    public const string Python = "/usr/bin/python3";

    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    public string Root { get; } = Medssl.TemporaryFolder();
    public string Prefix => Path.Combine(Root, "prefix");
    public static string Scripts { get; } = Path.Combine(Medssl.RepoRoot, "tests", "MedSsl.Tests", "Kernel");
    public static string Fixture(string name) => Path.Combine(Scripts, "Fixtures", name);
    public static string LibraryDll { get; } = Path.Combine(Medssl.RepoRoot, "artifacts", "lib", "MedSsl.Lib.dll");

    public JupyterClients()
    {
        var install = Medssl.Run("kernel", "install", "--prefix", Prefix);
        if (install.ExitCode != 0) throw new InvalidOperationException($"medssl kernel install failed:\n{install.Stdout}{install.Stderr}");
    }

    public sealed record Result(JsonObject Json, string Stderr);

    /// <summary>Runs one of the helper scripts beside these tests; its stdout is one JSON object.</summary>
    public Result RunScript(string script, params string[] arguments)
    {
        var (exitCode, output, stderr) = RunPython([Path.Combine(Scripts, script), .. arguments], Root);
        Assert.True(exitCode == 0, $"{script} {string.Join(' ', arguments)} exited {exitCode}:\n{output}\n{stderr}");
        return new Result((JsonObject)JsonNode.Parse(output)!, stderr);
    }

    /// <summary>Debian's python3 with <paramref name="arguments"/> in <paramref name="folder"/>, the JUPYTER_* folders
    /// pointing into <see cref="Root"/>; (exit code, stdout, stderr).</summary>
    public (int ExitCode, string Stdout, string Stderr) RunPython(IEnumerable<string> arguments, string folder)
    {
        var info = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = folder,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment["JUPYTER_PATH"] = Path.Combine(Prefix, "share", "jupyter");
        info.Environment["JUPYTER_DATA_DIR"] = Path.Combine(Root, "data");
        info.Environment["JUPYTER_CONFIG_DIR"] = Path.Combine(Root, "config");
        info.Environment["JUPYTER_RUNTIME_DIR"] = Path.Combine(Root, "runtime");
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"python3 {string.Join(' ', arguments)} did not finish in {Limit.TotalMinutes} minutes; stderr:\n{stderr.Result}");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { } // a kernel still closing its files; the folder is in the temp dir anyway
    }
}

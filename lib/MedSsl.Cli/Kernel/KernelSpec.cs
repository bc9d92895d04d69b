using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using MedSsl.Data;

namespace MedSsl.Cli.Kernel;

/// <summary>The kernelspec <c>medssl-csharp</c> ("C# (MedSsl)") that makes Jupyter front ends and nbclient start
/// this kernel: a folder <c>kernels/medssl-csharp</c> holding <c>kernel.json</c> under a Jupyter data directory.</summary>
internal static class KernelSpec
{
    public const string Name = "medssl-csharp";
    public const string DisplayName = "C# (MedSsl)";
    public const string Language = "C#";

    /// <summary>The kernelspec folder for <c>--prefix DIR</c> (DIR/share/jupyter) or else the user's data directory.</summary>
    public static string Folder(string? prefix) =>
        Path.Combine(prefix is null ? UserDataDirectory() : Path.Combine(Path.GetFullPath(prefix), "share", "jupyter"), "kernels", Name);

    /// <summary>Writes kernel.json (temp file + rename); returns the folder.</summary>
    public static string Install(string? prefix)
    {
        var folder = Folder(prefix);
        Directory.CreateDirectory(folder);
        var spec = new JsonObject
        {
            // VS Code hides kernelspecs whose argv[0] it cannot find on its own PATH, so dotnet is named absolutely.
            ["argv"] = new JsonArray(DotnetPath(), Path.Combine(AppContext.BaseDirectory, "medssl.dll"),
                "kernel", "start", "--connection-file", "{connection_file}"),
            ["display_name"] = DisplayName,
            ["language"] = Language,
            ["interrupt_mode"] = "message",
            ["metadata"] = new JsonObject { ["debugger"] = false },
            // libtorch's OpenMP reads its wait policy once, at load: the kernel process needs it in its environment.
            ["env"] = new JsonObject { ["OMP_WAIT_POLICY"] = Notebooks.SelfProcess.DefaultOmpWaitPolicy },
        };
        var path = Path.Combine(folder, "kernel.json");
        AtomicFile.WriteAllText(path, spec.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return folder;
    }

    /// <summary>Removes the kernelspec folder; false when there was none.</summary>
    public static bool Uninstall(string? prefix)
    {
        var folder = Folder(prefix);
        if (!Directory.Exists(folder)) return false;
        Directory.Delete(folder, recursive: true);
        return true;
    }

    /// <summary>jupyter_core's user data directory: JUPYTER_DATA_DIR, else the platform's default.</summary>
    private static string UserDataDirectory()
    {
        if (Environment.GetEnvironmentVariable("JUPYTER_DATA_DIR") is { Length: > 0 } explicitFolder) return Path.GetFullPath(explicitFolder);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (OperatingSystem.IsWindows()) return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "jupyter");
        if (OperatingSystem.IsMacOS()) return Path.Combine(home, "Library", "Jupyter");
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        return Path.Combine(xdg is { Length: > 0 } ? xdg : Path.Combine(home, ".local", "share"), "jupyter");
    }

    /// <summary>The dotnet running this command, else the one on PATH.</summary>
    private static string DotnetPath()
    {
        var executable = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (Environment.ProcessPath is { } running && Path.GetFileName(running) == executable) return running;
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, executable)).FirstOrDefault(File.Exists);
        return onPath ?? throw new FileNotFoundException($"no {executable} on PATH: the kernelspec needs the absolute path of dotnet");
    }
}

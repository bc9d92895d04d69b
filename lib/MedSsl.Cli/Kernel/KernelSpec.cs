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
            ["env"] = ProcessEnvironment(),
        };
        var path = Path.Combine(folder, "kernel.json");
        AtomicFile.WriteAllText(path, spec.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return folder;
    }

    /// <summary>The kernel process's environment additions. libtorch's OpenMP reads these only when the process starts,
    /// so they belong here, not in a cell: OMP_WAIT_POLICY=PASSIVE (idle threads sleep instead of spinning, which on a
    /// busy 2-core machine made a training step ~4x slower) and, when the installing shell sets it, OMP_NUM_THREADS.
    /// Either is taken from the installing shell when set there (<c>OMP_NUM_THREADS=1 medssl kernel install</c>);
    /// a notebook sets its own count with <c>torch.set_num_threads</c>.</summary>
    public static JsonObject ProcessEnvironment()
    {
        var env = new JsonObject { ["OMP_WAIT_POLICY"] = Variable("OMP_WAIT_POLICY") ?? "PASSIVE" };
        if (Variable("OMP_NUM_THREADS") is { } threads) env["OMP_NUM_THREADS"] = threads;
        return env;

        static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
    }

    /// <summary>The kernel_info reply's language_info, and what every notebook's metadata holds, so a front end that
    /// compares them (classic Notebook does, deeply) does not mark an opened notebook modified. The version is the C#
    /// language version the cells compile as (Roslyn's default for scripts), not the runtime's patch version, so
    /// notebooks stay equal across .NET updates.</summary>
    public static JsonObject LanguageInfo() => new()
    {
        ["name"] = Language,
        ["version"] = Microsoft.CodeAnalysis.CSharp.LanguageVersionFacts.ToDisplayString(Microsoft.CodeAnalysis.CSharp.CSharpParseOptions.Default.LanguageVersion),
        ["mimetype"] = "text/x-csharp",
        ["file_extension"] = ".cs",
        ["pygments_lexer"] = "csharp",
        ["codemirror_mode"] = "text/x-csharp",
    };

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

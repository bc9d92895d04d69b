using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace MedSsl.Cli.Notebooks;

/// <summary>A <c>#r "nuget: …"</c> that could not be restored (no NuGet source reachable, no such package or version).</summary>
internal sealed class NugetRestoreException(string message) : Exception(message);

/// <summary>
/// <c>#r "nuget: Name, Version"</c>: <c>dotnet restore</c> of a generated project that references the packages, in a
/// temporary folder, with the NuGet.config nearest the notebook's folder (else the user's NuGet configuration); the
/// runtime assemblies of the packages and their dependencies, read from the restore's <c>project.assets.json</c>,
/// become references of the session.
/// </summary>
internal static class NugetRestore
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);

    /// <summary>The runtime DLLs of <paramref name="packages"/> and their dependencies, in the global packages folder.</summary>
    public static List<string> Restore(IReadOnlyList<NugetPackage> packages, string baseFolder, CancellationToken cancellation)
    {
        var folder = Path.Combine(Path.GetTempPath(), "medssl-nuget-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var framework = $"net{Environment.Version.Major}.{Environment.Version.Minor}";
            var project = new XElement("Project", new XAttribute("Sdk", "Microsoft.NET.Sdk"),
                new XElement("PropertyGroup", new XElement("TargetFramework", framework),
                    new XElement("ManagePackageVersionsCentrally", "false"), new XElement("ImportDirectoryPackagesProps", "false")),
                new XElement("ItemGroup", packages.Select(p => new XElement("PackageReference",
                    new XAttribute("Include", p.Name), new XAttribute("Version", p.Version ?? "*")))));
            var projectPath = Path.Combine(folder, "nuget-references.csproj");
            project.Save(projectPath);
            var arguments = new List<string> { "restore", projectPath, "-nologo", "-v", "q" };
            if (NearestConfig(baseFolder) is { } config) arguments.AddRange(["--configfile", config]);
            var (exitCode, output) = RunDotnet(arguments, folder, cancellation);
            var what = string.Join(", ", packages.Select(p => p.Version is null ? p.Name : $"{p.Name} {p.Version}"));
            if (exitCode != 0)
            {
                var errors = output.Split('\n').Select(l => l.Trim()).Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase))
                    .Select(l => l.Replace(projectPath, "").Trim(' ', ':')).Distinct().Take(5).ToList();
                throw new NugetRestoreException($"could not restore {what} (dotnet restore exited {exitCode}; NuGet sources: " +
                    $"{NearestConfig(baseFolder) ?? "the user's NuGet configuration"}): " + (errors.Count > 0 ? string.Join(" | ", errors) : output.Trim()));
            }
            return RuntimeAssemblies(Path.Combine(folder, "obj", "project.assets.json"));
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); }
            catch (IOException) { } // in the temp folder anyway
        }
    }

    /// <summary>NuGet.config (any capitalisation) in <paramref name="folder"/> or the nearest folder above it.</summary>
    private static string? NearestConfig(string folder)
    {
        for (var directory = new DirectoryInfo(Path.GetFullPath(folder)); directory is not null; directory = directory.Parent)
        {
            if (!directory.Exists) continue;
            var config = directory.EnumerateFiles().FirstOrDefault(f => f.Name.Equals("nuget.config", StringComparison.OrdinalIgnoreCase));
            if (config is not null) return config.FullName;
        }
        return null;
    }

    /// <summary>Every package's runtime assets for the project's one target (placeholders <c>_._</c> skipped).</summary>
    internal static List<string> RuntimeAssemblies(string assetsPath)
    {
        var assets = JsonNode.Parse(File.ReadAllText(assetsPath))!.AsObject();
        var packageFolder = assets["packageFolders"]!.AsObject().First().Key;
        var libraries = assets["libraries"]!.AsObject();
        var target = assets["targets"]!.AsObject().First().Value!.AsObject();
        var dlls = new List<string>();
        foreach (var (key, entry) in target)
        {
            if (entry?["type"]?.GetValue<string>() != "package" || entry["runtime"] is not JsonObject runtime) continue;
            var libraryPath = libraries[key]!["path"]!.GetValue<string>();
            dlls.AddRange(runtime.Select(r => r.Key).Where(r => r.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
                .Select(r => Path.GetFullPath(Path.Combine(packageFolder, libraryPath, r))));
        }
        return dlls;
    }

    private static (int ExitCode, string Output) RunDotnet(List<string> arguments, string folder, CancellationToken cancellation)
    {
        var dotnet = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        var info = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = folder,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info) ?? throw new NugetRestoreException("could not start dotnet restore");
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using (cancellation.Register(() => { try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }))
        {
            if (!process.WaitForExit(Limit))
            {
                process.Kill(entireProcessTree: true);
                throw new NugetRestoreException($"dotnet restore did not finish in {Limit.TotalMinutes} minutes");
            }
        }
        cancellation.ThrowIfCancellationRequested();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

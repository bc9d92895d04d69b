using System.Diagnostics;

namespace MedSsl.Tests.Runner;

/// <summary>Runs the built CLI (medssl.dll sits in the test output folder) the way a user or CI does.</summary>
internal static class Medssl
{
    public static string RepoRoot { get; } = FindRepoRoot();
    public static string Fixtures { get; } = Path.Combine(RepoRoot, "tests", "MedSsl.Tests", "Runner", "Fixtures");
    public static string Fixture(string name) => Path.Combine(Fixtures, name);

    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

    public static Result Run(params string[] arguments) => RunWith(new Dictionary<string, string>(), arguments);

    /// <summary>As <see cref="Run"/>, with extra environment variables for the CLI and the processes it starts.</summary>
    public static Result RunWith(IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        RunWithin(TimeSpan.FromMinutes(3), environment, arguments);

    /// <summary>As <see cref="RunWith"/>, for commands that legitimately take longer (the workshop notebooks).</summary>
    public static Result RunWithin(TimeSpan limit, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var info = StartInfo(environment, arguments);
        var watch = Stopwatch.StartNew();
        var (code, stdout, stderr) = Start(info, limit, $"medssl {string.Join(' ', arguments)}");
        return new Result(code, stdout, stderr, watch.Elapsed);
    }

    /// <summary>The CLI's start info, for a test that starts (and maybe kills) it itself.</summary>
    public static ProcessStartInfo StartInfo(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "medssl.dll"));
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment["CI"] = "true";
        foreach (var (name, value) in environment) info.Environment[name] = value;
        return info;
    }

    /// <summary>Runs a program to completion and returns (exit code, stdout + stderr).</summary>
    public static (int ExitCode, string Output) Exec(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        var (code, stdout, stderr) = Start(info, TimeSpan.FromMinutes(2), program);
        return (code, stdout + stderr);
    }

    private static (int ExitCode, string Stdout, string Stderr) Start(ProcessStartInfo info, TimeSpan limit, string what)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{what} did not finish in {limit.TotalMinutes} minutes");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Debian's nbformat (not pyenv's python3) validates against the nbformat JSON schema.</summary>
    public static void AssertValidNotebook(string path)
    {
        var (code, output) = Exec("/usr/bin/python3", "-c",
            "import sys, nbformat; nb = nbformat.read(sys.argv[1], as_version=4); nbformat.validate(nb); print(nb.nbformat, nb.nbformat_minor)", path);
        Assert.True(code == 0, $"nbformat rejects {path}:\n{output}");
        Assert.Equal("4 5", output.Trim());
    }

    public static string TemporaryFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "medssl-runner-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindRepoRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "MedSsl.Lib.sln"))) return folder.FullName;
        throw new DirectoryNotFoundException("no MedSsl.Lib.sln above " + AppContext.BaseDirectory);
    }
}

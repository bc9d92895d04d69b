using System.Diagnostics;

namespace MedSsl.Cli.Notebooks;

/// <summary>Starts this program again with other arguments, whether it runs as the apphost (<c>medssl</c>) or
/// under the dotnet host (<c>dotnet medssl.dll</c>, as ./medssl does), with OMP_WAIT_POLICY=PASSIVE unless the
/// caller's environment sets it.</summary>
internal static class SelfProcess
{
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo
        {
            FileName = Environment.ProcessPath!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // libtorch's OpenMP threads spin while idle unless told otherwise, and read this only when a process starts.
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"))) info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        if (Path.GetFileNameWithoutExtension(info.FileName) == "dotnet") info.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return info;
    }
}

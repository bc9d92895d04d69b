using System.Diagnostics;

namespace MedSsl.Cli.Notebooks;

/// <summary>Starts this program again with other arguments, whether it runs as the apphost (<c>medssl</c>) or
/// under the dotnet host (<c>dotnet medssl.dll</c>, as ./medssl does).</summary>
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
        if (Path.GetFileNameWithoutExtension(info.FileName) == "dotnet") info.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return info;
    }
}

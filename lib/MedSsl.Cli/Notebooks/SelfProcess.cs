using System.Diagnostics;

namespace MedSsl.Cli.Notebooks;

/// <summary>Starts this program again with other arguments, whether it runs as the apphost (<c>medssl</c>) or
/// under the dotnet host (<c>dotnet medssl.dll</c>, as ./medssl does). Children get <c>OMP_WAIT_POLICY=PASSIVE</c>
/// unless the caller set a policy: libtorch's OpenMP reads it once, when it loads, and its default (spin before
/// sleeping) made a method step ~4× slower on a busy 2-core machine (docs/benchmarks.md).</summary>
internal static class SelfProcess
{
    /// <summary>The OpenMP wait policy children run with when the environment names none.</summary>
    public const string DefaultOmpWaitPolicy = "PASSIVE";

    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo
        {
            FileName = Environment.ProcessPath!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"))) info.Environment["OMP_WAIT_POLICY"] = DefaultOmpWaitPolicy;
        if (Path.GetFileNameWithoutExtension(info.FileName) == "dotnet") info.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return info;
    }
}

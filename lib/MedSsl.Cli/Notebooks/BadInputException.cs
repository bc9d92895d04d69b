namespace MedSsl.Cli.Notebooks;

/// <summary>An input <c>medssl run</c> cannot run at all (missing, not JSON, not a notebook, not C#, unknown parameter):
/// exit code 2, nothing written for it.</summary>
internal sealed class BadInputException(string path, string problem) : Exception($"{path}: {problem}")
{
    public string Path { get; } = path;
}

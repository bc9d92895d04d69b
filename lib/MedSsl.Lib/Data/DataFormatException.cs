namespace MedSsl.Data;

/// <summary>A data file or folder that cannot be read as a dataset: says which file and what is wrong.
/// Loaders throw it before returning anything, so a caller never sees a partial dataset.</summary>
public sealed class DataFormatException : Exception
{
    /// <summary>The file (or folder) at fault.</summary>
    public string Path { get; }

    /// <summary>What is wrong with it, without the path.</summary>
    public string Problem { get; }

    public DataFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        Path = path;
        Problem = problem;
    }
}

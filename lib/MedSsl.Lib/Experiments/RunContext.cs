namespace MedSsl.Experiments;

/// <summary>Where a run's results and artefacts go, handed in by the host that runs the notebook or protocol:
/// <c>medssl run</c> and each <c>medssl sweep</c> point set the output folder and the notebook's stem, the kernel leaves
/// the folder unset (an interactive session writes nothing unless asked), and a test builds its own. Nothing reaches
/// the library through an environment variable, and no notebook finds a file another one left: what one notebook
/// needs from another is a parameter.</summary>
public sealed record RunContext(string? OutputFolder, string Stem)
{
    /// <summary>An interactive session: no output folder.</summary>
    public static RunContext Interactive { get; } = new(null, "notebook");

    /// <summary>The context of the code running now; the host sets it before the first cell.</summary>
    public static RunContext Current { get; set; } = Interactive;

    /// <summary><c>&lt;folder&gt;/&lt;stem&gt;.results.json</c>, or null without an output folder.</summary>
    public string? ResultsPath => ArtefactPath("results.json");

    /// <summary><c>&lt;folder&gt;/&lt;stem&gt;.&lt;name&gt;</c> (e.g. <c>runs.csv</c>, <c>backbone.safetensors</c>), or null
    /// without an output folder. The folder is created on demand.</summary>
    public string? ArtefactPath(string name)
    {
        if (OutputFolder is null) return null;
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(['/', '\\']) >= 0)
            throw new ArgumentException($"an artefact name is a file name without folders, not '{name}'", nameof(name));
        Directory.CreateDirectory(OutputFolder);
        return Path.Combine(Path.GetFullPath(OutputFolder), $"{Stem}.{name}");
    }
}

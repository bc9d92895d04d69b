namespace MedSsl.Cli.Sweeps;

/// <summary>What every point of a sweep shares: the notebook, the sweep folder, the profile, the parameters fixed for
/// all points (<c>--param</c>) and the per-cell timeout.</summary>
internal sealed record SweepSettings(
    string Notebook,
    string OutputFolder,
    string? Profile,
    IReadOnlyList<(string Name, string Value)> FixedParameters,
    TimeSpan CellTimeout)
{
    public string NotebookStem => Path.GetFileNameWithoutExtension(Notebook);
    public string PointsFile => Path.Combine(OutputFolder, "points.tsv");
    public string PointFolder(SweepPoint point) => Path.Combine(OutputFolder, point.Folder);
}

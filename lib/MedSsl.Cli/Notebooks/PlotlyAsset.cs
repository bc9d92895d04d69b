namespace MedSsl.Cli.Notebooks;

/// <summary>Finds plotly.min.js for offline reports: beside this program (the build copies it there from the npm
/// install in lib/MedSsl.Lib/Reports/plotly), else in that npm folder above this program (a checkout).</summary>
internal static class PlotlyAsset
{
    public const string FileName = "plotly.min.js";
    private static readonly string NpmRelative = Path.Combine("lib", "MedSsl.Lib", "Reports", "plotly", "node_modules", "plotly.js-dist-min", FileName);

    public static string? Find()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, FileName);
        if (File.Exists(beside)) return beside;
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, NpmRelative);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}

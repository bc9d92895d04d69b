namespace MedSsl.Cli.Notebooks;

/// <summary>A script inlined once into an offline report, from the npm install in lib/MedSsl.Lib/Reports/plotly
/// (pinned by its package-lock, done by lib/scripts/setup.sh). Found beside this program (the build copies it there),
/// else in that npm folder above this program (a checkout).</summary>
internal sealed record ReportScript(string FileName, string NpmPath)
{
    /// <summary>Draws the Plotly figures.</summary>
    public static readonly ReportScript Plotly = new("plotly.min.js", "plotly.js-dist-min/plotly.min.js");

    /// <summary>Typesets the markdown's TeX as SVG. MathJax 3's tex-svg bundle carries its font data, so it needs no
    /// network (MathJax 4 fetches fonts on demand).</summary>
    public static readonly ReportScript MathJax = new("tex-svg.js", "mathjax/es5/tex-svg.js");

    public string? Find()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, FileName);
        if (File.Exists(beside)) return beside;
        var npmRelative = Path.Combine("lib", "MedSsl.Lib", "Reports", "plotly", "node_modules", NpmPath);
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, npmRelative);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}

namespace MedSsl.Tests.Runner;

/// <summary>A real browser draws the report offline: headless Debian chromium with networking features off.</summary>
public sealed class BrowserTests
{
    [Fact]
    public void Chromium_draws_the_reports_plotly_figure_and_equation_offline()
    {
        var output = Medssl.TemporaryFolder();
        var run = Medssl.Run("run", Medssl.Fixture("success.ipynb"), "--out", output);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var profile = Medssl.TemporaryFolder();

        var (code, dom) = Medssl.Exec("/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            $"--user-data-dir={profile}", "--window-size=1400,1000", "--virtual-time-budget=5000", "--dump-dom", "file://" + Path.Combine(output, "success.html"));

        Assert.True(code == 0, dom);
        // Braces after a TeX command reach MathJax (Markdig's generic attributes used to take "{…}" as attributes).
        Assert.Contains(@"\mathcal{L}_{SD}", File.ReadAllText(Path.Combine(output, "success.html")));
        Assert.Contains("class=\"main-svg\"", dom);
        // The chart fills the report's column (1100 px at most), not Plotly.NET's fixed 600 px.
        var width = double.Parse(System.Text.RegularExpressions.Regex.Match(dom, "<svg class=\"main-svg\"[^>]*? width=\"([0-9.]+)\"").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(width > 900, $"the chart is {width} px wide");
        Assert.Contains("<b id=\"bold\">bold</b>", dom);
        Assert.Equal(2, dom.Split("<mjx-container").Length - 1);   // MathJax typeset both of the markdown's equations as SVG
    }
}

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
            $"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", "file://" + Path.Combine(output, "success.html"));

        Assert.True(code == 0, dom);
        Assert.Contains("class=\"main-svg\"", dom);
        Assert.Contains("<b id=\"bold\">bold</b>", dom);
        Assert.Contains("<mjx-container", dom);   // MathJax typeset the markdown's $e^{i\pi} + 1 = 0$ as SVG
    }
}

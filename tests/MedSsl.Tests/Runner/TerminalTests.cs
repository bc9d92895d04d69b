namespace MedSsl.Tests.Runner;

/// <summary>The command line in a real terminal.</summary>
public sealed class TerminalTests
{
    /// <summary>A terminal takes the progress display's third path, a Spectre bar redrawn in place; script(1) gives the
    /// command a pseudo-terminal, and CI's variable is removed so the display does not fall back to plain lines.</summary>
    [Fact]
    public void The_progress_bar_draws_in_a_terminal()
    {
        var medssl = $"dotnet {Path.Combine(AppContext.BaseDirectory, "medssl.dll")} bench tsne --n 200 --dim 5";
        var (code, output) = Medssl.Exec("/usr/bin/env", "-u", "CI", "script", "-qec", medssl, "/dev/null");
        Assert.True(code == 0, output);
        Assert.Contains("█", output);
        Assert.Contains("\u001b[K", output);
        Assert.Contains("barnes_hut t-SNE", output);
    }
}

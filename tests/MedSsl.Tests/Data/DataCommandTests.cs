using System.Diagnostics;
using System.Text.Json;

namespace MedSsl.Tests.Data;

/// <summary>Runs the real <c>medssl</c> program (built beside the tests) to check output and exit codes.</summary>
public class DataCommandTests
{
    private static (int Code, string Out, string Err) Medssl(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "medssl.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    [Fact]
    public void SynthThenInspectReportsTheDataset()
    {
        var dir = Path.Combine(Fixture.TempDir(), "us");
        Assert.Equal(0, Medssl("data", "synth", "ultrasound", "--out", dir, "--seed", "3", "--n", "40").Code);
        var (code, output, _) = Medssl("data", "inspect", dir, "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("png-folder", json.RootElement.GetProperty("format").GetString());
        Assert.Equal(40, json.RootElement.GetProperty("count").GetInt32());
        Assert.Equal("1x64x64", json.RootElement.GetProperty("shapes")[0].GetString());
        Assert.True(json.RootElement.GetProperty("label_counts").GetProperty("liver").GetInt32() > 0);
    }

    [Fact]
    public void BadDataExitsTwoWithTheMessage()
    {
        var path = Path.Combine(Fixture.TempDir(), "broken.png");
        File.WriteAllBytes(path, File.ReadAllBytes(Fixture.Path("png_gray8_f0.png"))[..40]);
        var (code, output, error) = Medssl("data", "inspect", path);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains(path, error);
        Assert.Contains("truncated", error);
    }
}

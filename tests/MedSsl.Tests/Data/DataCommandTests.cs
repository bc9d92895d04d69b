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
    public void InspectReportsTheMasksOfASegmentationFolder()
    {
        var dir = Path.Combine(Fixture.TempDir(), "lesions");
        Assert.Equal(0, Medssl("data", "synth", "lesions", "--out", dir, "--seed", "2", "--n", "10").Code);
        // The lesion pixels of the generator's masks (the writer stores them as they are).
        var set = MedSsl.Data.Synthetic.SyntheticSkinLesions.Make(10, seed: 2, appearance: MedSsl.Data.Synthetic.LesionAppearance.Subtle);
        double lesion = Enumerable.Range(0, set.Count).Sum(i => set.Mask(i).ToArray().Count(m => m == 1)), all = set.Count * 32 * 32;
        double[] shares = [(all - lesion) / all, lesion / all];

        var (code, output, _) = Medssl("data", "inspect", dir, "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        var masks = json.RootElement.GetProperty("masks");
        Assert.Equal(10, masks.GetProperty("annotated").GetInt32());
        var classes = masks.GetProperty("classes").EnumerateArray().ToArray();
        Assert.Equal(["background", "class 1"], classes.Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(shares, classes.Select(c => c.GetProperty("pixel_share").GetDouble()));

        var text = Medssl("data", "inspect", dir);
        Assert.Equal(0, text.Code);
        var lines = text.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(["masks    10 of 10 images, 2 classes (share of mask pixels)",
            $"  0 background   {shares[0].ToString("P1", System.Globalization.CultureInfo.InvariantCulture)}",
            $"  1 class 1      {shares[1].ToString("P1", System.Globalization.CultureInfo.InvariantCulture)}"], lines[^3..]);
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

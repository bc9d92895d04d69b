using System.Text.Json.Nodes;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Sweeps;

/// <summary>The sweep fixture notebook and readers for what a sweep writes.</summary>
internal static class SweepFiles
{
    public static string Notebook { get; } = Path.Combine(Medssl.RepoRoot, "tests", "MedSsl.Tests", "Sweeps", "Fixtures", "sweep.ipynb");

    /// <summary>sweep.csv read by Python's csv module (an independent RFC 4180 reader): one dictionary per row.</summary>
    public static List<Dictionary<string, string>> ReadCsv(string path)
    {
        var (code, output) = Medssl.Exec("/usr/bin/python3", "-c",
            "import csv, json, sys; print(json.dumps(list(csv.DictReader(open(sys.argv[1], newline='')))))", path);
        Assert.True(code == 0, $"python could not read {path}:\n{output}");
        return JsonNode.Parse(output)!.AsArray()
            .Select(row => row!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>())).ToList();
    }

    public static JsonObject Status(string sweep, string point) =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(sweep, point, "status.json")))!;

    /// <summary>Point folders and hidden leftovers: everything in the sweep folder that is not a sweep-level file.</summary>
    public static List<string> Folders(string sweep) =>
        Directory.GetDirectories(sweep).Select(Path.GetFileName).Where(n => n != "logs").Order(StringComparer.Ordinal).ToList()!;

    /// <summary>The page's DOM after headless Debian chromium (networking features off) has run its scripts.</summary>
    public static string DrawnDom(string page)
    {
        var (code, dom) = Medssl.Exec("/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            $"--user-data-dir={Medssl.TemporaryFolder()}", "--virtual-time-budget=5000", "--dump-dom", "file://" + page);
        Assert.True(code == 0, dom);
        return dom;
    }

    public static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}

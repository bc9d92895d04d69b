using System.Text.Json.Nodes;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Kernel;

/// <summary>Jupyter's own conformance suite, jupyter_kernel_test (Debian python3-jupyter-kernel-test), run by
/// kernel_conformance.py against the kernelspec of this build: kernel_info, stdout/stderr, completion, is_complete
/// (complete / incomplete / invalid), errors, execute_result, display_data, inspect and history, every message
/// validated against the protocol's schema.</summary>
public sealed class KernelConformanceTests(KernelSessionFixture fixture) : IClassFixture<KernelSessionFixture>
{
    [Fact]
    public void Jupyter_kernel_test_passes_every_sample()
    {
        var (exitCode, stdout, stderr) = fixture.Clients.RunPython(["-m", "unittest", "-v", "kernel_conformance"], JupyterClients.Scripts);
        Assert.True(exitCode == 0, $"jupyter_kernel_test failed:\n{stdout}\n{stderr}");
        // unittest -v reports on stderr: every sampled test ran (a test without samples skips), and the only two skips
        // are those the kernel has no sample for (pager, clear_output).
        foreach (var test in new[] { "kernel_info", "execute_stdout", "execute_stderr", "completion", "is_complete", "error",
                     "execute_result", "display_data", "inspect", "history" })
        {
            Assert.Contains($"test_{test} (", stderr);
            Assert.DoesNotMatch($@"test_{test} \([^)]*\) \.\.\. skipped", stderr);
        }
        Assert.Matches(@"test_pager \([^)]*\) \.\.\. skipped", stderr);
        Assert.Matches(@"test_clear_output \([^)]*\) \.\.\. skipped", stderr);
        Assert.Contains("OK (skipped=2)", stderr);
    }
}

/// <summary>A NuGet package built here and served by a local folder feed, and the kernel that #r's it.</summary>
public sealed class KernelConventionsFixture
{
    public JupyterClients Clients { get; } = new();
    private readonly Lazy<JsonObject> seen;

    public KernelConventionsFixture() => seen = new(() =>
    {
        var root = Clients.Root;
        var feed = Path.Combine(root, "feed");
        // Only the local feed, and a packages folder of the test's own: offline, and the user's NuGet cache untouched.
        File.WriteAllText(Path.Combine(root, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources><clear /><add key="local" value="{feed}" /></packageSources>
              <config><add key="globalPackagesFolder" value="{Path.Combine(root, "packages")}" /></config>
            </configuration>
            """);
        var project = Path.Combine(root, "probe");
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "MedSslNugetProbe.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net{Environment.Version.Major}.{Environment.Version.Minor}</TargetFramework>
                <Version>1.0.0</Version>
              </PropertyGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "Probe.cs"),
            "namespace MedSslNugetProbe; public static class Probe { public static string Hello(string name) => $\"hello {name} from a package\"; }\n");
        var (code, output) = Medssl.Exec("dotnet", "pack", project, "-c", "Release", "-o", feed, "-nologo");
        Assert.True(code == 0, $"dotnet pack failed:\n{output}");
        return Clients.RunScript("kernel_client.py", "conventions", JupyterClients.LibraryDll, root).Json;
    });

    public JsonObject Step(string name) => (JsonObject)seen.Value[name]!;
}

public sealed class KernelConventionTests(KernelConventionsFixture fixture) : IClassFixture<KernelConventionsFixture>
{
    private static JsonObject Reply(JsonObject step) => (JsonObject)step["reply"]!;

    private static List<JsonObject> Outputs(JsonObject step, string type) =>
        step["outputs"]!.AsArray().OfType<JsonObject>().Where(o => o["type"]!.GetValue<string>() == type)
            .Select(o => (JsonObject)o["content"]!).ToList();

    private static string Text(JsonNode? node) => node!.GetValue<string>();

    private static string Result(JsonObject step) =>
        Text(Outputs(step, "execute_result").Single()["data"]!["text/plain"]);

    private static string Stdout(JsonObject step) =>
        string.Concat(Outputs(step, "stream").Where(s => Text(s["name"]) == "stdout").Select(s => Text(s["text"])));

    [Fact]
    public void Nuget_reference_restores_from_the_local_feed_and_stays_for_later_cells()
    {
        Assert.Equal("hello medssl from a package", Result(fixture.Step("nuget")));
        Assert.Equal("hello again from a package", Result(fixture.Step("nuget_later_cell")));
    }

    [Fact]
    public void A_package_no_source_has_fails_with_a_named_error_on_its_line()
    {
        var reply = Reply(fixture.Step("nuget_missing"));
        Assert.Equal("NuGetRestoreError", Text(reply["ename"]));
        Assert.StartsWith("cell 3, line 2: could not restore MedSsl.No.Such.Package 9.9.9", Text(reply["evalue"]));
        Assert.Contains("NU1101", Text(reply["evalue"]));
    }

    [Fact]
    public void Time_prints_the_wall_time_of_the_rest_of_the_cell()
    {
        var text = Stdout(fixture.Step("time"));
        var match = System.Text.RegularExpressions.Regex.Match(text, @"^timed\nWall time: ([0-9.]+)ms\n$");
        Assert.True(match.Success, text);
        Assert.InRange(double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 300, 60_000);
    }

    [Fact]
    public void Lsmagic_lists_the_supported_magics_and_an_unknown_one_names_them()
    {
        var listed = Stdout(fixture.Step("lsmagic"));
        foreach (var magic in new[] { "#!csharp", "#!time", "#!lsmagic", "#r \"nuget: Name, Version\"" }) Assert.Contains(magic, listed);
        var refused = Reply(fixture.Step("unknown_magic"));
        Assert.Equal("UnsupportedCell", Text(refused["ename"]));
        Assert.Contains("'#!fsharp' is not supported", Text(refused["evalue"]));
    }

    [Fact]
    public void Display_extension_shows_updates_and_is_not_shown_twice_as_the_result()
    {
        var step = fixture.Step("display_extension");
        Assert.Equal(["shown", "again"], Outputs(step, "display_data").Select(d => Text(d["data"]!["text/plain"])));
        var update = Outputs(step, "update_display_data").Single();
        Assert.Equal("updated", Text(update["data"]!["text/plain"]));
        Assert.Equal(Text(Outputs(step, "display_data")[0]["transient"]!["display_id"]), Text(update["transient"]!["display_id"]));
        Assert.Empty(Outputs(step, "execute_result"));
    }

    [Fact]
    public void Top_level_using_var_disposes_when_the_cell_ends_and_block_usings_are_untouched()
    {
        Assert.Equal("ok", Text(Reply(fixture.Step("using_var"))["status"]));
        Assert.Equal("False", Result(fixture.Step("using_var"))); // not yet: the cell was still running
        Assert.Equal("True", Result(fixture.Step("using_after")));
        Assert.Equal("True", Result(fixture.Step("using_in_block")));
    }

    [Fact]
    public void Inspect_shows_the_signature_and_the_xml_summary()
    {
        var reply = Reply(fixture.Step("inspect_lib"));
        Assert.True(reply["found"]!.GetValue<bool>());
        var text = Text(reply["data"]!["text/plain"]);
        Assert.Contains("SeedPlan.Evaluation(int count)", text);
        Assert.Contains("fresh seeds", text); // from MedSsl.Lib.xml
        Assert.Contains("SeedPlan.Evaluation(int count)", Text(Reply(fixture.Step("inspect_call"))["data"]!["text/plain"]));
        Assert.Matches(@"^(MedSsl\.Experiments\.)?SeedPlan plan", Text(Reply(fixture.Step("inspect_variable"))["data"]!["text/plain"]));
        Assert.False(Reply(fixture.Step("inspect_nothing"))["found"]!.GetValue<bool>());
    }
}

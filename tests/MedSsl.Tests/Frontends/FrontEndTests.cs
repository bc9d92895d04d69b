using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MedSsl.Tests.Kernel;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Frontends;

/// <summary>The notebooks as Jupyter front ends see them: charts drawn by classic Notebook's page and by nbconvert's
/// HTML (headless Debian chromium), notebook metadata equal to what the kernel reports, the user's kernelspec left
/// alone by set-up, and every notebook's equations typeset in our HTML report.</summary>
public sealed class FrontEndTests
{
    private static readonly string Scripts = Path.Combine(Medssl.RepoRoot, "tests", "MedSsl.Tests", "Frontends");
    private static readonly string NotebooksFolder = Path.Combine(Medssl.RepoRoot, "notebooks");

    private static int Number(JsonNode? node) => node!.GetValue<int>();

    [Fact]
    public void Classic_notebook_draws_both_charts_of_a_kernel_session_and_so_does_nbconverts_html()
    {
        using var clients = new JupyterClients();

        var seen = clients.RunScript(Path.Combine(Scripts, "classic_notebook.py"), JupyterClients.LibraryDll, Path.Combine(clients.Root, "work")).Json;

        // The session's first chart carries plotly.js in its HTML, the second does not; both keep the plotly JSON.
        Assert.Equal([1, 0], seen["plotly_inlined"]!.AsArray().Select(Number));
        Assert.All(seen["outputs"]!.AsArray(), cell => Assert.Contains("application/vnd.plotly.v1+json", cell![0]!.AsArray().Select(m => m!.GetValue<string>())));
        Assert.True(seen["signed"]!.GetValue<bool>(), "the server did not sign the notebook it saved");
        foreach (var view in new[] { "classic", "nbconvert" })
        {
            var page = seen[view]!;
            Assert.True(Number(page["chart_divs"]) == 2 && Number(page["drawn"]) == 2, $"{view}: {page.ToJsonString()}");
            Assert.Equal(0, Number(page["not_arrived"]));
            // Sized to the page: wider than Plotly.NET's fixed 600 px default in a 1400 px window.
            Assert.True(page["widths"]!.AsArray().Count >= 2, $"{view}: {page.ToJsonString()}");
            Assert.All(page["widths"]!.AsArray(), w => Assert.True(w!.GetValue<double>() > 700, $"{view}: {page.ToJsonString()}"));
        }
        // An untrusted copy runs no output scripts: each chart shows its text instead of an empty output.
        Assert.Equal(0, Number(seen["untrusted"]!["drawn"]));
        Assert.Equal(2, Number(seen["untrusted"]!["fallbacks"]));
    }

    [Fact]
    public void Every_notebooks_metadata_names_the_kernelspec_and_equals_the_kernels_language_info()
    {
        using var clients = new JupyterClients();
        var reply = clients.RunScript(Path.Combine(Scripts, "kernel_info.py")).Json;
        var languageInfo = reply["language_info"]!;
        var spec = JsonNode.Parse(File.ReadAllText(Path.Combine(clients.Prefix, "share", "jupyter", "kernels", "medssl-csharp", "kernel.json")))!;
        var expectedSpec = new JsonObject
        {
            ["display_name"] = spec["display_name"]!.DeepClone(), ["language"] = spec["language"]!.DeepClone(), ["name"] = "medssl-csharp",
        };

        var notebooks = Directory.GetFiles(NotebooksFolder, "*.ipynb");
        Assert.NotEmpty(notebooks);
        foreach (var notebook in notebooks)
        {
            var metadata = JsonNode.Parse(File.ReadAllText(notebook))!["metadata"]!;
            Assert.True(JsonNode.DeepEquals(expectedSpec, metadata["kernelspec"]), $"{Path.GetFileName(notebook)}: kernelspec {metadata["kernelspec"]?.ToJsonString()}");
            Assert.True(JsonNode.DeepEquals(languageInfo, metadata["language_info"]),
                $"{Path.GetFileName(notebook)}: language_info {metadata["language_info"]?.ToJsonString()}, the kernel says {languageInfo.ToJsonString()}");
        }
    }

    [Fact]
    public void The_cell_papermill_injects_for_csharp_overrides_the_parameters_cell()
    {
        using var clients = new JupyterClients();

        var seen = clients.RunScript(Path.Combine(Scripts, "papermill_cell.py")).Json;

        Assert.Equal("workshop 1001 0.5 True", seen["result"]!.GetValue<string>());
    }

    [Fact]
    public void Set_up_leaves_a_kernelspec_of_another_checkout_alone_and_installs_one_where_there_is_none()
    {
        var home = Medssl.TemporaryFolder();
        var spec = Path.Combine(home, ".local", "share", "jupyter", "kernels", "medssl-csharp", "kernel.json");
        Directory.CreateDirectory(Path.GetDirectoryName(spec)!);
        const string other = """{"argv": ["/usr/bin/dotnet", "/elsewhere/lib/MedSsl.Cli/bin/Release/net10.0/medssl.dll", "kernel", "start", "--connection-file", "{connection_file}"], "display_name": "C# (MedSsl)", "language": "C#"}""";
        File.WriteAllText(spec, other);

        var (code, output) = InstallKernel(home, threads: null);

        Assert.True(code == 0, output);
        Assert.Equal(other, File.ReadAllText(spec));
        Assert.Contains("left as it is", output);

        var fresh = Medssl.TemporaryFolder();
        (code, output) = InstallKernel(fresh, threads: "3");

        Assert.True(code == 0, output);
        var installed = JsonNode.Parse(File.ReadAllText(Path.Combine(fresh, ".local", "share", "jupyter", "kernels", "medssl-csharp", "kernel.json")))!;
        Assert.Equal(Path.Combine(Medssl.RepoRoot, "lib", "MedSsl.Cli", "bin", "Release", "net10.0", "medssl.dll"), installed["argv"]![1]!.GetValue<string>());
        // libtorch reads these only at process start, so the kernel process gets them from its kernelspec.
        Assert.Equal("PASSIVE", installed["env"]!["OMP_WAIT_POLICY"]!.GetValue<string>());
        Assert.Equal("3", installed["env"]!["OMP_NUM_THREADS"]!.GetValue<string>());
        // Run again, it refreshes its own kernelspec.
        (code, output) = InstallKernel(fresh, threads: null);
        Assert.True(code == 0 && !output.Contains("left as it is"), output);
    }

    /// <summary>Runs setup's kernel step with HOME pointing at <paramref name="home"/> and no Jupyter folders
    /// overridden; OMP_WAIT_POLICY unset, OMP_NUM_THREADS as given.</summary>
    private static (int Code, string Output) InstallKernel(string home, string? threads)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(Medssl.RepoRoot, "lib", "scripts", "install-kernel.sh"));
        info.Environment["HOME"] = home;
        foreach (var name in new[] { "JUPYTER_DATA_DIR", "XDG_DATA_HOME", "OMP_WAIT_POLICY", "OMP_NUM_THREADS" }) info.Environment.Remove(name);
        if (threads is not null) info.Environment["OMP_NUM_THREADS"] = threads;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2))) process.Kill(entireProcessTree: true);
        return (process.HasExited ? process.ExitCode : -1, stdout.Result + stderr.Result);
    }

    [Fact]
    public void Every_notebooks_equations_are_typeset_in_its_report_with_no_tex_left_over()
    {
        // The notebooks' markdown only (code cells dropped, so nothing runs), reported by medssl run.
        var copies = Medssl.TemporaryFolder();
        var expected = new Dictionary<string, int>();
        foreach (var notebook in Directory.GetFiles(NotebooksFolder, "*.ipynb"))
        {
            var root = JsonNode.Parse(File.ReadAllText(notebook))!.AsObject();
            var markdown = root["cells"]!.AsArray().Where(c => c!["cell_type"]!.GetValue<string>() == "markdown").Select(c => c!.DeepClone()).ToArray();
            root["cells"] = new JsonArray(markdown);
            File.WriteAllText(Path.Combine(copies, Path.GetFileName(notebook)), root.ToJsonString());
            var text = string.Concat(markdown.Select(c => c!["source"] is JsonArray lines ? string.Concat(lines.Select(l => l!.GetValue<string>())) : c!["source"]!.GetValue<string>()));
            expected[Path.GetFileNameWithoutExtension(notebook)] = text.Split('$').Length - 1;
        }
        var output = Medssl.TemporaryFolder();
        var run = Medssl.Run("run", copies, "--out", output);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains(expected, e => e.Value > 0);   // some notebook has equations, or this test would test nothing

        foreach (var name in expected.Keys)
        {
            var (code, dom) = Medssl.Exec("/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                $"--user-data-dir={Medssl.TemporaryFolder()}", "--virtual-time-budget=10000", "--dump-dom", "file://" + Path.Combine(output, name + ".html"));
            Assert.True(code == 0, dom);
            // The page as drawn, without the inlined scripts' source (MathJax's names its own error markers).
            var page = Regex.Replace(dom, "<(script|style)\\b.*?</\\1>", "", RegexOptions.Singleline);
            var spans = Regex.Matches(File.ReadAllText(Path.Combine(output, name + ".html")), "class=\"math\"").Count;
            Assert.Equal(spans, Regex.Matches(page, "<mjx-container").Count);
            Assert.DoesNotContain("data-mjx-error", page);
            Assert.DoesNotContain("<mjx-merror", page);
            var visible = Regex.Replace(page, "<(mjx-container|code|pre)\\b.*?</\\1>", "", RegexOptions.Singleline);
            visible = Regex.Replace(visible, "<[^>]+>", " ");
            var leftover = Regex.Match(visible, @"\\[a-zA-Z]{2,}|\\[()\[\]]|\$[^\s$][^$]*\$");
            Assert.False(leftover.Success, $"{name}: raw TeX left after MathJax: …{(leftover.Success ? visible.Substring(Math.Max(0, leftover.Index - 60), Math.Min(160, visible.Length - Math.Max(0, leftover.Index - 60))) : "")}…");
        }
    }
}

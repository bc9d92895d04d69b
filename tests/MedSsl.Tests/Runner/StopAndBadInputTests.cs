using System.Diagnostics;
using System.Text.Json.Nodes;

namespace MedSsl.Tests.Runner;

/// <summary>Every bad input exits 2 naming it; a stopped run stops its notebook process; a run that did not finish
/// is never reported ok and leaves no earlier run's report beside it.</summary>
public sealed class StopAndBadInputTests
{
    [Theory]
    [InlineData(new[] { "run", "{success}", "--cell-timeout", "NaN" }, "--cell-timeout NaN")]
    [InlineData(new[] { "run", "{success}", "--cell-timeout", "1e300" }, "--cell-timeout 1E+300")]
    [InlineData(new[] { "run", "{success}", "--cell-timeout", "-1" }, "--cell-timeout -1")]
    [InlineData(new[] { "run", "{success}", "--out", "{file}" }, "is a file, not a folder")]
    [InlineData(new[] { "run", "{success}", "--out", "/proc/medssl-cannot-write" }, "cannot write there")]
    [InlineData(new[] { "run", "{success}", "--profile", "bogus" }, "bogus")]
    [InlineData(new[] { "run", "{success}", "--jobs", "many" }, "many")]
    [InlineData(new[] { "run", "{number-source}" }, "cell 2: a field has the wrong JSON type")]
    [InlineData(new[] { "run", "{number-kernel}" }, "cell 2: a field has the wrong JSON type")]
    [InlineData(new[] { "run", "{number-cell-type}" }, "cell 1 is not a code, markdown or raw cell")]
    [InlineData(new[] { "run", "--bogus-option", "{success}" }, "--bogus-option")]
    [InlineData(new[] { "sweep", "{success}", "--grid", "Seed=1", "--out", "{file}" }, "is a file, not a folder")]
    [InlineData(new[] { "sweep", "{success}", "--grid", "Seed=1" }, "--out")]
    [InlineData(new[] { "sweep", "{success}", "--grid", "Seed=1", "--out", "{new}", "--executor", "bogus" }, "bogus")]
    [InlineData(new[] { "sweep", "{success}", "--grid", "Seed=1", "--out", "{new}", "--cell-timeout", "NaN" }, "--cell-timeout NaN")]
    [InlineData(new[] { "data", "inspect", "{zero.nii}" }, "not a regular file")]
    [InlineData(new[] { "data", "inspect" }, "Required argument missing")]
    [InlineData(new[] { "data", "synth", "ultrasound-idx", "--out", "{new}", "--n", "2000000000" }, "--n 2000000000: a synthetic 'ultrasound-idx' dataset holds 1 to 20000 items")]
    public void Bad_input_exits_2_naming_it(string[] template, string message)
    {
        var folder = Medssl.TemporaryFolder();
        var file = Path.Combine(folder, "a-file");
        File.WriteAllText(file, "not a folder");
        var output = Path.Combine(folder, "out");
        var zero = Path.Combine(folder, "zero.nii");
        File.CreateSymbolicLink(zero, "/dev/zero"); // /dev/zero named as an image: it never ends
        string[] arguments = [.. template.Select(a => a switch
        {
            "{success}" => Medssl.Fixture("exit.ipynb"),
            "{file}" => file,
            "{new}" => output,
            "{zero.nii}" => zero,
            ['{', .. var name, '}'] => Medssl.Fixture(name + ".ipynb"),
            _ => a,
        })];
        if (template[0] == "run" && !template.Contains("--out")) arguments = [.. arguments, "--out", output];

        var run = Medssl.Run(arguments);

        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains(message, run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr); // a message, not a stack trace
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output).Any(), "bad input wrote outputs");
    }

    [Fact]
    public void A_cell_ending_the_process_with_exit_0_is_a_failure_and_removes_the_earlier_reports()
    {
        var output = Medssl.TemporaryFolder();
        // An earlier run's reports, and a temporary file an interrupted write left.
        foreach (var name in new[] { "exit.html", "exit.ipynb", "exit.results.json", "exit.html.tmp-1-abc" })
            File.WriteAllText(Path.Combine(output, name), "ok");
        File.WriteAllText(Path.Combine(output, "other.html"), "kept");

        var run = Medssl.Run("run", Medssl.Fixture("exit.ipynb"), "--out", output);

        Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("before the notebook finished", run.Stderr);
        Assert.Contains("ended early (exit code 0)", run.Stdout);
        Assert.Equal(["other.html"], Directory.GetFiles(output).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("KILL", null)]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public void Stopping_run_stops_its_notebook_process_and_it_writes_nothing_afterwards(string signal, int? exitCode)
    {
        var output = Path.Combine(Medssl.TemporaryFolder(), "out-" + signal);
        var info = Medssl.StartInfo(new Dictionary<string, string>(), "run", Medssl.Fixture("progress.ipynb"), "--out", output);
        info.RedirectStandardOutput = info.RedirectStandardError = true;
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        try
        {
            // The notebook's own process (run --in-process) has started when it appears with the --out folder.
            Assert.True(Processes.WaitFor(() => Processes.WithArgument(output).Count >= 2, TimeSpan.FromSeconds(60)), "the notebook process did not start");
            Thread.Sleep(3000); // into the cells
            Processes.Signal(process.Id, signal);
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(20)), $"medssl run did not end on SIG{signal}");
            if (exitCode is { } code) Assert.Equal(code, process.ExitCode);
            Assert.True(Processes.WaitFor(() => Processes.WithArgument(output).Count == 0, TimeSpan.FromSeconds(5)),
                $"SIG{signal} to medssl run left {string.Join(", ", Processes.WithArgument(output))} running");
        }
        finally
        {
            foreach (var pid in Processes.WithArgument(output)) Processes.Signal(pid, "KILL");
        }
        if (exitCode is not null) Assert.Contains("killed", stderr.Result);
        Thread.Sleep(1000);
        Assert.Empty(Directory.GetFiles(output, "progress.*"));
    }
}

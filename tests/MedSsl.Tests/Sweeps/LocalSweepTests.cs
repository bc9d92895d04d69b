using System.Diagnostics;
using System.Globalization;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Sweeps;

public sealed class LocalSweepTests
{
    [Fact]
    public void A_local_sweep_runs_points_in_parallel_and_gathers_a_table_plots_and_the_failure()
    {
        var sweep = Path.Combine(Medssl.TemporaryFolder(), "sweep");

        var run = Medssl.Run("sweep", SweepFiles.Notebook, "--grid", "Seed=0..1,2", "--grid", "Scale=1,3", "--profile", "quick", "--out", sweep, "--jobs", "2");

        Assert.True(run.ExitCode == 1, run.Stdout + run.Stderr);
        // Ranges and lists expand in order, the last parameter fastest; the points file maps task ids to points.
        Assert.Equal(
            ["task\tpoint\tSeed\tScale", "0\tSeed=0,Scale=1\t0\t1", "1\tSeed=0,Scale=3\t0\t3", "2\tSeed=1,Scale=1\t1\t1",
             "3\tSeed=1,Scale=3\t1\t3", "4\tSeed=2,Scale=1\t2\t1", "5\tSeed=2,Scale=3\t2\t3"],
            File.ReadAllLines(Path.Combine(sweep, "points.tsv")));
        // Every point folder is complete and no temporary folder is left.
        Assert.Equal(["Seed=0,Scale=1", "Seed=0,Scale=3", "Seed=1,Scale=1", "Seed=1,Scale=3", "Seed=2,Scale=1", "Seed=2,Scale=3"], SweepFiles.Folders(sweep));
        Assert.Equal(["run.log", "status.json", "sweep.html", "sweep.ipynb", "sweep.results.json"],
            Directory.GetFiles(Path.Combine(sweep, "Seed=1,Scale=3")).Select(Path.GetFileName).Order());
        Medssl.AssertValidNotebook(Path.Combine(sweep, "Seed=1,Scale=3", "sweep.ipynb"));

        var rows = SweepFiles.ReadCsv(Path.Combine(sweep, "sweep.csv"));
        Assert.Equal(6, rows.Count);
        Assert.Equal(["point", "Seed", "Scale", "status", "error", "seconds", "score", "profile", "quality.even"], rows[0].Keys);
        foreach (var row in rows.Where(r => r["Seed"] != "2"))
        {
            Assert.Equal("ok", row["status"]);
            Assert.Equal("", row["error"]);
            Assert.Equal(int.Parse(row["Seed"], CultureInfo.InvariantCulture) * double.Parse(row["Scale"], CultureInfo.InvariantCulture),
                double.Parse(row["score"], CultureInfo.InvariantCulture));
            Assert.Equal("quick", row["profile"]);
        }
        foreach (var row in rows.Where(r => r["Seed"] == "2"))
        {
            Assert.Equal("failed", row["status"]);
            Assert.Contains("seed 2 fails on purpose", row["error"]);
            Assert.Equal("", row["score"]);
        }
        Assert.Contains("failed: Seed=2,Scale=1: InvalidOperationException", run.Stderr);
        Assert.Contains("start: Seed=1,Scale=3\n", run.Stdout);
        Assert.Contains("] Seed=1,Scale=3: ok (", run.Stdout);

        // --jobs 2: some two points ran at the same time (their [start, end] intervals overlap).
        var intervals = rows.Select(r => SweepFiles.Status(sweep, r["point"])).Select(s =>
        {
            var end = s["finished_utc"]!.GetValue<DateTime>();
            return (Start: end.AddSeconds(-s["seconds"]!.GetValue<double>()), End: end);
        }).ToList();
        Assert.Contains(intervals, a => intervals.Any(b => a != b && a.Start < b.End && b.Start < a.End));

        // The report: the failure with its error, a plot of score against each swept parameter, plotly.js inlined once.
        var html = File.ReadAllText(Path.Combine(sweep, "sweep.html"));
        Assert.Contains("Failed and unfinished points", html);
        Assert.Contains("seed 2 fails on purpose", html);
        Assert.Equal(2, SweepFiles.Count(html, "data-medssl-plotly"));
        Assert.Contains("score against Seed", html);
        Assert.Contains("score against Scale", html);
        Assert.Contains("\"type\":\"box\"", html);
        Assert.Contains("\"error_y\"", html);
        Assert.Equal(1, SweepFiles.Count(html, "* plotly.js v"));
        Assert.DoesNotContain("<script src=", html);
        Assert.Contains("href=\"Seed%3D0%2CScale%3D1/sweep.html\"", html);
        // Offline, a real browser draws both figures: boxes and the mean's error bars.
        var dom = SweepFiles.DrawnDom(Path.Combine(sweep, "sweep.html"));
        // A box per value with successful points: Seed 0 and 1 (seed 2 failed), Scale 1 and 3.
        Assert.Equal(4, SweepFiles.Count(dom, "class=\"trace boxes\""));
        Assert.Contains("class=\"errorbar\"", dom);
    }

    [Fact]
    public void Resume_reruns_only_the_failed_and_missing_points()
    {
        var folder = Medssl.TemporaryFolder();
        var sweep = Path.Combine(folder, "sweep");
        var healed = Path.Combine(folder, "healed");
        var environment = new Dictionary<string, string> { ["SWEEP_FIXTURE_HEALED"] = healed };
        string[] arguments = ["sweep", SweepFiles.Notebook, "--grid", "Seed=0..2", "--out", sweep, "--jobs", "2"];

        var first = Medssl.RunWith(environment, arguments);
        Assert.True(first.ExitCode == 1, first.Stdout + first.Stderr);
        var keptStatus = File.ReadAllText(Path.Combine(sweep, "Seed=0", "status.json"));
        // A point whose run died: no folder, only a stale temporary one.
        Directory.Delete(Path.Combine(sweep, "Seed=1"), recursive: true);
        Directory.CreateDirectory(Path.Combine(sweep, ".Seed=1.tmp-deadhost-1-0000"));

        var again = Medssl.RunWith(environment, arguments);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already holds a sweep; pass --resume", again.Stderr);
        var otherProfile = Medssl.RunWith(environment, [.. arguments, "--resume", "--profile", "full"]);
        Assert.Equal(2, otherProfile.ExitCode);
        Assert.Contains("--resume must repeat those", otherProfile.Stderr);

        File.WriteAllText(healed, "");
        var resumed = Medssl.RunWith(environment, [.. arguments, "--resume"]);

        Assert.True(resumed.ExitCode == 0, resumed.Stdout + resumed.Stderr);
        Assert.Contains("3 points, 2 to run (1 already done)", resumed.Stdout);
        Assert.Equal(keptStatus, File.ReadAllText(Path.Combine(sweep, "Seed=0", "status.json")));
        Assert.Equal(["Seed=0", "Seed=1", "Seed=2"], SweepFiles.Folders(sweep));
        Assert.All(SweepFiles.ReadCsv(Path.Combine(sweep, "sweep.csv")), row => Assert.Equal("ok", row["status"]));
        Assert.DoesNotContain("Failed and unfinished points", File.ReadAllText(Path.Combine(sweep, "sweep.html")));
    }

    [Theory]
    [InlineData("KILL", null)]
    [InlineData("TERM", 143)]
    public void A_killed_sweep_leaves_no_partial_point_and_resume_completes_it(string signal, int? exitCode)
    {
        var sweep = Path.Combine(Medssl.TemporaryFolder(), "sweep");
        string[] arguments = ["sweep", SweepFiles.Notebook, "--grid", "Seed=0,1", "--out", sweep, "--jobs", "2"];
        var info = Medssl.StartInfo(new Dictionary<string, string> { ["SWEEP_FIXTURE_HANG_SEED"] = "1" }, arguments);
        info.RedirectStandardOutput = info.RedirectStandardError = true;

        using (var process = Process.Start(info)!)
        {
            var watch = Stopwatch.StartNew();
            try
            {
                // Seed=0 finishes; Seed=1 hangs in its temporary folder until the "node" dies.
                while (!Directory.Exists(Path.Combine(sweep, "Seed=0")) && watch.Elapsed < TimeSpan.FromMinutes(1)) Thread.Sleep(200);
                Assert.True(Directory.Exists(Path.Combine(sweep, "Seed=0")), "Seed=0 did not finish within a minute");
                Assert.False(process.HasExited, "the sweep ended although Seed=1 hangs");
            }
            finally
            {
                // The sweep alone, as `kill -9`, an OOM killer or Slurm's time limit would: its points must die with it.
                Processes.Signal(process.Id, signal);
                Assert.True(process.WaitForExit(TimeSpan.FromSeconds(20)), $"the sweep did not end on SIG{signal}");
                if (exitCode is { } code) Assert.Equal(code, process.ExitCode);
            }
        }
        var orphans = Processes.WaitFor(() => Processes.WithArgument(sweep).Count == 0, TimeSpan.FromSeconds(5)) ? [] : Processes.WithArgument(sweep);
        foreach (var pid in orphans) Processes.Signal(pid, "KILL");
        Assert.True(orphans.Count == 0, $"the stopped sweep left {orphans.Count} notebook process(es) running");

        var folders = SweepFiles.Folders(sweep);
        Assert.Equal(2, folders.Count);
        Assert.Equal("Seed=0", folders[1]);
        Assert.StartsWith(".Seed=1.tmp-", folders[0]);
        Assert.False(File.Exists(Path.Combine(sweep, "sweep.csv")));

        var resumed = Medssl.Run([.. arguments, "--resume"]);

        Assert.True(resumed.ExitCode == 0, resumed.Stdout + resumed.Stderr);
        Assert.Contains("2 points, 1 to run (1 already done)", resumed.Stdout);
        Assert.Equal(["Seed=0", "Seed=1"], SweepFiles.Folders(sweep)); // the leftover .Seed=1.tmp-* is gone
        Assert.Equal(["ok", "ok"], SweepFiles.ReadCsv(Path.Combine(sweep, "sweep.csv")).Select(r => r["status"]));
    }

    [Theory]
    [InlineData("Seed", "--grid Seed: expected NAME=V1,V2,… or NAME=A..B")]
    [InlineData("Seed=3..1", "range '3..1' is empty")]
    [InlineData("Seed=0..x", "range '0..x' must be two integers A..B")]
    [InlineData("Seed=1,,2", "empty value")]
    [InlineData("Seed=1,1", "value '1' is listed twice")]
    [InlineData("Seed=1.5", "--param Seed=1.5: not a valid int")]
    [InlineData("Sede=1", "the parameters cell declares no 'Sede'")]
    [InlineData("1x=1", "'1x' is not a parameter name")]
    [InlineData("Profile=a/b,a_b", "would share the folder Profile=a_b")]
    [InlineData("Seed=-9223372036854775808..9223372036854775807", "has 18446744073709551616 values, more than 10000")]
    [InlineData("Seed=9223372036854775806..9223372036854775807", "--param Seed=9223372036854775806: out of range for int")]
    [InlineData("Seed=0..5000,5001..10001", "--grid Seed: more than 10000 values")]
    public void A_malformed_grid_is_bad_input_and_runs_nothing(string grid, string message)
    {
        var sweep = Path.Combine(Medssl.TemporaryFolder(), "sweep");

        var run = Medssl.Run("sweep", SweepFiles.Notebook, "--grid", grid, "--out", sweep);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Stderr);
        Assert.False(Directory.Exists(sweep));
    }

    [Theory]
    [InlineData(new[] { "--grid", "Seed=1", "--grid", "Seed=2" }, "--grid Seed is given twice")]
    [InlineData(new[] { "--grid", "Seed=1", "--param", "Seed=2" }, "Seed is given both as --param and as --grid")]
    [InlineData(new[] { "--grid", "Seed=1", "--partition", "gpu" }, "--partition applies to --executor slurm only")]
    [InlineData(new[] { "--grid", "Seed=1", "--executor", "slurm", "--jobs", "2" }, "--jobs applies to --executor local")]
    [InlineData(new[] { "--grid", "Seed=1", "--jobs", "0" }, "--jobs must be at least 1")]
    [InlineData(new string[0], "give at least one --grid")]
    public void Contradictory_options_are_bad_input(string[] options, string message)
    {
        var sweep = Path.Combine(Medssl.TemporaryFolder(), "sweep");

        var run = Medssl.Run(["sweep", SweepFiles.Notebook, "--out", sweep, .. options]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Stderr);
        Assert.False(Directory.Exists(sweep));
    }
}

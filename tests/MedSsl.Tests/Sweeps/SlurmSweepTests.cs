using System.Text.RegularExpressions;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Sweeps;

/// <summary>medssl sweep --executor slurm against a real (one-node) Slurm cluster.</summary>
public sealed class SlurmSweepTests(SlurmCluster cluster) : IClassFixture<SlurmCluster>
{
    [RootFact]
    public void A_slurm_sweep_runs_an_array_job_gathers_the_failure_and_resumes_only_it()
    {
        var folder = Medssl.TemporaryFolder();
        var sweep = Path.Combine(folder, "sweep");
        var healed = Path.Combine(folder, "healed");
        var environment = new Dictionary<string, string>(cluster.Environment) { ["SWEEP_FIXTURE_HEALED"] = healed };
        string[] arguments = ["sweep", SweepFiles.Notebook, "--grid", "Seed=0..3", "--out", sweep, "--executor", "slurm",
            "--max-parallel", "2", "--partition", "debug", "--time", "5", "--cpus-per-task", "1", "--mem", "500M"];

        var first = Medssl.RunWith(environment, arguments);

        Assert.True(first.ExitCode == 1, first.Stdout + first.Stderr);
        var firstJob = Regex.Match(first.Stdout, @"submitted array job (\d+) \(4 tasks").Groups[1].Value;
        Assert.NotEmpty(firstJob);
        var script = File.ReadAllText(Path.Combine(sweep, "sweep.sbatch"));
        Assert.StartsWith("#!/bin/bash\n# medssl sweep of ", script);
        foreach (var line in new[] { "--array=0-3%2", "--partition=debug", "--time=5", "--cpus-per-task=1", "--mem=500M", $"--output={sweep}/logs/%A_%a.log" })
            Assert.Contains($"\n#SBATCH {line}\n", script);
        Assert.Contains($"{sweep}/points.tsv", script);

        // Slurm ran task ids 0-3 (its completion log), each the point of that row of points.tsv (the task logs).
        Assert.Equal(["0 COMPLETED", "1 COMPLETED", "2 FAILED", "3 COMPLETED"], Tasks(firstJob));
        Assert.Matches(@"^task 2 on \S+: 2\tSeed=2\t2$", File.ReadLines(Path.Combine(sweep, "logs", $"{firstJob}_2.log")).First());
        Assert.Equal($"{firstJob}_1", SweepFiles.Status(sweep, "Seed=1")["slurm_job"]!.GetValue<string>());

        var rows = SweepFiles.ReadCsv(Path.Combine(sweep, "sweep.csv"));
        Assert.Equal(["ok", "ok", "failed", "ok"], rows.Select(r => r["status"]));
        Assert.Equal(["0", "1", "", "3"], rows.Select(r => r["score"]));
        Assert.Contains("seed 2 fails on purpose", rows[2]["error"]);
        var html = File.ReadAllText(Path.Combine(sweep, "sweep.html"));
        Assert.Contains("Failed and unfinished points", html);
        Assert.Contains("seed 2 fails on purpose", html);

        File.WriteAllText(healed, "");
        var resumed = Medssl.RunWith(environment, [.. arguments, "--resume"]);

        Assert.True(resumed.ExitCode == 0, resumed.Stdout + resumed.Stderr);
        var secondJob = Regex.Match(resumed.Stdout, @"submitted array job (\d+) \(1 tasks").Groups[1].Value;
        Assert.NotEmpty(secondJob);
        Assert.Contains("\n#SBATCH --array=2%2\n", File.ReadAllText(Path.Combine(sweep, "sweep.sbatch")));
        Assert.Equal(["2 COMPLETED"], Tasks(secondJob));
        Assert.Equal(["ok", "ok", "ok", "ok"], SweepFiles.ReadCsv(Path.Combine(sweep, "sweep.csv")).Select(r => r["status"]));
        Assert.Equal($"{firstJob}_1", SweepFiles.Status(sweep, "Seed=1")["slurm_job"]!.GetValue<string>());
    }

    [RootFact]
    public void A_request_slurm_refuses_is_bad_input_with_sbatchs_message()
    {
        var sweep = Path.Combine(Medssl.TemporaryFolder(), "sweep");

        var run = Medssl.RunWith(cluster.Environment, "sweep", SweepFiles.Notebook, "--grid", "Seed=0,1", "--out", sweep, "--executor", "slurm", "--gres", "gpu:1");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("sbatch did not accept", run.Stderr);
        Assert.Contains("gres", run.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\n#SBATCH --gres=gpu:1\n", File.ReadAllText(Path.Combine(sweep, "sweep.sbatch")));
    }

    /// <summary>"TASK STATE" for each array task of <paramref name="job"/> in the cluster's job completion log.</summary>
    private List<string> Tasks(string job) =>
        File.ReadAllLines(cluster.JobCompletions)
            .Where(l => l.Contains($" ArrayJobId={job} ", StringComparison.Ordinal))
            .Select(l => $"{Regex.Match(l, @"ArrayTaskId=(\d+)").Groups[1].Value} {Regex.Match(l, @"JobState=(\w+)").Groups[1].Value}")
            .Order(StringComparer.Ordinal).ToList();
}

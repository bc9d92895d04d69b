using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Sweeps;

/// <summary>
/// A one-node Slurm cluster on localhost (Debian's slurm-wlm 22.05 and munge), everything under one temporary folder:
/// munged with its own socket, key, pid and log; slurmctld and slurmd on free ports. Client commands reach it through
/// <see cref="Environment"/> (SLURM_CONF), given only to the processes a test starts. The daemons are stopped by the
/// pids in their pid files, also when starting fails half-way. Does nothing unless the tests run as root.
/// </summary>
public sealed partial class SlurmCluster : IAsyncLifetime
{
    private readonly List<string> pidFiles = [];

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "medssl-slurm-" + Guid.NewGuid().ToString("N")[..8]);
    public string Conf => Path.Combine(Folder, "slurm.conf");

    /// <summary>The job completion log (jobcomp/filetxt): a line per finished job or array task with its state and exit code.</summary>
    public string JobCompletions => Path.Combine(Folder, "log", "jobcomp.txt");

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["SLURM_CONF"] = Conf };

    public async Task InitializeAsync()
    {
        if (!RootFactAttribute.IsRoot || !OperatingSystem.IsLinux()) return;
        try
        {
            await StartAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    [SupportedOSPlatform("linux")]
    private async Task StartAsync()
    {
        foreach (var daemon in new[] { "/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch" })
            if (!File.Exists(daemon)) throw new InvalidOperationException($"{daemon} is missing: install Slurm with lib/scripts/setup.sh (apt-get install slurm-wlm munge)");
        foreach (var sub in new[] { "munge", "state", "spool", "log" }) Directory.CreateDirectory(Path.Combine(Folder, sub));
        var munge = Path.Combine(Folder, "munge");
        var key = Path.Combine(munge, "munge.key");
        File.WriteAllBytes(key, RandomNumberGenerator.GetBytes(1024));
        File.SetUnixFileMode(key, UnixFileMode.UserRead);
        var socket = Path.Combine(munge, "munge.socket");
        Daemon("/usr/sbin/munged", Path.Combine(munge, "munged.pid"), "--force", $"--socket={socket}", $"--key-file={key}",
            $"--pid-file={Path.Combine(munge, "munged.pid")}", $"--log-file={Path.Combine(munge, "munged.log")}", $"--seed-file={Path.Combine(munge, "munged.seed")}");

        var ports = FreePorts(2);
        File.WriteAllText(Conf, $"""
            # A one-node test cluster (tests/MedSsl.Tests/Sweeps/SlurmCluster.cs); no systemd, no cgroups, no accounting.
            ClusterName=medssltest
            SlurmctldHost=localhost
            SlurmctldPort={ports[0]}
            SlurmdPort={ports[1]}
            SlurmUser=root
            AuthType=auth/munge
            CredType=cred/munge
            AuthInfo=socket={socket}
            StateSaveLocation={Folder}/state
            SlurmdSpoolDir={Folder}/spool
            SlurmctldPidFile={Folder}/slurmctld.pid
            SlurmdPidFile={Folder}/slurmd.pid
            SlurmctldLogFile={Folder}/log/slurmctld.log
            SlurmdLogFile={Folder}/log/slurmd.log
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            SelectType=select/cons_tres
            SelectTypeParameters=CR_Core
            JobAcctGatherType=jobacct_gather/none
            AccountingStorageType=accounting_storage/none
            # Without accounting, this log keeps every task's state and exit code.
            JobCompType=jobcomp/filetxt
            JobCompLoc={JobCompletions}
            MpiDefault=none
            ReturnToService=2
            # With the defaults sbatch --wait backs off to 32 s polls: an 8-task array took 42 s instead of 4 s.
            MinJobAge=4
            SchedulerParameters=batch_sched_delay=0
            NodeName=localhost CPUs=2 RealMemory=20000 State=UNKNOWN
            PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP

            """);
        Daemon("/usr/sbin/slurmctld", Path.Combine(Folder, "slurmctld.pid"), "-f", Conf, "-i");
        // The machine's hostname is not localhost: -N names the node as the conf does.
        Daemon("/usr/sbin/slurmd", Path.Combine(Folder, "slurmd.pid"), "-f", Conf, "-N", "localhost");

        var watch = Stopwatch.StartNew();
        string state = "";
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            state = Client("sinfo", "-h", "-o", "%T").Trim();
            if (state == "idle") return;
            await Task.Delay(200);
        }
        throw new InvalidOperationException($"the test cluster's node is '{state}', not idle, after 30 s; see {Folder}/log");
    }

    /// <summary>Runs a Slurm client command against this cluster and returns its output.</summary>
    public string Client(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment["SLURM_CONF"] = Conf;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    /// <summary>Starts a daemon that forks into the background; its pid file is remembered for stopping it.</summary>
    private void Daemon(string program, string pidFile, params string[] arguments)
    {
        pidFiles.Add(pidFile);
        var (code, output) = Medssl.Exec(program, arguments);
        if (code != 0) throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited {code}: {output}");
    }

    /// <summary>Ports free now (all held open together, so they differ), so the cluster does not collide with another.</summary>
    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    /// <summary>SIGTERM to each daemon (slurmd first, munged last), SIGKILL after 10 s; then the folder goes.</summary>
    public async Task DisposeAsync()
    {
        foreach (var pidFile in Enumerable.Reverse(pidFiles))
        {
            if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid)) continue;
            kill(pid, 15);
            var watch = Stopwatch.StartNew();
            while (Directory.Exists($"/proc/{pid}") && !IsZombie(pid) && watch.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(100);
            if (Directory.Exists($"/proc/{pid}") && !IsZombie(pid)) kill(pid, 9);
        }
        pidFiles.Clear();
        if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
    }

    /// <summary>A daemon's parent is gone, so an ended one may linger as a zombie until init reaps it.</summary>
    private static bool IsZombie(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(") ").Last().StartsWith('Z'); }
        catch (IOException) { return false; }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}

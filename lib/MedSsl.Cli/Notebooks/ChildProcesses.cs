using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MedSsl.Cli.Notebooks;

/// <summary>
/// Stopping a run stops its work. The parent (<c>medssl run</c>, <c>sweep</c>, <c>sweep-point</c>) keeps its live
/// notebook processes here and kills them on SIGINT, SIGTERM or SIGHUP before it exits (130, 143, 129); each child
/// watches its parent's process id and kills itself the moment it is reparented, which covers a parent killed by
/// SIGKILL or a crash. (PR_SET_PDEATHSIG is not used: it fires when the forking <em>thread</em> ends, and .NET
/// starts processes from pool threads that come and go.)
/// </summary>
internal static class ChildProcesses
{
    private static readonly HashSet<Process> Live = [];
    private static readonly List<PosixSignalRegistration> Registrations = [];
    private static int stopping;

    /// <summary>True once a signal asked this process to stop: nothing may then be published as finished.</summary>
    public static bool Stopping => Volatile.Read(ref stopping) != 0;

    public static void Add(Process process)
    {
        lock (Live) Live.Add(process);
        if (Stopping) Kill(process);
    }

    public static void Remove(Process process)
    {
        lock (Live) Live.Remove(process);
    }

    /// <summary>In a parent: on SIGINT, SIGTERM or SIGHUP, kill every live child, say so, and exit 128 + signal.</summary>
    public static void StopChildrenOnSignals()
    {
        lock (Registrations)
        {
            if (Registrations.Count > 0) return;
            foreach (var (signal, number) in new[] { (PosixSignal.SIGINT, 2), (PosixSignal.SIGTERM, 15), (PosixSignal.SIGHUP, 1) })
                Registrations.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true;
                    Interlocked.Exchange(ref stopping, 1);
                    Process[] children;
                    lock (Live) children = [.. Live];
                    foreach (var child in children) Kill(child);
                    Console.Error.WriteLine($"medssl: stopped by {context.Signal}; {children.Length} notebook process(es) killed");
                    Console.Error.Flush();
                    Environment.Exit(128 + number);
                }));
        }
    }

    /// <summary>In a child: kill this process as soon as its parent <paramref name="parentPid"/> is gone.</summary>
    public static void ExitWithParent(int parentPid)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        if (getppid() != parentPid) KillSelf();
        var watch = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(200);
                if (getppid() != parentPid) KillSelf();
            }
        }) { IsBackground = true, Name = "medssl parent watch" };
        watch.Start();
    }

    private static void KillSelf()
    {
        try { Console.Error.WriteLine("medssl: the parent process is gone; stopping this notebook"); } catch (IOException) { }
        Process.GetCurrentProcess().Kill();
    }

    private static void Kill(Process process)
    {
        try { process.Kill(entireProcessTree: true); }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { } // already ended
    }

    [DllImport("libc", SetLastError = false)]
    private static extern int getppid();
}

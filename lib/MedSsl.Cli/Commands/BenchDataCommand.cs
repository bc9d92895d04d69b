using System.CommandLine;
using System.Diagnostics;
using MedSsl.Data;
using MedSsl.Data.Loaders;
using MedSsl.Data.Synthetic;

namespace MedSsl.Cli.Commands;

/// <summary><c>medssl bench data</c>: how long the synthetic generators and the PNG folder round trip take
/// (median of 5 runs after one warm-up), for docs/benchmarks.md.</summary>
internal static class BenchDataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "time synthetic dataset generation and PNG folder writing/loading");
        command.SetAction(_ => Run());
        return command;
    }

    private static int Run()
    {
        Console.WriteLine($"{"task",-42} {"median ms",10}");
        Time("moons quick (300 points)", () => Moons.Make(RunProfile.Quick));
        Time("moons full (1000 points)", () => Moons.Make(RunProfile.Full));
        Time("ultrasound quick (320 images 64x64)", () => SyntheticUltrasound.Make(RunProfile.Quick));
        Time("ultrasound full (4000 images 64x64)", () => SyntheticUltrasound.Make(RunProfile.Full));
        Time("ct quick (6 volumes 24x48x48)", () => SyntheticCt.Make(RunProfile.Quick));
        Time("ct full (40 volumes 48x96x96)", () => SyntheticCt.Make(RunProfile.Full));
        var data = SyntheticUltrasound.Make(RunProfile.Quick);
        var root = Path.Combine(Path.GetTempPath(), $"medssl-bench-data-{Environment.ProcessId}");
        var k = 0;
        try
        {
            Time("write 320 PNGs + manifest", () => ImageFolder.Write(data, Path.Combine(root, $"w{k++}")));
            var written = Path.Combine(root, "w0");
            Time("load 320 PNGs + manifest", () => ImageFolder.Load(written));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
        return 0;
    }

    private static void Time(string name, Action action)
    {
        action();
        var times = new List<double>();
        for (var r = 0; r < 5; r++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine($"{name,-42} {times[2],10:F1}");
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using MedSsl.Torch;

namespace MedSsl.Cli.Commands;

/// <summary><c>medssl doctor [--json]</c>: what the binding actually runs on.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("doctor", "libtorch version, BLAS in use, threads, CUDA and matmul speed") { json };
        command.SetAction(r => Run(r.GetValue(json)));
        return command;
    }

    private static int Run(bool json)
    {
        var gflops = MatmulGflops();
        var cuda = torch.cuda.is_available();
        var report = new Dictionary<string, object?>
        {
            ["libtorch_version"] = torch.version,
            ["blas"] = LoadedBlas(),
            ["threads"] = torch.get_num_threads(),
            ["cuda_available"] = cuda,
            ["cuda_device"] = cuda ? torch.cuda.get_device_name(0) : null,
            ["matmul_gflops"] = Math.Round(gflops, 1),
        };
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(report));
            return 0;
        }
        foreach (var (key, value) in report) Console.WriteLine($"{key,-18} {value ?? "null"}");
        if (report["blas"] is string blas && !blas.Contains("openblas"))
            Console.WriteLine("warning: libtorch is not using OpenBLAS; run lib/scripts/setup.sh (see environment.md)");
        return 0;
    }

    /// <summary>The BLAS shared object this process has mapped (the one libtorch really calls).</summary>
    internal static string? LoadedBlas()
    {
        var libs = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6 && f[5].StartsWith('/'))
            .Select(f => f[5])
            .Distinct()
            .ToList();
        // libblas.so.3 is an alternatives link; its resolved path names the implementation.
        var blas = libs.FirstOrDefault(p => p.Contains("openblas")) ?? libs.FirstOrDefault(p => Path.GetFileName(p).StartsWith("libblas"));
        return blas;
    }

    /// <summary>float32 1024×1024 @ 1024×1024 through the binding: median GFLOP/s of 15 runs after 3 warm-ups.</summary>
    internal static double MatmulGflops()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.randn(1024, 1024);
        var b = torch.randn(1024, 1024);
        var times = new List<double>();
        for (var k = 0; k < 18; k++)
        {
            var sw = Stopwatch.StartNew();
            a.matmul(b).Dispose();
            if (k >= 3) times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        return 2.0 * 1024 * 1024 * 1024 / times[times.Count / 2] / 1e9;
    }
}

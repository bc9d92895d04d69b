using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using MedSsl.Runtime;
using TorchSharp;

namespace MedSsl.Cli.Commands;

/// <summary><c>medssl doctor [--json]</c>: what the library actually runs on.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("doctor", "TorchSharp and libtorch versions, the libstdc++ repair, threads, BLAS, CUDA and matmul speed") { json };
        command.SetAction(r => Run(r.GetValue(json)));
        return command;
    }

    private static int Run(bool json)
    {
        var gflops = MatmulGflops();
        var cuda = torch.cuda.is_available();
        var report = new Dictionary<string, object?>
        {
            ["torchsharp_version"] = TorchRuntime.TorchSharpVersion,
            ["libtorch_version"] = TorchRuntime.LibTorchVersion,
            ["libtorch_package"] = TorchRuntime.LibTorchPackage.Split('/')[0],
            ["libstdcxx_repair"] = TorchRuntime.LibStdCxxRepair,
            ["threads"] = torch.get_num_threads(),
            ["blas"] = TorchRuntime.Blas(),
            ["mmap_threshold"] = NativeAllocator.MmapThreshold,
            ["cuda_available"] = cuda,
            ["cuda_devices"] = cuda ? torch.cuda.device_count() : 0,
            ["matmul_gflops"] = Math.Round(gflops, 1),
        };
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(report));
            return 0;
        }
        foreach (var (key, value) in report) Console.WriteLine($"{key,-19} {value ?? "unknown"}");
        return 0;
    }

    /// <summary>float32 1024×1024 @ 1024×1024: median GFLOP/s of 15 runs after 3 warm-ups.</summary>
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

using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Cli.Commands;

/// <summary><c>medssl bench op</c>: TorchSharp's fixed cost per operator — one-element <c>a + b</c>, including
/// the result's handle and its disposal.
/// The PyTorch counterpart is the one-liner in docs/benchmarks.md.</summary>
internal static class OpBench
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var calls = new Option<int>("--calls") { Description = "calls per timed batch", DefaultValueFactory = _ => 100_000 };
        var command = new Command("op", "per-call overhead of a tiny operator through TorchSharp") { json, calls };
        command.SetAction(r => Run(r.GetValue(json), r.GetValue(calls)));
        return command;
    }

    private static int Run(bool json, int calls)
    {
        using var a = torch.ones(1);
        using var b = torch.ones(1);
        var batches = new List<double>();
        for (var batch = 0; batch < 7; batch++)
        {
            var sw = Stopwatch.StartNew();
            for (var k = 0; k < calls; k++) (a + b).Dispose();
            batches.Add(sw.Elapsed.TotalMilliseconds * 1000 / calls);
        }
        batches.Sort();
        var report = new Dictionary<string, object> { ["us_per_call"] = Math.Round(batches[3], 3), ["calls"] = calls };
        Console.WriteLine(json ? JsonSerializer.Serialize(report) : $"{report["us_per_call"]} µs per a + b (median of 7 × {calls})");
        return 0;
    }
}

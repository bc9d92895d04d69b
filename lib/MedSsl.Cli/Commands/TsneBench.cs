using System.CommandLine;
using System.Diagnostics;
using MedSsl.Embedding;
using MedSsl.Runtime;
using MedSsl.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Cli.Commands;

/// <summary><c>medssl bench tsne</c>: exact t-SNE on Gaussian blobs (n points, d dims), wall time and
/// trustworthiness. docs/bench/tsne_sklearn.py times sklearn on the same data (torch 1.13's
/// Generator with the same seed draws the same numbers in Python).</summary>
internal static class TsneBench
{
    public static Command Create()
    {
        var n = new Option<int>("--n") { Description = "points", DefaultValueFactory = _ => 2000 };
        var dim = new Option<int>("--dim") { Description = "input dimensions", DefaultValueFactory = _ => 50 };
        var float32 = new Option<bool>("--float32") { Description = "optimise in float32 instead of float64" };
        var seed = new Option<int>("--seed") { Description = "data seed", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "libtorch threads (0: libtorch's default)" };
        var command = new Command("tsne", "exact t-SNE wall time on n × dim Gaussian blobs (compare bench/tsne_sklearn.py)")
            { n, dim, float32, seed, threads };
        command.SetAction(r => Run(r.GetValue(n), r.GetValue(dim), r.GetValue(float32), r.GetValue(seed), r.GetValue(threads)));
        return command;
    }

    /// <summary>10 blobs: centres ~ N(0, 5²), points = centre + N(0, 1), drawn from one seeded generator.</summary>
    internal static Tensor Blobs(int n, int dim, int seed)
    {
        using var g = new Generator((ulong)seed);   // torch.Generator(seed) as in docs/bench/tsne_sklearn.py: both sides draw the same numbers
        using var scope = torch.NewDisposeScope();
        var centres = torch.randn([10, dim], generator: g) * 5.0;
        var labels = torch.randint(0, 10, [n], generator: g);
        return (centres.index_select(0, labels) + torch.randn([n, dim], generator: g)).MoveToOuterDisposeScope();
    }

    private static int Run(int n, int dim, bool float32, int seed, int threads)
    {
        if (threads > 0) torch.set_num_threads(threads);
        using var x = Blobs(n, dim, seed);
        var tsne = new Tsne { DType = float32 ? ScalarType.Float32 : ScalarType.Float64 };
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using var y = tsne.FitTransform(x);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var trust = EmbeddingQuality.Trustworthiness(x, y, 5);
        Console.WriteLine($"medssl exact t-SNE  n={n} d={dim} {(float32 ? "float32" : "float64")} threads={torch.get_num_threads()}: " +
                          $"{seconds:F2} s wall, {cpuSeconds:F2} s CPU, {tsne.Iterations} iterations, KL {tsne.KlDivergence:F4}, trustworthiness(k=5) {trust:F4}, " +
                          $"peak RSS {ProcessMemory.PeakResidentMb():F0} MB");
        return 0;
    }
}

using System.CommandLine;
using System.Diagnostics;
using MedSsl.Embedding;
using MedSsl.Runtime;
using MedSsl.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Cli.Commands;

/// <summary><c>medssl bench tsne</c>: t-SNE (Barnes–Hut or exact) on Gaussian blobs (n points, d dims): wall and
/// CPU time, iterations, KL, trustworthiness (k = 5), peak RSS. docs/bench/tsne_sklearn.py times sklearn on the
/// same data (torch 1.13's Generator with the same seed draws the same numbers in Python).</summary>
internal static class TsneBench
{
    public static Command Create()
    {
        var n = new Option<int>("--n") { Description = "points", DefaultValueFactory = _ => 2000 };
        var dim = new Option<int>("--dim") { Description = "input dimensions", DefaultValueFactory = _ => 50 };
        var method = new Option<string>("--method") { Description = "barnes_hut or exact (sklearn's names)", DefaultValueFactory = _ => "barnes_hut" };
        method.AcceptOnlyFromAmong("barnes_hut", "exact");
        var float32 = new Option<bool>("--float32") { Description = "exact method: optimise in float32 instead of float64" };
        var seed = new Option<int>("--seed") { Description = "data seed", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "libtorch threads (0: libtorch's default)" };
        var command = new Command("tsne", "t-SNE wall and CPU time on n × dim Gaussian blobs (compare docs/bench/tsne_sklearn.py)")
            { n, dim, method, float32, seed, threads };
        command.SetAction(r => Run(r.GetValue(n), r.GetValue(dim), r.GetValue(method)!, r.GetValue(float32), r.GetValue(seed), r.GetValue(threads)));
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

    private static int Run(int n, int dim, string method, bool float32, int seed, int threads)
    {
        if (threads > 0) torch.set_num_threads(threads);
        using var x = Blobs(n, dim, seed);
        var exact = method == "exact";
        var tsne = new Tsne
        {
            Method = exact ? TsneMethod.Exact : TsneMethod.BarnesHut,
            DType = float32 ? ScalarType.Float32 : ScalarType.Float64,
        };
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using var y = tsne.FitTransform(x);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var trust = EmbeddingQuality.Trustworthiness(x, y, 5);
        var precision = exact ? (float32 ? " float32" : " float64") : "";
        Console.WriteLine($"medssl {method} t-SNE  n={n} d={dim}{precision} threads={torch.get_num_threads()}/{Environment.ProcessorCount}: " +
                          $"{seconds:F2} s wall, {cpuSeconds:F2} s CPU, {tsne.Iterations} iterations, KL {tsne.KlDivergence:F4}, trustworthiness(k=5) {trust:F4}, " +
                          $"peak RSS {ProcessMemory.PeakResidentMb():F0} MB");
        return 0;
    }
}

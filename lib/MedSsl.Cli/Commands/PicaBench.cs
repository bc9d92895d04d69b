using System.CommandLine;
using System.Diagnostics;
using MedSsl.Data;
using MedSsl.Data.Augmentation;
using MedSsl.Experiments;
using MedSsl.Methods;
using MedSsl.Methods.OnYourData;
using TorchSharp;

namespace MedSsl.Cli.Commands;

/// <summary><c>medssl bench pica-digits</c>: PICA and PICA + L_SD on scikit-learn's handwritten digits against k-means on
/// the raw pixels (NMI, ACC per seed and their means, the training curve, CPU time), with the knobs that decide whether
/// deep clustering learns there: learning rate, batch size, epochs, over-clustering, the second view's strength.
/// <c>medssl bench pica-exams</c>: notebook 01's quick (or workshop) models at λ = 2 trained on batches of whole exams
/// (Dadoun et al. 2022, §3.2) and on batches of as many single images, from the same weights.</summary>
internal static class PicaBench
{
    public static Command CreateExams()
    {
        var seeds = new Option<int>("--seeds") { Description = "exploration seeds 0…n−1", DefaultValueFactory = _ => 2 };
        var profile = new Option<string>("--profile") { DefaultValueFactory = _ => "quick" };
        var command = new Command("pica-exams", "notebook 01's models at λ = 2 on exam batches vs image batches of the same mean size") { seeds, profile };
        command.SetAction(r => RunExams(RunProfiles.Parse(r.GetValue(profile)!), r.GetValue(seeds)));
        return command;
    }

    private static int RunExams(RunProfile profile, int seeds)
    {
        var settings = PicaSettings.For(profile);
        if (settings.Threads > 0) torch.set_num_threads(settings.Threads);
        var data = PicaStudy.MakeData(settings);
        var unlabelled = data.Where(DataSplit.Unlabelled);
        var framesPerExam = unlabelled.Count / (double)Enumerable.Range(0, unlabelled.Count).Select(unlabelled.ExamId).Distinct().Count();
        // The same images, labels and splits, each image its own "exam": the sampler then draws single images.
        var images = new ImageDataset(data.Channels, data.Height, data.Width, data.LabelNames,
            [.. Enumerable.Range(0, data.Count).SelectMany(i => data.Image(i).ToArray())],
            [.. Enumerable.Range(0, data.Count).SelectMany(i => Enumerable.Range(0, data.LabelNames.Count).Select(l => data.HasLabel(i, l)))],
            [.. Enumerable.Range(0, data.Count).Select(i => $"I{i:D5}")], [.. Enumerable.Range(0, data.Count).Select(data.PatientId)],
            [.. Enumerable.Range(0, data.Count).Select(data.Split)]);
        var perImage = settings with { ExamsPerBatch = (int)Math.Round(settings.ExamsPerBatch * framesPerExam) };
        Console.WriteLine($"{profile}: {settings.Epochs} epochs; {settings.ExamsPerBatch} exams per batch ({framesPerExam:0.0} frames per exam) vs {perImage.ExamsPerBatch} images per batch");
        Console.WriteLine($"{"loss",-5} {"batches",-7} {"seed",4} {"F1w",6} {"NMI",6} {"soft→U",7} {"hard→U",7} {"soft→T",7} {"hard→T",7} {"CPU-s",6}");
        foreach (var loss in PicaStudy.Losses)
            foreach (var (name, d, s) in new[] { ("exams", data, settings), ("images", images, perImage) })
                for (var seed = 0; seed < seeds; seed++)
                {
                    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                    using var trainer = new Training.Trainer();
                    using var run = PicaRuns.Train(d, s, PicaStudy.AtDefault(loss), seed, trainer);
                    var r = PicaRuns.Evaluate(d, s, run).Row;
                    Console.WriteLine($"{loss,-5} {name,-7} {seed,4} {r.F1Weighted,6:0.000} {r.Nmi,6:0.000} {r.SoftToUniform,7:0.000} {r.HardToUniform,7:0.000} {r.SoftToTrue,7:0.000} {r.HardToTrue,7:0.000} " +
                                      $"{(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds,6:0.0}");
                }
        return 0;
    }

    public static Command CreateDigits()
    {
        var seeds = new Option<int>("--seeds") { Description = "seeds 0…n−1", DefaultValueFactory = _ => 3 };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 30 };
        var batch = new Option<int>("--batch") { Description = "images per batch", DefaultValueFactory = _ => 128 };
        var lr = new Option<double>("--lr") { Description = "Adam's learning rate", DefaultValueFactory = _ => 1e-3 };
        var clusters = new Option<int>("--clusters") { Description = "K (10 digits; more over-clusters)", DefaultValueFactory = _ => 10 };
        var view = new Option<string>("--second-view") { Description = "randaugment (M = --magnitude), shift (the first view again) or none", DefaultValueFactory = _ => "randaugment" };
        view.AcceptOnlyFromAmong("randaugment", "shift", "none");
        var magnitude = new Option<int>("--magnitude") { Description = "RandAugment's M", DefaultValueFactory = _ => 10 };
        var loss = new Option<string>("--loss") { Description = "pica, lsd or both", DefaultValueFactory = _ => "both" };
        loss.AcceptOnlyFromAmong("pica", "lsd", "both");
        var every = new Option<int>("--every") { Description = "score every this many epochs", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "libtorch threads (0: libtorch's default)", DefaultValueFactory = _ => 1 };
        var command = new Command("pica-digits", "PICA and PICA + L_SD vs k-means on the handwritten digits (NMI, ACC, CPU time)")
            { seeds, epochs, batch, lr, clusters, view, magnitude, loss, every, threads };
        command.SetAction(r =>
        {
            var shift = new WeakAugment { FlipProbability = 0 };
            var options = PicaDigits.Options(ClusterSizeLoss.SymmetricDirichlet, seed: 0, r.GetValue(epochs)) with
            {
                ExamsPerBatch = r.GetValue(batch), LearningRate = r.GetValue(lr), Clusters = r.GetValue(clusters),
                SecondView = r.GetValue(view) switch
                {
                    "shift" => shift,
                    "none" => new RandAugment { N = 0, CutoutFraction = 0 },
                    _ => new RandAugment { M = r.GetValue(magnitude), CutoutFraction = 0 },
                },
            };
            return Run(options, r.GetValue(seeds), r.GetValue(loss)!, r.GetValue(every), r.GetValue(threads));
        });
        return command;
    }

    private static int Run(PicaOptions options, int seeds, string loss, int every, int threads)
    {
        if (threads > 0) torch.set_num_threads(threads);
        var images = Data.Loaders.Digits.Load();
        Console.WriteLine($"digits: {images.Count} images 8×8; epochs {options.Epochs}, batch {options.ExamsPerBatch}, lr {options.LearningRate}, K {options.Clusters}, " +
                          $"second view {options.SecondView.GetType().Name}, threads {torch.get_num_threads()}");
        // The loader assigns no split: k-means fits and is scored on every digit.
        var kmeans = Enumerable.Range(0, seeds).Select(s => PicaClustering.KMeansOnPixels(images, options.Clusters, DataSplit.Unassigned, s, iterations: 300)).ToList();
        Console.WriteLine($"k-means on pixels   NMI {Mean(kmeans.Select(p => p.Nmi))}  ACC {Mean(kmeans.Select(p => p.Accuracy))}   per seed NMI {string.Join(" ", kmeans.Select(p => p.Nmi.ToString("0.000")))}");
        foreach (var (name, size) in new[] { ("pica", ClusterSizeLoss.NegativeEntropy), ("lsd", ClusterSizeLoss.SymmetricDirichlet) }.Where(l => loss == "both" || loss == l.Item1))
        {
            var finals = new List<PicaDigitsPoint>();
            for (var seed = 0; seed < seeds; seed++)
            {
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var curve = PicaDigits.Train(images, options with { SizeLoss = size, Seed = seed }, every);
                finals.Add(curve[^1]);
                Console.WriteLine($"{name,-5} seed {seed}: {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds,6:F1} CPU-s  epoch:NMI/ACC/used " +
                                  string.Join("  ", curve.Select(p => $"{p.Epoch}:{p.Nmi:0.000}/{p.Accuracy:0.000}/{p.ClustersUsed}")));
            }
            Console.WriteLine($"{name,-5} final       NMI {Mean(finals.Select(p => p.Nmi))}  ACC {Mean(finals.Select(p => p.Accuracy))}");
        }
        return 0;
    }

    private static string Mean(IEnumerable<double> values)
    {
        var v = values.ToArray();
        var sd = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - v.Average()) * (x - v.Average())) / (v.Length - 1)) : 0;
        return $"{v.Average():0.000} ± {sd:0.000}";
    }
}

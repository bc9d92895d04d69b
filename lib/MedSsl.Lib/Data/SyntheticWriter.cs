using MedSsl.Data.Loaders;
using MedSsl.Data.Synthetic;

namespace MedSsl.Data;

/// <summary>Writes a synthetic dataset in the real formats the loaders read (what <c>medssl data synth</c> does),
/// so users see the layout their own data needs.</summary>
public static class SyntheticWriter
{
    /// <summary>Images of the synthetic lesion set in the Quick profile of notebook 06.</summary>
    private const int LesionsQuickCount = 200;

    /// <summary>Images of the chest X-ray folder: notebook 07's quick classification set.</summary>
    private const int ChestXrayCount = 400;

    public static readonly IReadOnlyList<string> Kinds = ["moons", "ultrasound", "lesions", "chest-xray", "ct", "ultrasound-idx"];

    /// <param name="n">points (moons), images (ultrasound, lesions, chest-xray) or volumes (ct); null: the Quick profile's size</param>
    public static void Write(string kind, string directory, int seed = 0, int? n = null)
    {
        // A bound per kind keeps a typo (--n 2000000000) from overflowing counts or exhausting memory mid-write.
        var limit = kind switch { "moons" => 1_000_000, "ct" => 100, _ => 20_000 };
        if (n is { } count && (count < 1 || count > limit))
            throw new ArgumentOutOfRangeException(nameof(n), count, $"--n {count}: a synthetic '{kind}' dataset holds 1 to {limit} items");
        switch (kind)
        {
            case "moons":
                var moons = Moons.Make(n ?? Moons.DefaultCount(RunProfile.Quick), noise: 0.1, seed: seed);
                AtomicFile.WriteDirectory(directory, temp => PointsCsv.Write(moons, System.IO.Path.Combine(temp, "moons.csv")));
                break;
            case "ultrasound":
                ImageFolder.Write(SyntheticUltrasound.Make(n ?? SyntheticUltrasound.DefaultCount(RunProfile.Quick), seed), directory);
                break;
            case "lesions":
                // Notebook 06's images (32×32 RGB, one lesion each, the paper's 70/10/20 split) with their masks.
                ImageFolder.Write(SyntheticSkinLesions.Make(n ?? LesionsQuickCount, seed, appearance: LesionAppearance.Subtle), directory);
                break;
            case "chest-xray":
                // Notebook 07's source-A X-rays (32×32 grey), each with its class (normal or pneumonia) and lung mask: a
                // MultiMix folder. Drawn in a seeded order: 10 % labelled (class and mask), 10 % validation, 20 % test,
                // the rest unlabelled.
                var xrays = n ?? ChestXrayCount;
                var rank = new int[xrays];
                foreach (var (i, k) in SeededRandom.Permutation(xrays, seed, RandomStreams.Data).Select((i, k) => (i, k))) rank[i] = k;
                DataSplit SplitOf(int i) => rank[i] < xrays / 10 ? DataSplit.Labelled : rank[i] < xrays / 5 ? DataSplit.Validation
                    : rank[i] < 2 * xrays / 5 ? DataSplit.Test : DataSplit.Unlabelled;
                ImageFolder.Write(SyntheticChestXray.MakeSet(XraySource.A, 32, xrays, seed, 0).ToDataset(SplitOf), directory);
                break;
            case "ct":
                VolumeFolder.Write(n is { } volumes ? SyntheticCt.Make(volumes, seed) : SyntheticCt.Make(RunProfile.Quick, seed), directory, seed: seed);
                break;
            case "ultrasound-idx":
                // The K-cluster single-label view (class = label combination) at 28×28 in MNIST's IDX format.
                var exams = SyntheticUltrasound.Make(n ?? SyntheticUltrasound.DefaultCount(RunProfile.Quick), seed, imageSize: 28);
                var combos = LabelCombinations.Of(exams);
                var names = Enumerable.Range(0, combos.K).Select(combos.Name).ToArray();
                var onehot = new bool[exams.Count * combos.K];
                for (var i = 0; i < exams.Count; i++) onehot[i * combos.K + combos.Assignments[i]] = true;
                var pixels = new float[exams.Count * 28 * 28];
                for (var i = 0; i < exams.Count; i++) exams.CopyImage(i, pixels.AsSpan(i * 784, 784));
                var single = new ImageDataset(1, 28, 28, names, pixels, onehot,
                    Enumerable.Range(0, exams.Count).Select(exams.ExamId).ToArray(), Enumerable.Range(0, exams.Count).Select(exams.PatientId).ToArray());
                AtomicFile.WriteDirectory(directory, temp =>
                {
                    Mnist.Write(single, System.IO.Path.Combine(temp, "images-idx3-ubyte.gz"), System.IO.Path.Combine(temp, "labels-idx1-ubyte.gz"));
                    File.WriteAllLines(System.IO.Path.Combine(temp, "classes.txt"), names.Select((name, k) => $"{k} {name}"));
                });
                break;
            default:
                throw new ArgumentException($"unknown kind '{kind}' (one of {string.Join(", ", Kinds)})");
        }
    }
}

namespace MedSsl.Data.Synthetic;

/// <summary>Abdominal-ultrasound-like multi-label exams shaped like Dadoun et al. (2022)'s data: grayscale frames grouped into
/// exams of patients, label sets following the test set's frequencies (<see cref="UltrasoundOrgans"/>), and
/// labelled / unlabelled / validation / test splits drawn by patient so no patient (hence no exam) is in two splits.
/// An exam is one patient's sweep: its frames share the patient's anatomy (organ positions and sizes,
/// <see cref="UltrasoundAnatomy"/>) and the exam's appearance (gain, speckle, depth attenuation, tissue echogenicity,
/// <see cref="UltrasoundLook"/>), and they show the organs of the exam's kind (<see cref="UltrasoundOrgans.ExamKinds"/>),
/// so that sampling batches by exam (§3.2) samples what the paper samples.</summary>
public static class SyntheticUltrasound
{
    /// <summary>Images for a profile: Quick 320 (well under a second), Full 4000.</summary>
    public static int DefaultCount(RunProfile profile) => profile == RunProfile.Quick ? 320 : 4000;

    /// <summary>Weight of a label set that an exam's kind does not show, relative to one it shows: small, so that the
    /// last exams can still take the label sets left over and the totals stay exact.</summary>
    public const double OffKindWeight = 0.02;

    public static ImageDataset Make(RunProfile profile, int seed = 0, int imageSize = 64) =>
        Make(DefaultCount(profile), seed, imageSize);

    /// <param name="n">number of images</param>
    /// <param name="splitFractions">fractions of patients in the labelled, unlabelled, validation and test splits
    /// (default 0.1, 0.6, 0.1, 0.2: the paper's 3 % labelled is too few for a small synthetic set)</param>
    public static ImageDataset Make(int n, int seed = 0, int imageSize = 64, double[]? splitFractions = null)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n));
        if (imageSize < 16) throw new ArgumentOutOfRangeException(nameof(imageSize), "images smaller than 16×16 cannot show the organs");
        splitFractions ??= [0.1, 0.6, 0.1, 0.2];
        if (splitFractions.Length != 4 || splitFractions.Any(f => f < 0) || Math.Abs(splitFractions.Sum() - 1) > 1e-9)
            throw new ArgumentException("four non-negative split fractions summing to 1 (labelled, unlabelled, validation, test)");
        var rng = new SeededRandom(seed);
        var (examOf, combinationOf, patientOfExam) = Exams(n, rng);
        var patients = patientOfExam.Max() + 1;
        var anatomy = Enumerable.Range(0, patients).Select(_ => UltrasoundAnatomy.Draw(rng)).ToArray();
        var look = patientOfExam.Select(_ => UltrasoundLook.Draw(rng)).ToArray();
        var imageSeeds = Enumerable.Range(0, n).Select(_ => rng.Next(int.MaxValue)).ToArray();

        var patientSplit = SplitPatients(patients, splitFractions, rng);
        var pixels = new float[n * imageSize * imageSize];
        Parallel.For(0, n, i =>
        {
            var e = examOf[i];
            var image = new UltrasoundRenderer(imageSize, imageSeeds[i], anatomy[patientOfExam[e]], look[e]).Render(UltrasoundOrgans.Combinations[combinationOf[i]].Organs);
            image.CopyTo(pixels, i * imageSize * imageSize);
        });
        var names = UltrasoundOrgans.LabelNames;
        var labels = new bool[n * names.Count];
        for (var i = 0; i < n; i++)
            for (var l = 0; l < names.Count; l++) labels[i * names.Count + l] = UltrasoundOrgans.Combinations[combinationOf[i]].Organs.Contains(names[l]);
        return new ImageDataset(1, imageSize, imageSize, names, pixels, labels,
            examOf.Select(e => $"E{e:D4}").ToArray(),
            examOf.Select(e => $"P{patientOfExam[e]:D4}").ToArray(),
            examOf.Select(e => patientSplit[patientOfExam[e]]).ToArray());
    }

    /// <summary>The exams of <paramref name="n"/> frames: exams of 6–16 frames (Dadoun et al. 2022 average 13), one
    /// patient in five coming back for a second exam. Each label set gets its share of n by largest remainders (so label
    /// frequencies match the paper's as closely as n allows); each exam draws a kind by its share and then its frames'
    /// label sets without replacement from what is left, a set the kind shows weighing 1 and any other
    /// <see cref="OffKindWeight"/> per remaining image.</summary>
    private static (int[] ExamOf, int[] CombinationOf, List<int> PatientOfExam) Exams(int n, SeededRandom rng)
    {
        var table = UltrasoundOrgans.Combinations;
        var left = Quotas(n);
        var kinds = UltrasoundOrgans.ExamKinds;
        var shows = kinds.Select(kind => table.Select(c => c.Organs.All(kind.Organs.Contains)).ToArray()).ToArray();
        var examOf = new int[n];
        var combinationOf = new int[n];
        var patientOfExam = new List<int>();
        for (int i = 0, exam = 0; i < n; exam++)
        {
            patientOfExam.Add(exam > 0 && rng.NextDouble() < 0.2 ? patientOfExam[^1] : (exam == 0 ? 0 : patientOfExam.Max() + 1));
            var kind = Draw(kinds.Select(k => k.Share).ToArray(), rng);
            var frames = Math.Min(n - i, 6 + rng.Next(11));
            for (var f = 0; f < frames; f++, i++)
            {
                var k = Draw([.. left.Select((count, c) => count * (shows[kind][c] ? 1 : OffKindWeight))], rng);
                left[k]--;
                examOf[i] = exam;
                combinationOf[i] = k;
            }
        }
        return (examOf, combinationOf, patientOfExam);
    }

    private static int[] Quotas(int n)
    {
        var table = UltrasoundOrgans.Combinations;
        var exact = table.Select(c => (double)c.Count * n / UltrasoundOrgans.TestSetImages).ToArray();
        var quota = exact.Select(e => (int)Math.Floor(e)).ToArray();
        foreach (var k in Enumerable.Range(0, table.Count).OrderByDescending(k => exact[k] - quota[k]).ThenBy(k => k).Take(n - quota.Sum()))
            quota[k]++;
        return quota;
    }

    private static int Draw(double[] weights, SeededRandom rng)
    {
        var u = rng.NextDouble() * weights.Sum();
        for (var k = 0; k < weights.Length; k++)
            if ((u -= weights[k]) < 0 && weights[k] > 0) return k;
        return Array.FindLastIndex(weights, w => w > 0);
    }

    // Patients in random order are dealt to the splits by their fractions (at least one patient per non-empty split).
    private static DataSplit[] SplitPatients(int patients, double[] fractions, SeededRandom rng)
    {
        DataSplit[] order = [DataSplit.Labelled, DataSplit.Unlabelled, DataSplit.Validation, DataSplit.Test];
        var counts = fractions.Select(f => f > 0 ? Math.Max(1, (int)Math.Round(f * patients)) : 0).ToArray();
        while (counts.Sum() > patients) counts[Array.IndexOf(counts, counts.Max())]--;
        counts[1] += patients - counts.Sum(); // the unlabelled pool takes any rounding remainder
        var perm = rng.Permutation(patients);
        var split = new DataSplit[patients];
        var at = 0;
        for (var s = 0; s < 4; s++)
            for (var k = 0; k < counts[s]; k++) split[perm[at++]] = order[s];
        return split;
    }
}

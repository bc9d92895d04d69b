namespace MedSsl.Data.Synthetic;

/// <summary>Abdominal-ultrasound-like multi-label exams shaped like Dadoun et al. (2022)'s data: grayscale frames grouped into
/// exams of patients, label sets following the test set's frequencies (<see cref="UltrasoundOrgans"/>), and
/// labelled / unlabelled / validation / test splits drawn by patient so no patient (hence no exam) is in two splits.</summary>
public static class SyntheticUltrasound
{
    /// <summary>Images for a profile: Quick 320 (well under a second), Full 4000.</summary>
    public static int DefaultCount(RunProfile profile) => profile == RunProfile.Quick ? 320 : 4000;

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
        var labelSets = LabelSets(n, rng);

        // Exams of 6–16 frames (Dadoun et al. 2022 average 13); one patient in five comes back for a second exam.
        var examOf = new int[n];
        var patientOfExam = new List<int>();
        var exam = -1;
        var left = 0;
        for (var i = 0; i < n; i++)
        {
            if (left == 0)
            {
                exam++;
                left = 6 + rng.Next(11);
                patientOfExam.Add(exam > 0 && rng.NextDouble() < 0.2 ? patientOfExam[^1] : (patientOfExam.Count == 0 ? 0 : patientOfExam.Max() + 1));
            }
            examOf[i] = exam;
            left--;
        }
        var patients = patientOfExam.Max() + 1;
        var examGain = Enumerable.Range(0, exam + 1).Select(_ => 0.85 + 0.3 * rng.NextDouble()).ToArray();
        var imageSeeds = Enumerable.Range(0, n).Select(_ => rng.Next(int.MaxValue)).ToArray();

        var patientSplit = SplitPatients(patients, splitFractions, rng);
        var pixels = new float[n * imageSize * imageSize];
        Parallel.For(0, n, i =>
        {
            var image = new UltrasoundRenderer(imageSize, imageSeeds[i], examGain[examOf[i]]).Render(labelSets[i]);
            image.CopyTo(pixels, i * imageSize * imageSize);
        });
        var names = UltrasoundOrgans.LabelNames;
        var labels = new bool[n * names.Count];
        for (var i = 0; i < n; i++)
            for (var l = 0; l < names.Count; l++) labels[i * names.Count + l] = labelSets[i].Contains(names[l]);
        return new ImageDataset(1, imageSize, imageSize, names, pixels, labels,
            examOf.Select(e => $"E{e:D4}").ToArray(),
            examOf.Select(e => $"P{patientOfExam[e]:D4}").ToArray(),
            examOf.Select(e => patientSplit[patientOfExam[e]]).ToArray());
    }

    // Each label set gets its share of n by largest remainders, so label frequencies match Dadoun et al. (2022)'s as closely as
    // n allows; the sets are then shuffled over the images.
    private static string[][] LabelSets(int n, SeededRandom rng)
    {
        var table = UltrasoundOrgans.Combinations;
        var exact = table.Select(c => (double)c.Count * n / UltrasoundOrgans.TestSetImages).ToArray();
        var quota = exact.Select(e => (int)Math.Floor(e)).ToArray();
        foreach (var k in Enumerable.Range(0, table.Count).OrderByDescending(k => exact[k] - quota[k]).ThenBy(k => k).Take(n - quota.Sum()))
            quota[k]++;
        var sets = new List<string[]>(n);
        for (var k = 0; k < table.Count; k++) sets.AddRange(Enumerable.Repeat(table[k].Organs, quota[k]));
        var array = sets.ToArray();
        rng.Shuffle(array);
        return array;
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

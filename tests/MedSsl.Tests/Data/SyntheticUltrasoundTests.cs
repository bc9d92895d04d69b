using MedSsl.Data;
using MedSsl.Data.Synthetic;

namespace MedSsl.Tests.Data;

public class SyntheticUltrasoundTests
{
    [Fact]
    public void CombinationTableReproducesThePapersTestSetCounts()
    {
        var totals = UltrasoundOrgans.LabelNames.ToDictionary(l => l, _ => 0);
        foreach (var (organs, count) in UltrasoundOrgans.Combinations)
            foreach (var o in organs) totals[o] += count;
        Assert.Equal(UltrasoundOrgans.TestSetCounts, totals);
        Assert.Equal(1242, UltrasoundOrgans.Combinations.Sum(c => c.Count));
        Assert.Equal(1566, totals.Values.Sum()); // n_labels in Tables 1–2
        Assert.All(UltrasoundOrgans.Combinations, c => Assert.True(!c.Organs.Contains("other") || c.Organs.Length == 1));
    }

    [Fact]
    public void LabelFrequenciesFollowThePaper()
    {
        var d = SyntheticUltrasound.Make(2484, seed: 1, imageSize: 16); // exactly twice the test set
        var counts = d.LabelCounts();
        for (var l = 0; l < d.LabelNames.Count; l++)
            Assert.Equal(2 * UltrasoundOrgans.TestSetCounts[d.LabelNames[l]], counts[l]);
        var quick = SyntheticUltrasound.Make(RunProfile.Quick);
        var qc = quick.LabelCounts();
        for (var l = 0; l < quick.LabelNames.Count; l++)
            Assert.InRange(qc[l], UltrasoundOrgans.TestSetCounts[quick.LabelNames[l]] * 320.0 / 1242 - 1, UltrasoundOrgans.TestSetCounts[quick.LabelNames[l]] * 320.0 / 1242 + 1);
    }

    [Fact]
    public void SplitsShareNoPatientOrExamAndAllAreUsed()
    {
        var d = SyntheticUltrasound.Make(RunProfile.Quick, seed: 2);
        var patientSplits = Enumerable.Range(0, d.Count).GroupBy(d.PatientId).Select(g => g.Select(d.Split).Distinct().Count());
        Assert.All(patientSplits, c => Assert.Equal(1, c));
        var examPatients = Enumerable.Range(0, d.Count).GroupBy(d.ExamId).Select(g => g.Select(d.PatientId).Distinct().Count());
        Assert.All(examPatients, c => Assert.Equal(1, c));
        foreach (var split in new[] { DataSplit.Labelled, DataSplit.Unlabelled, DataSplit.Validation, DataSplit.Test })
            Assert.NotEmpty(d.IndicesOf(split));
        Assert.Empty(d.IndicesOf(DataSplit.Unassigned));
        Assert.True(Enumerable.Range(0, d.Count).GroupBy(d.ExamId).Average(g => g.Count()) > 5); // exams group several frames
    }

    [Fact]
    public void DeterministicBySeedAndPixelsInTheUnitRange()
    {
        var a = SyntheticUltrasound.Make(40, seed: 3);
        var b = SyntheticUltrasound.Make(40, seed: 3);
        var c = SyntheticUltrasound.Make(40, seed: 4);
        Assert.True(a.Image(7).SequenceEqual(b.Image(7)));
        Assert.False(a.Image(7).SequenceEqual(c.Image(7)));
        for (var i = 0; i < a.Count; i++) Assert.All(a.Image(i).ToArray(), v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(0f, a.Image(0)[0]); // top-left corner lies outside the fan
    }

    [Theory]
    [InlineData(7)]
    [InlineData(9)]
    public void FramesOfOneExamAreMoreAlikeThanFramesOfDifferentExams(int seed)
    {
        // Frames showing the same label set, each averaged over 4×4 blocks (what is left is anatomy and look, not the
        // frame's own speckle): the mean squared difference of two frames of one exam against two frames of different
        // exams. Without exam structure both means estimate the same number.
        var d = SyntheticUltrasound.Make(1200, seed, imageSize: 32);
        var combos = LabelCombinations.Of(d);
        var blocks = Enumerable.Range(0, d.Count).Select(i =>
        {
            var x = d.Image(i).ToArray();
            return Enumerable.Range(0, 64).Select(b => Enumerable.Range(0, 16).Average(p => x[(b / 8 * 4 + p / 4) * 32 + b % 8 * 4 + p % 4])).ToArray();
        }).ToArray();
        double Distance(int a, int b) => Enumerable.Range(0, 64).Average(p => (blocks[a][p] - blocks[b][p]) * (blocks[a][p] - blocks[b][p]));
        var rng = new SeededRandom(1);
        var (within, between) = (new List<double>(), new List<double>());
        foreach (var g in Enumerable.Range(0, d.Count).GroupBy(i => combos.Assignments[i]))
        {
            var members = g.ToArray();
            foreach (var a in members)
                foreach (var b in members.Where(b => b > a))
                    if (d.ExamId(a) == d.ExamId(b)) within.Add(Distance(a, b));
                    else if (rng.NextDouble() < 0.05) between.Add(Distance(a, b));
        }
        Assert.True(within.Count > 300 && between.Count > 300, $"{within.Count} within-exam, {between.Count} between-exam pairs");
        Assert.True(within.Average() < 0.8 * between.Average(), $"within {within.Average():0.00000}, between {between.Average():0.00000}, ratio {within.Average() / between.Average():0.000}");
    }

    [Fact]
    public void AnExamShowsTheOrgansOfItsKindNotARandomDraw()
    {
        // How much the exam tells about a frame's label set (NMI of exam and combination), against the same data with
        // the label sets shuffled over the images (what the generator did before exams had a kind): well above all 20.
        var d = SyntheticUltrasound.Make(1242, seed: 8, imageSize: 16);
        var combos = LabelCombinations.Of(d).Assignments;
        var exams = Enumerable.Range(0, d.Count).Select(i => int.Parse(d.ExamId(i)[1..])).ToArray();
        var observed = MedSsl.Metrics.Clustering.Nmi(combos, exams);
        var rng = new SeededRandom(2);
        var shuffled = Enumerable.Range(0, 20).Select(_ =>
        {
            var c = combos.ToArray();
            rng.Shuffle(c);
            return MedSsl.Metrics.Clustering.Nmi(c, exams);
        }).ToList();
        Assert.True(observed > shuffled.Max() + 0.05, $"NMI(exam, label set) {observed:0.000}; shuffled at most {shuffled.Max():0.000}");
    }

    [Theory]
    [InlineData(1242, 11)]
    [InlineData(2484, 12)]
    public void EveryLabelSetKeepsItsShareWhateverTheExams(int n, int seed)
    {
        // Exams draw their frames' label sets without replacement from the quotas: the totals are the paper's for any seed.
        var d = SyntheticUltrasound.Make(n, seed, imageSize: 16);
        var combos = LabelCombinations.Of(d);
        foreach (var (organs, count) in UltrasoundOrgans.Combinations)
        {
            var k = Enumerable.Range(0, combos.K).Single(c => combos.Name(c) == string.Join('+', d.LabelNames.Where(organs.Contains)));
            Assert.Equal(count * n / UltrasoundOrgans.TestSetImages, combos.Counts[k]);
        }
    }

    [Fact]
    public void OrgansLookDifferent()
    {
        // A nearest-class-mean classifier on raw pixels must beat chance clearly for single-organ frames:
        // evidence the organs differ in intensity, texture and position, not a guarantee a CNN will learn them.
        var d = SyntheticUltrasound.Make(1200, seed: 5, imageSize: 32);
        var combos = LabelCombinations.Of(d);
        var single = Enumerable.Range(0, d.Count).Where(i => combos.Combinations[combos.Assignments[i]].Count(x => x) == 1).ToArray();
        var train = single.Where(i => d.Split(i) != DataSplit.Test).ToArray();
        var test = single.Where(i => d.Split(i) == DataSplit.Test).ToArray();
        var size = 32 * 32;
        var means = new Dictionary<int, double[]>();
        foreach (var g in train.GroupBy(i => combos.Assignments[i]))
        {
            var m = new double[size];
            foreach (var i in g) for (var p = 0; p < size; p++) m[p] += d.Image(i)[p] / g.Count();
            means[g.Key] = m;
        }
        var correct = test.Count(i => means.MinBy(kv => Enumerable.Range(0, size).Sum(p => Math.Pow(d.Image(i)[p] - kv.Value[p], 2))).Key == combos.Assignments[i]);
        Assert.True(correct > 0.6 * test.Length, $"{correct}/{test.Length}");
    }

    [Fact]
    public void LabelCombinationsAreDerivedFromTheData()
    {
        var d = SyntheticUltrasound.Make(1242, seed: 6, imageSize: 16);
        var combos = LabelCombinations.Of(d);
        Assert.Equal(UltrasoundOrgans.Combinations.Count, combos.K);
        Assert.Equal("other", combos.Name(0)); // 315, the most frequent set
        Assert.Equal(315, combos.Counts[0]);
        for (var i = 0; i < d.Count; i++)
            for (var l = 0; l < d.LabelNames.Count; l++) Assert.Equal(d.HasLabel(i, l), combos.Combinations[combos.Assignments[i]][l]);
    }

    [Fact]
    public void BatchGivesImagesAndLabelsAsTensors()
    {
        var d = SyntheticUltrasound.Make(20, seed: 1);
        var (images, labels) = d.Batch([3, 0, 5]);
        using (images)
        using (labels)
        {
            Assert.Equal(new long[] { 3, 1, 64, 64 }, images.shape);
            Assert.Equal(new long[] { 3, 7 }, labels.shape);
            var l = labels.data<float>().ToArray();
            for (var j = 0; j < 7; j++) Assert.Equal(d.HasLabel(0, j) ? 1f : 0f, l[7 + j]);
            Assert.Equal(d.Image(5)[2080], images.data<float>().ToArray()[2 * 4096 + 2080]);
        }
    }
}

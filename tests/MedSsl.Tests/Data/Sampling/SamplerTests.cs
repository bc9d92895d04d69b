using MedSsl.Data.Sampling;

namespace MedSsl.Tests.Data.Sampling;

public class SamplerTests
{
    [Fact]
    public void ExamBatchesHoldWholeExamsAndCoverEveryImageOncePerEpoch()
    {
        // 40 exams of 1–6 images, interleaved in the image list.
        var rng = new Random(3);
        var exams = Enumerable.Range(0, 40).SelectMany(e => Enumerable.Repeat($"exam{e}", rng.Next(1, 7))).OrderBy(_ => rng.Next()).ToArray();
        var sampler = new ExamBatchSampler(exams, examsPerBatch: 16, seed: 9);
        var batches = sampler.Epoch(0).ToList();
        Assert.Equal(3, batches.Count);   // 16 + 16 + 8 exams
        Assert.Equal(Enumerable.Range(0, exams.Length), batches.SelectMany(b => b).Order());
        foreach (var batch in batches)
        {
            var inBatch = batch.Select(i => exams[i]).Distinct().ToList();
            Assert.True(inBatch.Count <= 16);
            foreach (var exam in inBatch)   // every image of each exam present
                Assert.Equal(exams.Count(e => e == exam), batch.Count(i => exams[i] == exam));
        }
        Assert.Equal(batches, new ExamBatchSampler(exams, 16, 9).Epoch(0).ToList());
        Assert.NotEqual(batches, sampler.Epoch(1).ToList());
        Assert.NotEqual(batches, new ExamBatchSampler(exams, 16, 10).Epoch(0).ToList());
    }

    [Fact]
    public void ClassBalancedSamplerEqualisesImbalancedClasses()
    {
        // 90 % class 0, 9 % class 1, 1 % class 2.
        var labels = Enumerable.Range(0, 1000).Select(i => i < 900 ? 0 : i < 990 ? 1 : 2).ToArray();
        var draws = new ClassBalancedSampler(labels, seed: 4).NextBatch(30000);
        var counts = Enumerable.Range(0, 3).Select(c => draws.Count(i => labels[i] == c)).ToArray();
        // Binomial(30000, 1/3): sd ≈ 82, so ±500 is > 6 sd.
        Assert.All(counts, n => Assert.InRange(n, 9500, 10500));
        Assert.Equal(draws, new ClassBalancedSampler(labels, 4).NextBatch(30000));
        Assert.Equal(10, draws.Where(i => labels[i] == 2).Distinct().Count());   // the rare class's 10 images all used
    }

    [Fact]
    public void MultiLabelClassBalancedDrawsOnlyImagesOfTheClass()
    {
        var labels = new bool[6, 3];
        labels[0, 0] = labels[1, 0] = labels[2, 0] = labels[3, 0] = true;
        labels[4, 1] = labels[0, 1] = true;
        labels[5, 2] = true;
        var draws = new ClassBalancedSampler(labels, 1).NextBatch(9000);
        Assert.InRange(draws.Count(i => i == 5), 2700, 3300);   // class 2's only image: 1/3 of draws
        Assert.InRange(draws.Count(i => i == 4), 1250, 1750);   // half of class 1's draws
    }

    [Fact]
    public void LabelledUnlabelledStepsHaveRatioMuAndUseEveryIndexEqually()
    {
        var sampler = new LabelledUnlabelledSampler(labelledCount: 40, unlabelledCount: 700, batchSize: 8, mu: 7, seed: 2);
        var labelledUse = new int[40];
        var unlabelledUse = new int[700];
        for (var step = 0; step < 50; step++)   // 400 labelled = 10 passes, 2800 unlabelled = 4 passes
        {
            var (l, u) = sampler.NextStep();
            Assert.Equal(8, l.Length);
            Assert.Equal(56, u.Length);
            foreach (var i in l) labelledUse[i]++;
            foreach (var i in u) unlabelledUse[i]++;
        }
        Assert.All(labelledUse, n => Assert.Equal(10, n));
        Assert.All(unlabelledUse, n => Assert.Equal(4, n));
        var again = new LabelledUnlabelledSampler(40, 700, 8, 7, 2).NextStep();
        var first = new LabelledUnlabelledSampler(40, 700, 8, 7, 2).NextStep();
        Assert.Equal(first.Labelled, again.Labelled);
        Assert.Equal(first.Unlabelled, again.Unlabelled);
        Assert.NotEqual(first.Labelled, new LabelledUnlabelledSampler(40, 700, 8, 7, 3).NextStep().Labelled);
    }
}

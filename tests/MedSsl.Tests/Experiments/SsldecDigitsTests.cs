using MedSsl.Data;
using MedSsl.Experiments;

namespace MedSsl.Tests.Experiments;

/// <summary>The digits benchmark's data and protocol, by properties that hold for any seed: the stratified split and
/// the labelled subset, the rows and the claims' pairing (the digits loader itself: OnYourDataTests).</summary>
public class SsldecDigitsTests
{
    [Theory]
    [InlineData(1000)]
    [InlineData(42)]
    public void EachSeedDrawsAStratifiedTestSplitAndTenLabelsPerDigitFromTheRest(int seed)
    {
        var split = SsldecDigits.Draw(seed);
        var classes = split.ClassIndices();
        Assert.Equal(1797, split.Count);
        Assert.Equal((1, 8, 8), (split.Channels, split.Height, split.Width));
        Assert.DoesNotContain(DataSplit.Validation, Enumerable.Range(0, split.Count).Select(split.Split));
        foreach (var digit in Enumerable.Range(0, 10))
        {
            var ofDigit = Enumerable.Range(0, split.Count).Where(i => classes[i] == digit).ToArray();
            Assert.Equal(Math.Round(SsldecDigits.TestFraction * ofDigit.Length), ofDigit.Count(i => split.Split(i) == DataSplit.Test));
            Assert.Equal(SsldecDigits.LabelledPerClass, ofDigit.Count(i => split.Split(i) == DataSplit.Labelled));
        }
        // Every digit of the loader once; the training images first, the test images after them.
        Assert.Equal(Enumerable.Range(0, 1797).Select(i => $"digit-{i:D5}"), Enumerable.Range(0, split.Count).Select(split.ExamId).Order());
        var firstTest = split.IndicesOf(DataSplit.Test)[0];
        Assert.All(Enumerable.Range(firstTest, split.Count - firstTest), i => Assert.Equal(DataSplit.Test, split.Split(i)));
        // The same seed draws the same split; another seed another one.
        var again = SsldecDigits.Draw(seed);
        Assert.Equal(Enumerable.Range(0, split.Count).Select(split.ExamId), Enumerable.Range(0, again.Count).Select(again.ExamId));
        Assert.Equal(split.IndicesOf(DataSplit.Labelled), again.IndicesOf(DataSplit.Labelled));
        var other = SsldecDigits.Draw(seed + 1);
        Assert.NotEqual(split.IndicesOf(DataSplit.Test).Select(split.ExamId), other.IndicesOf(DataSplit.Test).Select(other.ExamId));
    }

    [Fact]
    public void TheQuickStudyHasEveryRowAndItsClaimsPairTheRowsOfEachSeed()
    {
        using var study = SsldecDigits.RunStudy(RunProfile.Quick);
        Assert.Equal(study.Seeds.Count * Enum.GetValues<DigitsModel>().Length, study.Rows.Count);
        Assert.All(study.Rows, r => Assert.InRange(r.Accuracy, 0.0, 1.0));
        Assert.All(study.Rows, r => Assert.InRange(r.KMeansNmi, 0.0, 1.0));
        // k-means on the pixels has no classifier: its accuracy is its matched clustering accuracy.
        Assert.All(study.Rows.Where(r => r.Model == DigitsModel.KMeansOnPixels), r => Assert.Equal(r.KMeansAccuracy, r.Accuracy));
        Assert.All(study.Claims.Results, c => Assert.Equal(study.Seeds.Count, c.Count));
        Assert.Equal(study.Mean(DigitsModel.Ssldec, r => r.Accuracy) - study.Mean(DigitsModel.Supervised, r => r.Accuracy), study.Claims.Results[0].Difference, 12);
        Assert.Equal(study.Mean(DigitsModel.Ssldec, r => r.KMeansNmi) - study.Mean(DigitsModel.Supervised, r => r.KMeansNmi), study.Claims.Results[2].Difference, 12);
        Assert.Equal(study.Example(DigitsModel.Ssldec).Test.Count, study.Example(DigitsModel.Ssldec).TestEmbedding().GetLength(0));
        Assert.Contains("Seed 7 is not one of this profile's seeds (1000–1002)",
            Assert.Throws<ArgumentException>(() => SsldecDigits.RunStudy(RunProfile.Quick, exampleSeed: 7)).Message);
    }
}

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
        var (train, test) = (split.TrainY.data<long>().ToArray(), split.TestY.data<long>().ToArray());
        Assert.Equal(1797, train.Length + test.Length);
        Assert.Equal([train.Length, 1, 8, 8], split.TrainX.shape);
        foreach (var digit in Enumerable.Range(0, 10))
        {
            var (inTrain, inTest) = (train.Count(d => d == digit), test.Count(d => d == digit));
            Assert.Equal(Math.Round(SsldecDigits.TestFraction * (inTrain + inTest)), inTest);
            Assert.Equal(SsldecDigits.LabelledPerClass, split.Labelled.Count(i => train[i] == digit));
        }
        Assert.Equal(split.Labelled.Distinct().Count(), split.Labelled.Length);
        // The same seed draws the same split; another seed another one.
        Assert.Equal(split.Labelled, SsldecDigits.Draw(seed).Labelled);
        var images = split.TestX.data<float>().ToArray();
        Assert.Equal(images, SsldecDigits.Draw(seed).TestX.data<float>().ToArray());
        Assert.NotEqual(images, SsldecDigits.Draw(seed + 1).TestX.data<float>().ToArray());
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
        Assert.Equal(study.Example(DigitsModel.Ssldec).Data.TestY.size(0), study.Example(DigitsModel.Ssldec).TestEmbedding().size(0));
        Assert.Throws<ArgumentException>(() => new DigitsProtocol(RunProfile.Quick, exampleSeed: 7));
    }
}

using MedSsl.Data;
using MedSsl.Data.Synthetic;
using TorchSharp;

namespace MedSsl.Tests.Data;

public class SyntheticChestXrayTests
{
    private static readonly ChestXrayData Small = SyntheticChestXray.Make(new ChestXraySizes(32, 40, 10, 40), seed: 3);

    [Fact]
    public void SetsAreDeterministicBalancedAndSized()
    {
        var again = SyntheticChestXray.Make(new ChestXraySizes(32, 40, 10, 40), seed: 3);
        Assert.Equal(Small.Classification.Images().data<float>().ToArray(), again.Classification.Images().data<float>().ToArray());
        Assert.Equal(Small.TestCrossDomain.Masks().data<float>().ToArray(), again.TestCrossDomain.Masks().data<float>().ToArray());
        Assert.NotEqual(Small.TestInDomain.Images().data<float>().ToArray(), SyntheticChestXray.Make(new ChestXraySizes(32, 40, 10, 40), seed: 4).TestInDomain.Images().data<float>().ToArray());
        Assert.Equal(20, Small.Classification.Classes.Count(c => c == 1));
        Assert.Equal([10L, 1, 32, 32], Small.Segmentation.Images().shape);
        Assert.Equal((XraySource.A, XraySource.A, XraySource.A, XraySource.B),
            (Small.Classification.Source, Small.Segmentation.Source, Small.TestInDomain.Source, Small.TestCrossDomain.Source));
        var images = Small.TestInDomain.Images();
        Assert.True(images.min().ToDouble() >= 0 && images.max().ToDouble() <= 1);
    }

    [Fact]
    public void EveryMaskHoldsTwoLungFields()
    {
        foreach (var set in new[] { Small.TestInDomain, Small.TestCrossDomain })
            for (var i = 0; i < set.Count; i++)
            {
                var mask = set.Mask(i);
                var left = Enumerable.Range(0, 32).Sum(y => Enumerable.Range(0, 16).Count(x => mask[y, x]));
                var right = Enumerable.Range(0, 32).Sum(y => Enumerable.Range(16, 16).Count(x => mask[y, x]));
                Assert.True(left > 40 && right > 30, $"image {i} of source {set.Source}: {left} and {right} lung pixels");
            }
    }

    [Fact]
    public void PneumoniaBrightensTheLungsAndSourceBShiftsTheIntensities()
    {
        double LungMean(ChestXraySet set, int cls) => Enumerable.Range(0, set.Count).Where(i => set.Classes[i] == cls).Average(i =>
        {
            var (image, mask) = (set.Image(i), set.Mask(i));
            return Enumerable.Range(0, 32 * 32).Where(p => mask[p / 32, p % 32]).Average(p => image[p / 32, p % 32]);
        });
        Assert.True(LungMean(Small.TestInDomain, 1) > LungMean(Small.TestInDomain, 0) + 0.01);
        var a = Small.TestInDomain.Images();
        var b = Small.TestCrossDomain.Images();
        Assert.True(b.mean().ToDouble() > a.mean().ToDouble() + 0.05, "source B is brighter");
    }
}

using MedSsl.Data;

namespace MedSsl.Tests.Data;

/// <summary>The committed data-samples folders load with the loaders their README names.</summary>
public class DataSamplesTests
{
    private static string Sample(string name) =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Fixture.Path("x"))!, "..", "..", "..", "..", "data-samples", name));

    [Theory]
    [InlineData("moons", "points-csv", 200, "2")]
    [InlineData("ultrasound", "png-folder", 48, "1x64x64")]
    [InlineData("lesions", "png-folder", 24, "3x32x32")]
    [InlineData("ct", "nifti-volumes", 2, "24x48x48")]
    [InlineData("mnist-idx", "mnist-idx", 100, "1x28x28")]
    public void EverySampleInspects(string folder, string format, int count, string shape)
    {
        var summary = DataInspector.Inspect(Sample(folder));
        Assert.Equal((format, count), (summary.Format, summary.Count));
        Assert.Equal([shape], summary.Shapes);
    }

    [Fact]
    public void TheLesionSampleHasAMaskForEveryImage()
    {
        var masks = DataInspector.Inspect(Sample("lesions")).Masks!;
        Assert.Equal((24, 2), (masks.Annotated, masks.ClassNames.Count));
        Assert.InRange(masks.PixelShares[1], 0.05, 0.4);   // one lesion of radius 0.18–0.3 of the side per image
    }

    [Fact]
    public void SamplesStaySmall()
    {
        var bytes = Directory.EnumerateFiles(Sample(""), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.True(bytes < 2_000_000, $"{bytes} bytes");
    }
}

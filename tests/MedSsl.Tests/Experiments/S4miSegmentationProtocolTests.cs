using MedSsl.Data;
using MedSsl.Experiments;
using MedSsl.Reports;
using static TorchSharp.torch;

namespace MedSsl.Tests.Experiments;

/// <summary>The segmentation protocol's pure parts, without training: which arms run at which fraction, which claims
/// each profile declares, and the image helpers its figures use, on hand values.</summary>
public class S4miSegmentationProtocolTests
{
    private static readonly string[] Methods = [S4miSegmentationProtocol.Supervised, S4miSegmentationProtocol.CrossTeaching, S4miSegmentationProtocol.CrossTeachingRamp];

    [Fact]
    public void The_workshop_grid_runs_supervised_everywhere_cross_teaching_below_100_percent_and_the_ablation_at_10_percent()
    {
        var grid = new S4miSegmentationProtocol(S4miSegmentationSettings.For(RunProfile.Workshop)).Grid;
        Assert.Equal(grid.Count, grid.Distinct().Count());
        Assert.Equal([0.1, 0.5, 1.0], grid.Where(s => s.Method == S4miSegmentationProtocol.Supervised).Select(s => s.LabelFraction));
        Assert.Equal([0.1, 0.5], grid.Where(s => s.Method == S4miSegmentationProtocol.CrossTeaching).Select(s => s.LabelFraction));
        Assert.Equal([0.1], grid.Where(s => s.Method == S4miSegmentationProtocol.CrossTeachingRamp).Select(s => s.LabelFraction));
        Assert.Equal(new SegmentationSetting(S4miSegmentationProtocol.Picie, 0), grid[^1]);
    }

    [Fact]
    public void The_full_grid_runs_every_arm_at_every_fraction()
    {
        var settings = S4miSegmentationSettings.For(RunProfile.Full);
        var grid = new S4miSegmentationProtocol(settings).Grid;
        Assert.Equal(settings.Fractions.Count * Methods.Length + 1, grid.Count);
        foreach (var method in Methods)
            Assert.Equal(settings.Fractions, grid.Where(s => s.Method == method).Select(s => s.LabelFraction));
    }

    [Fact]
    public void Every_claim_of_the_workshop_profile_names_arms_of_its_grid()
    {
        // One fabricated row per network of every arm of the grid and seed; every claim must find both of its arms in
        // every seed (a claim on an arm the grid leaves out would have no pairs).
        var protocol = new S4miSegmentationProtocol(S4miSegmentationSettings.For(RunProfile.Workshop));
        var rows = (from seed in protocol.Seeds.Seeds
                    from s in protocol.Grid
                    from network in s.Method == S4miSegmentationProtocol.Picie ? [S4miSegmentationProtocol.Cnn] : new[] { S4miSegmentationProtocol.Cnn, S4miSegmentationProtocol.Swin }
                    select new SegmentationRow(seed, s.Method, network, s.LabelFraction, 0.5 + 0.01 * (seed - 1000), 0.6, 0.5, 0.4)).ToList();
        var claims = ClaimTable.Evaluate(protocol.Claims, rows).Results;
        Assert.Contains(claims, c => c.Text.Contains("cross-teaching with 50 %"));
        Assert.All(claims, c => Assert.Equal(5, c.Count));
    }

    [Fact]
    public void Luminance_and_plane_copy_hand_values()
    {
        using var rgb = tensor(new float[] { 1, 0, 0, 0, /* G */ 0, 1, 0, 0, /* B */ 0, 0, 1, 0 }).view(1, 3, 2, 2);
        var grey = Charts.Plane(S4miFigures.Luminance(rgb)[0]);
        Assert.Equal(new float[,] { { 0.299f, 0.587f }, { 0.114f, 0 } }, grey);
        using var map = tensor(new float[] { 1, 4, 2, 0 }).view(2, 2);
        Assert.Equal(new float[,] { { 0.25f, 1 }, { 0.5f, 0 } }, S4miFigures.Scaled(map));
    }
}

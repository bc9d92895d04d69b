using MedSsl.Data;
using MedSsl.Experiments;
using MedSsl.Reports;
using MedSsl.Methods;
using TorchSharp;

namespace MedSsl.Tests.Experiments;

/// <summary>MultiMix's protocol without training: its grids, that every claim finds its pairs among the rows the grid
/// produces, and the saliency-on-lungs measure on hand values.</summary>
public class MultiMixProtocolTests
{
    private static MultiMixProtocol Protocol(RunProfile profile) => new(MultiMixSettings.For(profile), SeedPlan.FirstFresh);

    [Theory]
    [InlineData(RunProfile.Quick, 8)]       // 7 models at (4, 20) + Enc with all 400 labels
    [InlineData(RunProfile.Workshop, 12)]   // + U-Net at 12 and 40 masks, Enc at 80 and 400 labels, MultiMix at (12, 80)
    [InlineData(RunProfile.Full, 44)]       // U-Net 3 + Enc 3 + Enc-SSL 2 (not with all labels) + 4 multi-task models × 9 pairs
    public void The_grid_has_every_model_at_the_fewest_counts_and_no_duplicate(RunProfile profile, int count)
    {
        var protocol = Protocol(profile);
        var grid = protocol.Grid;
        Assert.True(count == grid.Count, $"{grid.Count} settings: {string.Join("; ", grid)}");
        Assert.Equal(grid.Count, grid.Distinct().Count());
        Assert.Equal(Enum.GetValues<MultiMixModel>(), grid.Where(protocol.IsFewest).Select(s => s.Model).Distinct().Order());
        Assert.All(grid.Where(s => s.Model == MultiMixModel.UNet), s => Assert.Equal(0, s.Labels));
        Assert.All(grid.Where(s => s.Model is MultiMixModel.Enc or MultiMixModel.EncSsl), s => Assert.Equal(0, s.Masks));
        Assert.All(grid.Where(s => s.Model is not (MultiMixModel.UNet or MultiMixModel.Enc or MultiMixModel.EncSsl)), s => Assert.True(s.Masks > 0 && s.Labels > 0));
    }

    [Theory]
    [InlineData(RunProfile.Quick)]
    [InlineData(RunProfile.Workshop)]
    [InlineData(RunProfile.Full)]
    public void Every_claim_pairs_the_rows_of_every_seed(RunProfile profile)
    {
        // Fabricated rows: MultiMix 0.1 above every other model on every measure, the seed adding a little noise.
        var protocol = Protocol(profile);
        int[] seeds = [1000, 1001, 1002];
        var rows = (from seed in seeds
                    from s in protocol.Grid
                    from domain in MultiMixRuns.Domains
                    let v = (s.Model == MultiMixModel.MultiMix ? 0.8 : 0.7) + 0.001 * (seed - 1000) * (1 + (int)s.Model)
                    select new MultiMixRow(MultiMixRuns.Name(s.Model), s.Masks, s.Labels, domain, seed,
                        v, v, v, v, v, v, v, v, v, v, v, v, v, v)).ToList();
        var claims = ClaimTable.Evaluate(protocol.Claims, rows).Results;
        Assert.Equal(11, claims.Count);
        Assert.All(claims, c => Assert.Equal(seeds.Length, c.Count));
        Assert.All(claims.Where(c => c.Text.StartsWith("MultiMix")), c => Assert.Equal(Verdict.Supported, c.Verdict));
    }

    [Fact]
    public void Saliency_on_lungs_is_the_mass_share_over_the_area_share()
    {
        // One 2 × 2 image whose lung is its top-left pixel (a quarter of the area): 3 of 4 units of saliency there is
        // 3× the even share; an even map is 1×.
        using var lung = torch.tensor(new float[] { 1, 0, 0, 0 }, 1, 1, 2, 2);
        using var concentrated = torch.tensor(new float[] { 3, 1, 0, 0 }, 1, 1, 2, 2);
        using var even = torch.ones(1, 1, 2, 2);
        Assert.Equal(3, Saliency.MeanConcentrationOnMask(concentrated, lung), 6);
        Assert.Equal(1, Saliency.MeanConcentrationOnMask(even, lung), 6);
        // Two images: the mean of their ratios (3 and 1).
        using var both = torch.cat([concentrated, even]);
        using var lungs = torch.cat([lung, lung]);
        Assert.Equal(2, Saliency.MeanConcentrationOnMask(both, lungs), 6);
    }

    [Fact]
    public void The_example_seed_must_be_one_of_the_plan()
    {
        var error = Assert.Throws<ArgumentException>(() => MultiMixStudy.RunStudy(MultiMixSettings.For(RunProfile.Quick), 0));
        Assert.Contains("Seed 0 is not one of this profile's seeds (1000–1001)", error.Message);
    }
}

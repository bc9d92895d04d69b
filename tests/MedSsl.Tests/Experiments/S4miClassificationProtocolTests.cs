using MedSsl.Data;
using MedSsl.Experiments;

namespace MedSsl.Tests.Experiments;

/// <summary>The classification protocol's pure parts, without training: the grid, the claims' pairing on fabricated
/// rows, and the example seed's check.</summary>
public class S4miClassificationProtocolTests
{
    private static readonly S4miClassificationSettings Settings = new() { Seeds = SeedPlan.Evaluation(3) };

    [Fact]
    public void The_grid_is_the_floor_then_every_backbone_method_and_fraction_once()
    {
        var grid = new S4miClassificationProtocol(Settings, 1000).Grid;
        Assert.Equal(1 + 2 * 3 * 2, grid.Count);
        Assert.Equal(S4miClassificationProtocol.Floor, grid[0].Method);
        Assert.Equal(grid.Count, grid.Distinct().Count());
    }

    [Fact]
    public void Each_claim_pairs_the_arms_it_names_by_seed()
    {
        // Fabricated rows: F1 = 0.5 + 0.1·(method index) + 0.01·(backbone index) + 0.2·fraction + 0.001·seed offset,
        // so every paired difference is known exactly and the same for every seed.
        var methods = new[] { "supervised", "dino", "cass" };
        var rows = new List<S4miClassificationRow>();
        foreach (var seed in Settings.Seeds.Seeds)
        {
            rows.Add(new("none", S4miClassificationProtocol.Floor, 0, seed, 0.4, double.NaN, double.NaN, double.NaN, double.NaN));
            foreach (var (backbone, b) in new[] { ("cnn", 0), ("vit", 1) })
                for (var m = 0; m < methods.Length; m++)
                    foreach (var fraction in new[] { 0.1, 1.0 })
                        rows.Add(new(backbone, methods[m], fraction, seed, 0.5 + 0.1 * m + 0.01 * b + 0.2 * fraction + 0.001 * (seed - 1000),
                            0.3 + 0.05 * m, 1, double.NaN, double.NaN));
        }
        var claims = ClaimTable.Evaluate(new S4miClassificationProtocol(Settings, 1000).Claims, rows).Results;
        Assert.Equal(14, claims.Count);
        Assert.All(claims, c => Assert.Equal(3, c.Count));
        ClaimResult Find(string start) => Assert.Single(claims, c => c.Text.StartsWith(start, StringComparison.Ordinal));
        Assert.Equal(0.1, Find("DINO pre-training beats random initialisation at 10 % labels (CNN)").Difference, 12);
        Assert.Equal(0.2, Find("CASS pre-training beats random initialisation at 10 % labels (ViT)").Difference, 12);
        Assert.Equal(0.1, Find("CASS beats DINO (ViT, 100 % labels)").Difference, 12);
        Assert.Equal(0.05, Find("CASS's saliency lies more on the lesion than DINO's (CNN").Difference, 12);
        Assert.Equal(0.2 * 0.9, Find("100 % of the labels beats 10 % (random init, CNN)").Difference, 12);
        // The floor is the same for every seed, the arm is not: the mean seed offset is 0.001.
        Assert.Equal(0.5 + 0.01 + 0.02 + 0.001 - 0.4, Find("Random init with 10 % labels beats calling every finding present (ViT)").Difference, 12);
        Assert.All(claims, c => Assert.Equal(Verdict.Supported, c.Verdict));
        // The paper's Dermatomyositis column: CASS − DINO for the ResNet at 10 % is 0.8158 − 0.8237.
        Assert.Equal(0.8158 - 0.8237, Find("CASS beats DINO (CNN, 10 % labels)").PaperDifference!.Value, 12);
    }

    [Fact]
    public void The_example_seed_must_be_one_of_the_plan()
    {
        var error = Assert.Throws<ArgumentException>(() => S4miClassification.RunStudy(RunProfile.Quick, exampleSeed: 0, Settings));
        Assert.Equal("seed", error.ParamName);
        Assert.StartsWith("Seed 0 is not one of this profile's seeds (1000–1002)", error.Message);
    }
}

using MedSsl.Data;
using MedSsl.Experiments;
using MedSsl.Metrics;

namespace MedSsl.Tests.Experiments;

/// <summary>The deep-clustering protocol's claims and helpers on fabricated rows: no training, milliseconds.</summary>
public class PicaStudyTests
{
    private static readonly double[] Noise = [0.01, -0.02, 0.0, 0.015, -0.005];
    private static readonly PicaSettings Grid = PicaSettings.For(RunProfile.Quick) with { Lambdas = [0.5, 2, 10], Epsilons = [0.01, 0.1, 1] };

    private static PicaRow Row(string loss, double lambda, double epsilon, int seed, double f1, double softToUniform, double hardToUniform, double softToTrue, double hardToTrue) =>
        new(loss, lambda, epsilon, seed, f1, 0, 0, 0, 0, 10, 0.2, hardToTrue, hardToUniform, softToTrue, softToUniform);

    // Five seeds: PICA's F1 falls with λ (±0.05 around λ = 2) and moves with the seed; L_SD's F1 is 0.05 higher, flat in λ
    // and moves half as much. PICA's soft mass is 0.1 closer to uniform and moves towards it with λ; its partition is 0.1
    // further from uniform. L_SD's soft mass is closer to uniform at ε = 1 than at ε = 0.01.
    private static List<PicaRow> Rows() =>
    [
        .. Enumerable.Range(0, 5).SelectMany(s => new[]
        {
            Row("pica", 0.5, 0, s, 0.65 + Noise[s], 0.07 + 0.001 * s, 0.3, 0.30, 0.25),
            Row("pica", 2, 0, s, 0.60 + Noise[s], 0.05 + 0.001 * s, 0.3, 0.30, 0.25),
            Row("pica", 10, 0, s, 0.55 + Noise[s], 0.03 + 0.001 * s, 0.3, 0.30, 0.25),
            Row("lsd", 0.5, 0.1, s, 0.65 + Noise[s] / 2, 0.15, 0.2, 0.2 + 0.01 * s, 0.25),
            Row("lsd", 2, 0.1, s, 0.65 + Noise[s] / 2, 0.15 + 0.002 * s, 0.2, 0.2 + 0.01 * s, 0.25 + Noise[s]),
            Row("lsd", 10, 0.1, s, 0.65 + Noise[s] / 2, 0.15, 0.2, 0.2 + 0.01 * s, 0.25),
            Row("lsd", 2, 0.01, s, 0.65, 0.2 + 0.003 * s, 0.2, 0.2, 0.25),
            Row("lsd", 2, 1, s, 0.65, 0.1, 0.2, 0.2, 0.25),
        }),
    ];

    [Fact]
    public void EachClaimPairsOneRowPerSeedAndComputesTheDifferenceByHand()
    {
        var rows = Rows();
        var claims = ClaimTable.Evaluate(PicaProtocol.ClaimsOf(rows, Grid), rows).Results.ToDictionary(c => c.Text);
        Assert.Equal(10, claims.Count);
        Assert.All(claims.Values, c => Assert.Equal(5, c.Count));
        ClaimResult Claim(string start) => claims.Values.Single(c => c.Text.StartsWith(start, StringComparison.Ordinal));

        // Table 1: L_SD − PICA = 0.05 − noise/2, mean 0.05 (the noise sums to 0).
        var f1 = Claim("L_SD's weighted F1");
        Assert.Equal(0.05, f1.Difference, 12);
        Assert.Equal(Verdict.Supported, f1.Verdict);
        Assert.Equal(0.6473 - 0.6038, f1.PaperDifference!.Value, 12);
        // Best − value over seeds: PICA's best is seed 3 (+0.015), so its shortfalls are 0.015 − noise; L_SD's are half.
        var gap = Claim("L_SD's best − mean gap");
        Assert.Equal(Noise.Average(e => (0.015 - e) / 2 - (0.015 - e)), gap.Difference, 12);
        Assert.All(Noise.Zip(gap.Pairs), p => Assert.Equal(-(0.015 - p.First) / 2, p.Second.Difference, 12));
        // The mechanism at λ = 2.
        Assert.Equal(Verdict.Supported, Claim("PICA's soft cluster mass is closer to uniform").Verdict);
        Assert.Equal(-0.1 - 0.001 * 2, Claim("PICA's soft cluster mass is closer to uniform").Difference, 12);
        Assert.Equal(Verdict.Contradicted, Claim("PICA's partition is closer to uniform").Verdict);
        Assert.Equal(Verdict.Supported, Claim("L_SD's soft cluster mass is closer to the true").Verdict);
        Assert.Equal(0.0, Claim("L_SD's partition is closer to the true").Difference, 12);
        Assert.Equal(Verdict.Inconclusive, Claim("L_SD's partition is closer to the true").Verdict);
        // Fig. 5, per seed over λ: PICA's F1 spans 0.1, L_SD's none; medians 0.65 + noise/2 against 0.60 + noise.
        Assert.Equal(-0.1, Claim("L_SD's F1 varies less over λ").Difference, 12);
        Assert.Equal(0.05, Claim("L_SD's median F1 over λ").Difference, 12);
        Assert.Equal(-0.04, Claim("A larger λ pulls PICA's soft mass").Difference, 12);
        Assert.Equal(Noise.Select((_, s) => 0.1 - (0.2 + 0.003 * s)).Average(), Claim("A larger ε pulls L_SD's soft mass").Difference, 12);
    }

    [Fact]
    public void WithoutASweepTheSweepClaimsAreNotDeclared()
    {
        var single = Grid with { Lambdas = [2], Epsilons = [0.1] };
        Assert.Equal(6, PicaProtocol.ClaimsOf([], single).Count());
    }

    [Fact]
    public void TheMedianOverLambdaIsTheMiddleValueOrTheMeanOfTheMiddleTwo()
    {
        Assert.Equal(0.62, Descriptive.Median([0.65, 0.58, 0.61, 0.64, 0.62]), 12);
        Assert.Equal(0.625, Descriptive.Median([0.65, 0.58, 0.61, 0.64]), 12);
        Assert.Throws<ArgumentException>(() => Descriptive.Median([]));
    }

    [Fact]
    public void SizesAgainstUniformAreTheirTotalVariationFromEqualShares()
    {
        // Sizes (0.4, 0.3, 0.2, 0.1) against 1/4 each: ½(0.15 + 0.05 + 0.05 + 0.15).
        Assert.Equal(0.2, ClusterSizes.SortedDistance([0.1, 0.4, 0.2, 0.3], [1, 1, 1, 1]), 12);
        // One cluster taking everything is 1 − 1/K from uniform.
        Assert.Equal(0.9, ClusterSizes.SortedDistance(ClusterSizes.SortedFractions([3, 3, 3], 10), Enumerable.Repeat(1.0, 10).ToArray()), 12);
    }

    [Fact]
    public void TheExampleSeedMustBeAnEvaluatedSeed()
    {
        var error = Assert.Throws<ArgumentException>(() => PicaStudy.RunStudy(RunProfile.Quick, exampleSeed: 0));
        Assert.Contains("Seed 0 is not one of this profile's seeds (1000–1001)", error.Message);
    }
}

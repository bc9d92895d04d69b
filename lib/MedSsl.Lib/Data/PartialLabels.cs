namespace MedSsl.Data;

/// <summary>The partially labelled setting of Petit et al. (2021, §4.1.2): for each organ independently, a proportion α of the volumes keeps
/// that organ's annotation. Each organ ranks the volumes once by a seeded permutation and α keeps the first
/// round(α·N), so the labelled sets are nested: D(10 %) ⊂ D(30 %) ⊂ D(50 %) ⊂ D(70 %) (§4.1).</summary>
public static class PartialLabels
{
    /// <summary>annotated[v, k]: whether organ k is annotated in volume v at proportion α.</summary>
    public static bool[,] Nested(int volumes, int organs, double alpha, int seed = 0)
    {
        if (alpha is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(alpha), "α is a proportion in [0, 1]");
        var rng = new SeededRandom(seed);
        var keep = (int)Math.Round(alpha * volumes, MidpointRounding.AwayFromZero);
        var annotated = new bool[volumes, organs];
        for (var k = 0; k < organs; k++)
        {
            var order = rng.Permutation(volumes); // drawn for every organ whatever α is, so ranks do not depend on α
            for (var r = 0; r < keep; r++) annotated[order[r], k] = true;
        }
        return annotated;
    }
}

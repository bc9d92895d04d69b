namespace MedSsl.Data;

/// <summary>The distinct label sets of a multi-label dataset, most frequent first: the K classes of the
/// single-label view that Dadoun et al. (2022)'s K-cluster clustering uses (e.g. "liver+gallbladder" is one class).</summary>
public sealed class LabelCombinations
{
    /// <summary>Each distinct combination, as one bool per label.</summary>
    public IReadOnlyList<bool[]> Combinations { get; }

    /// <summary>How many items carry each combination.</summary>
    public IReadOnlyList<int> Counts { get; }

    /// <summary>For every item, the index of its combination in <see cref="Combinations"/>.</summary>
    public int[] Assignments { get; }

    private readonly IReadOnlyList<string> _labelNames;

    public int K => Combinations.Count;

    private LabelCombinations(IReadOnlyList<string> labelNames, List<bool[]> combinations, List<int> counts, int[] assignments)
    {
        _labelNames = labelNames;
        Combinations = combinations;
        Counts = counts;
        Assignments = assignments;
    }

    /// <summary>The combinations found in <paramref name="data"/>; ties in frequency are broken by the
    /// combination's name so the order is deterministic.</summary>
    public static LabelCombinations Of(IImageDataset data)
    {
        var l = data.LabelNames.Count;
        var keys = new string[data.Count];
        for (var i = 0; i < data.Count; i++)
            keys[i] = new string(Enumerable.Range(0, l).Select(j => data.HasLabel(i, j) ? '1' : '0').ToArray());
        var order = keys.GroupBy(k => k)
            .Select(g => (Key: g.Key, Count: g.Count()))
            .OrderByDescending(g => g.Count)
            .ThenBy(g => NameOf(data.LabelNames, g.Key), StringComparer.Ordinal)
            .ToList();
        var index = order.Select((g, k) => (g.Key, k)).ToDictionary(p => p.Key, p => p.k);
        return new LabelCombinations(data.LabelNames,
            order.Select(g => g.Key.Select(c => c == '1').ToArray()).ToList(),
            order.Select(g => g.Count).ToList(),
            keys.Select(k => index[k]).ToArray());
    }

    /// <summary>The combinations of <paramref name="data"/> (as <see cref="Of"/>) followed by every single-label set
    /// {c} that none of its items carries (count 0), so that a softmax head over the combinations has an output for every
    /// class even when a class has no labelled image.</summary>
    public static LabelCombinations WithSingles(IImageDataset data)
    {
        var seen = Of(data);
        var combinations = seen.Combinations.ToList();
        var counts = seen.Counts.ToList();
        for (var c = 0; c < data.LabelNames.Count; c++)
        {
            var single = Enumerable.Range(0, data.LabelNames.Count).Select(j => j == c).ToArray();
            if (combinations.Any(k => k.SequenceEqual(single))) continue;
            combinations.Add(single);
            counts.Add(0);
        }
        return new LabelCombinations(data.LabelNames, combinations, counts, seen.Assignments);
    }

    /// <summary>A readable name: the labels joined by '+', or "(none)".</summary>
    public string Name(int combination) =>
        NameOf(_labelNames, new string(Combinations[combination].Select(b => b ? '1' : '0').ToArray()));

    private static string NameOf(IReadOnlyList<string> names, string key)
    {
        var parts = names.Where((_, j) => key[j] == '1').ToArray();
        return parts.Length == 0 ? "(none)" : string.Join('+', parts);
    }
}

namespace MedSsl.Data;

/// <summary>Chooses the few labelled examples of a semi-supervised experiment.</summary>
public static class LabelledPicker
{
    /// <summary>k indices of each class, drawn without replacement with the seed; the result is sorted.
    /// Throws when a class has fewer than k members (the experiment would silently be a different one).</summary>
    public static int[] PerClass(IReadOnlyList<int> classes, int k, int seed = 0)
    {
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k));
        var rng = new SeededRandom(seed);
        var picked = new List<int>();
        foreach (var group in classes.Select((c, i) => (c, i)).GroupBy(p => p.c).OrderBy(g => g.Key))
        {
            var members = group.Select(p => p.i).ToArray();
            if (members.Length < k)
                throw new ArgumentException($"class {group.Key} has {members.Length} items, fewer than k = {k}");
            rng.Shuffle(members);
            picked.AddRange(members.Take(k));
        }
        picked.Sort();
        return picked.ToArray();
    }

    /// <summary>The complement of <paramref name="labelled"/> in 0 .. n−1: the unlabelled pool.</summary>
    public static int[] Rest(int n, IEnumerable<int> labelled)
    {
        var set = new HashSet<int>(labelled);
        return Enumerable.Range(0, n).Where(i => !set.Contains(i)).ToArray();
    }
}

namespace MedSsl.Data.Sampling;

/// <summary>An endless walk through seeded permutations of [0, n), reshuffled at every pass, so every index is used
/// equally often. Pass p draws the permutation of stream <c>side + sides·p</c>, so up to <paramref name="sides"/>
/// cycles of one seed (labelled, unlabelled, …) never share a permutation.</summary>
public sealed class IndexCycle(int n, int seed, ulong side, ulong sides = 2)
{
    private int[] order = [];
    private int position;
    private ulong pass;

    public int Count { get; } = n >= 1 ? n : throw new ArgumentOutOfRangeException(nameof(n), n, "a cycle needs at least one index");

    public int[] Take(int count)
    {
        var result = new int[count];
        for (var i = 0; i < count; i++)
        {
            if (position == order.Length)
            {
                order = SeededRandom.Permutation(Count, seed, side + sides * pass++);
                position = 0;
            }
            result[i] = order[position++];
        }
        return result;
    }
}

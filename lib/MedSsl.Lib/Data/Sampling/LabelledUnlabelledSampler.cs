namespace MedSsl.Data.Sampling;

/// <summary>One training step's indices for semi-supervised methods: B labelled and μ·B unlabelled
/// (FixMatch's uratio μ = 7). Each side walks through seeded permutations of its pool, reshuffled at every
/// pass, so every index is used equally often and the labelled pool may be far smaller than the unlabelled.</summary>
public sealed class LabelledUnlabelledSampler
{
    private readonly Cycle labelled, unlabelled;

    public int BatchSize { get; }
    public int Mu { get; }

    public LabelledUnlabelledSampler(int labelledCount, int unlabelledCount, int batchSize, int mu, int seed)
    {
        if (labelledCount < 1 || unlabelledCount < 1)
            throw new ArgumentException($"need labelled and unlabelled images (got {labelledCount} and {unlabelledCount})");
        if (batchSize < 1 || mu < 0)
            throw new ArgumentException($"need batch size ≥ 1 and μ ≥ 0 (got {batchSize} and {mu})");
        BatchSize = batchSize;
        Mu = mu;
        labelled = new Cycle(labelledCount, seed, 0);
        unlabelled = new Cycle(unlabelledCount, seed, 1);
    }

    /// <summary>Indices into the labelled pool (B) and into the unlabelled pool (μB).</summary>
    public (int[] Labelled, int[] Unlabelled) NextStep() => (labelled.Take(BatchSize), unlabelled.Take(Mu * BatchSize));

    /// <summary>An endless walk through reshuffled permutations of [0, n).</summary>
    private sealed class Cycle(int n, int seed, ulong side)
    {
        private int[] order = [];
        private int position;
        private ulong pass;

        public int[] Take(int count)
        {
            var result = new int[count];
            for (var i = 0; i < count; i++)
            {
                if (position == order.Length)
                {
                    order = SeededRandom.Permutation(n, seed, side + 2 * pass++);
                    position = 0;
                }
                result[i] = order[position++];
            }
            return result;
        }
    }
}

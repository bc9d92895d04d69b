namespace MedSsl.Data.Sampling;

/// <summary>One training step's indices for semi-supervised methods: B labelled and μ·B unlabelled
/// (FixMatch's uratio μ = 7). Each side is an <see cref="IndexCycle"/> over its pool, so every index is used
/// equally often and the labelled pool may be far smaller than the unlabelled.</summary>
public sealed class LabelledUnlabelledSampler
{
    private readonly IndexCycle labelled, unlabelled;

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
        labelled = new IndexCycle(labelledCount, seed, 0);
        unlabelled = new IndexCycle(unlabelledCount, seed, 1);
    }

    /// <summary>Indices into the labelled pool (B) and into the unlabelled pool (μB).</summary>
    public (int[] Labelled, int[] Unlabelled) NextStep() => (labelled.Take(BatchSize), unlabelled.Take(Mu * BatchSize));
}

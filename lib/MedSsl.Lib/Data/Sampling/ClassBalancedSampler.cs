namespace MedSsl.Data.Sampling;

/// <summary>Draws indices so that every class is equally likely: a class uniformly at random, then an image
/// carrying that label uniformly at random (with replacement). For multi-label data an image with several
/// labels can be reached through each of them. Seeded: the same seed gives the same stream.</summary>
public sealed class ClassBalancedSampler
{
    private readonly int[][] imagesOfClass;
    private readonly SeededRandom rng;

    /// <param name="labels">[images, classes] label matrix; classes with no image are skipped</param>
    public ClassBalancedSampler(bool[,] labels, int seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        int n = labels.GetLength(0), k = labels.GetLength(1);
        imagesOfClass = Enumerable.Range(0, k)
            .Select(c => Enumerable.Range(0, n).Where(i => labels[i, c]).ToArray())
            .Where(images => images.Length > 0).ToArray();
        if (imagesOfClass.Length == 0) throw new ArgumentException("no image carries any label", nameof(labels));
        rng = new SeededRandom(seed);
    }

    /// <summary>Single-label data: class index per image.</summary>
    public ClassBalancedSampler(IReadOnlyList<int> labels, int seed) : this(OneHot(labels), seed) { }

    public int ClassCount => imagesOfClass.Length;

    public int[] NextBatch(int batchSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be positive");
        var batch = new int[batchSize];
        for (var b = 0; b < batchSize; b++)
        {
            var images = imagesOfClass[rng.Next(imagesOfClass.Length)];
            batch[b] = images[rng.Next(images.Length)];
        }
        return batch;
    }

    private static bool[,] OneHot(IReadOnlyList<int> labels)
    {
        if (labels.Any(l => l < 0)) throw new ArgumentException("class labels must be non-negative", nameof(labels));
        var m = new bool[labels.Count, labels.Count == 0 ? 0 : labels.Max() + 1];
        for (var i = 0; i < labels.Count; i++) m[i, labels[i]] = true;
        return m;
    }
}

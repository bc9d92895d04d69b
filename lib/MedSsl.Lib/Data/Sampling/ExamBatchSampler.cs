namespace MedSsl.Data.Sampling;

/// <summary>Batches of image indices grouped by exam: each batch holds every image of
/// <see cref="ExamsPerBatch"/> exams, so that nearly all organs show up in a batch (Dadoun et al. 2022, §4: "sample a
/// subset t of exams, instead of sampling a set of images"; 16 exams per unlabelled batch). Each epoch visits
/// every exam once, in an order drawn from the seed and the epoch number.</summary>
public sealed class ExamBatchSampler
{
    private readonly int[][] imagesOfExam;
    private readonly int seed;

    public int ExamsPerBatch { get; }
    public int ExamCount => imagesOfExam.Length;

    /// <param name="examIds">the exam of each image (index i = image i); any comparable key</param>
    public ExamBatchSampler(IReadOnlyList<string> examIds, int examsPerBatch, int seed)
    {
        ArgumentNullException.ThrowIfNull(examIds);
        if (examIds.Count == 0) throw new ArgumentException("no images to sample", nameof(examIds));
        if (examsPerBatch < 1) throw new ArgumentOutOfRangeException(nameof(examsPerBatch), examsPerBatch, "at least one exam per batch");
        // Exams in order of first appearance, images in index order: the grouping itself is deterministic.
        imagesOfExam = examIds.Select((exam, image) => (exam, image)).GroupBy(p => p.exam, StringComparer.Ordinal)
            .Select(g => g.Select(p => p.image).ToArray()).ToArray();
        ExamsPerBatch = examsPerBatch;
        this.seed = seed;
    }

    /// <summary>The batches of one epoch; the last one may hold fewer exams.</summary>
    public IEnumerable<int[]> Epoch(int epoch)
    {
        var order = SeededRandom.Permutation(ExamCount, seed, (ulong)epoch);
        for (var start = 0; start < order.Length; start += ExamsPerBatch)
            yield return order.Skip(start).Take(ExamsPerBatch).SelectMany(e => imagesOfExam[e]).ToArray();
    }

    /// <summary>Batches of epoch 0, 1, 2, … without end: the batch stream of a training that counts steps, not epochs.</summary>
    public IEnumerable<int[]> Endless()
    {
        for (var epoch = 0; ; epoch++)
            foreach (var batch in Epoch(epoch)) yield return batch;
    }
}

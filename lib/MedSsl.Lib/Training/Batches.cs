using MedSsl.Data.Augmentation;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Training;

/// <summary>A mini-batch of inputs and their targets (labels, one-hot vectors or soft target distributions).</summary>
public sealed record TensorBatch(Tensor Inputs, Tensor Targets);

/// <summary>One semi-supervised step's batch: B weakly augmented labelled images with their labels, and μB unlabelled
/// images in a weak and a strong view (FixMatch's inputs; Sohn et al. 2020, §2.2–2.3).</summary>
public sealed record SemiSupervisedBatch(Tensor Labelled, Tensor Labels, Tensor UnlabelledWeak, Tensor UnlabelledStrong);

/// <summary>Batch sources for <see cref="Trainer.Run{TBatch}"/>.</summary>
public static class Batches
{
    /// <summary><paramref name="epochs"/> passes over (inputs, targets) in mini-batches of <paramref name="batchSize"/>, each
    /// pass in a fresh order from <paramref name="generator"/>; <paramref name="augment"/>, when given, transforms each
    /// batch's inputs. The tensors are made when a batch is drawn, inside the trainer's per-step dispose scope.</summary>
    public static IEnumerable<TensorBatch> Shuffled(Tensor inputs, Tensor targets, int batchSize, Generator generator,
        int epochs = 1, IAugmentation? augment = null)
    {
        if (inputs.size(0) != targets.size(0))
            throw new ArgumentException($"{inputs.size(0)} inputs but {targets.size(0)} targets");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "a batch holds at least one item");
        var n = inputs.size(0);
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            long[] order;
            using (var permutation = torch.randperm(n, generator: generator)) order = permutation.data<long>().ToArray();
            for (var start = 0L; start < n; start += batchSize)
            {
                var index = torch.tensor(order[(int)start..(int)Math.Min(n, start + batchSize)]);
                var x = inputs.index_select(0, index);
                yield return new TensorBatch(augment is null ? x : augment.Apply(x, generator), targets.index_select(0, index));
            }
        }
    }

    /// <summary>The number of batches in one pass over <paramref name="count"/> items.</summary>
    public static int PerEpoch(long count, int batchSize) => (int)((count + batchSize - 1) / batchSize);

    /// <summary>Endless semi-supervised batches: <paramref name="sampler"/> picks B labelled and μB unlabelled images per
    /// step; the labelled ones get the weak augmentation, the unlabelled ones both views, all drawn from
    /// <paramref name="generator"/>.</summary>
    public static IEnumerable<SemiSupervisedBatch> SemiSupervised(Data.IImageDataset labelled, Data.IImageDataset unlabelled,
        Data.Sampling.LabelledUnlabelledSampler sampler, IAugmentation weak, IAugmentation strong, Generator generator)
    {
        while (true)
        {
            var (labelledIndices, unlabelledIndices) = sampler.NextStep();
            var (images, labels) = labelled.Batch(labelledIndices);
            var (unlabelledImages, _) = unlabelled.Batch(unlabelledIndices);
            yield return new SemiSupervisedBatch(weak.Apply(images, generator), labels,
                weak.Apply(unlabelledImages, generator), strong.Apply(unlabelledImages, generator));
        }
    }

    /// <summary>Endless semi-supervised batches drawn by exam (Dadoun et al. 2022, §3.2: every image of a few exams, so
    /// nearly every organ is in each batch): each step takes the next batch of <paramref name="labelledExams"/> (weakly
    /// augmented) and of <paramref name="unlabelledExams"/> (weak and strong views); the ratio μ is the ratio of their
    /// exams per batch. Without an unlabelled pool the unlabelled views are empty (supervised training).</summary>
    public static IEnumerable<SemiSupervisedBatch> SemiSupervisedByExam(Data.IImageDataset labelled, Data.Sampling.ExamBatchSampler labelledExams,
        Data.IImageDataset? unlabelled, Data.Sampling.ExamBatchSampler? unlabelledExams, IAugmentation weak, IAugmentation strong, Generator generator)
    {
        if ((unlabelled is null) != (unlabelledExams is null))
            throw new ArgumentException("give both the unlabelled images and their exam sampler, or neither");
        using var labelledBatches = labelledExams.Endless().GetEnumerator();
        using var unlabelledBatches = unlabelledExams?.Endless().GetEnumerator();
        while (true)
        {
            labelledBatches.MoveNext();
            var (images, labels) = labelled.Batch(labelledBatches.Current);
            if (unlabelledBatches is null)
            {
                var none = torch.empty(0, labelled.Channels, labelled.Height, labelled.Width);
                yield return new SemiSupervisedBatch(weak.Apply(images, generator), labels, none, none);
                continue;
            }
            unlabelledBatches.MoveNext();
            var (unlabelledImages, _) = unlabelled!.Batch(unlabelledBatches.Current);
            yield return new SemiSupervisedBatch(weak.Apply(images, generator), labels,
                weak.Apply(unlabelledImages, generator), strong.Apply(unlabelledImages, generator));
        }
    }
}

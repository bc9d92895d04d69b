using MedSsl.Data.Augmentation;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Training;

/// <summary>A mini-batch of inputs and their targets (labels, one-hot vectors or soft target distributions).</summary>
public sealed record TensorBatch(Tensor Inputs, Tensor Targets);

/// <summary>One semi-supervised step's batch: B weakly augmented labelled images with their labels, and μB unlabelled
/// images in a weak and a strong view (FixMatch's inputs; Sohn et al. 2020, §2.2–2.3).</summary>
public sealed record SemiSupervisedBatch(Tensor Labelled, Tensor Labels, Tensor UnlabelledWeak, Tensor UnlabelledStrong);

/// <summary>One semi-supervised segmentation step's batch: labelled images [B, C, H, W] with their class masks [B, H, W]
/// (int64), and unlabelled images [U, C, H, W] (U may be 0: the supervised baseline).</summary>
public sealed record SegmentationBatch(Tensor Labelled, Tensor Masks, Tensor Unlabelled);

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

    /// <summary>As <see cref="Shuffled"/> for images without targets (self-supervised pre-training): the inputs of each
    /// mini-batch.</summary>
    public static IEnumerable<Tensor> Unlabelled(Tensor inputs, int batchSize, Generator generator, int epochs = 1)
    {
        // Made now and kept out of any dispose scope: the batches are drawn later, under the trainer's per-step scopes.
        var indices = torch.arange(inputs.size(0)).DetachFromDisposeScope();
        return Shuffled(inputs, indices, batchSize, generator, epochs).Select(batch => batch.Inputs);
    }

    /// <summary>The number of batches in one pass over <paramref name="count"/> items.</summary>
    public static int PerEpoch(long count, int batchSize) => (int)((count + batchSize - 1) / batchSize);

    /// <summary>Endless segmentation batches: each step <paramref name="labelledBatch"/> labelled images with their masks
    /// (passes over the labelled set in fresh orders) and <paramref name="unlabelledBatch"/> unlabelled ones (likewise),
    /// SSL4MIS's two-stream sampling. <paramref name="augment"/>, a geometric transform, moves each mask with its image
    /// (stacked as one more channel); unlabelled images get their own draw.</summary>
    public static IEnumerable<SegmentationBatch> Segmentation(Tensor images, Tensor masks, Tensor unlabelled, int labelledBatch,
        int unlabelledBatch, Generator generator, IAugmentation? augment = null)
    {
        if (images.size(0) != masks.size(0)) throw new ArgumentException($"{images.size(0)} labelled images but {masks.size(0)} masks");
        if (images.size(0) == 0 || labelledBatch < 1) throw new ArgumentException("segmentation batches need labelled images and a labelled batch of at least one");
        if (unlabelledBatch > 0 && unlabelled.size(0) == 0) throw new ArgumentException($"{unlabelledBatch} unlabelled images per batch from an empty unlabelled set");
        using var labelledOrder = Endless(images.size(0), labelledBatch, generator).GetEnumerator();
        using var unlabelledOrder = Endless(Math.Max(unlabelled.size(0), 1), Math.Max(unlabelledBatch, 1), generator).GetEnumerator();
        while (true)
        {
            labelledOrder.MoveNext();
            var index = torch.tensor(labelledOrder.Current);
            var x = images.index_select(0, index);
            var y = masks.index_select(0, index);
            Tensor u;
            if (unlabelledBatch > 0)
            {
                unlabelledOrder.MoveNext();
                u = unlabelled.index_select(0, torch.tensor(unlabelledOrder.Current));
            }
            else u = images.new_empty([0, images.size(1), images.size(2), images.size(3)]);
            if (augment is not null)
            {
                var stacked = augment.Apply(torch.cat([x, y.unsqueeze(1).to(x.dtype)], 1), generator);
                x = stacked[.., ..^1];
                y = stacked[.., ^1].round().to(ScalarType.Int64);
                if (u.size(0) > 0) u = augment.Apply(u, generator);
            }
            yield return new SegmentationBatch(x, y, u);
        }
    }

    /// <summary>Index batches of <paramref name="size"/> drawn from passes over 0..n−1 in fresh orders, wrapping across passes.</summary>
    private static IEnumerable<long[]> Endless(long n, int size, Generator generator)
    {
        var pending = new List<long>();
        while (true)
        {
            while (pending.Count < size)
                using (var permutation = torch.randperm(n, generator: generator)) pending.AddRange(permutation.data<long>().ToArray());
            yield return [.. pending.Take(size)];
            pending.RemoveRange(0, size);
        }
    }

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

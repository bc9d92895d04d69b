using MedSsl.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods;

/// <summary>One mini-batch of INERRANT: slices [B, 1, H, W], per-organ binary targets y [B, K, H, W] and the weights
/// w [B, K, H, W] of eq. 2 (1: the label is used, 0: it is ignored), all float32.</summary>
public sealed record InerrantBatch(Tensor Images, Tensor Labels, Tensor Weights);

/// <summary>The slices of partially annotated volumes as INERRANT trains on them (Petit et al. 2021, §3): the
/// annotated organs' binary targets, the weights the method uses — the ambiguity maps of eq. 2, or all ones for the
/// naive baseline that takes missing organs as background — and the pseudo-labels added by relabeling (Algorithms
/// 1–2), which become positive targets with weight 1. The complete masks are kept only to measure relabeling
/// precision and recall (Table 7); training never reads them.</summary>
public sealed class InerrantTrainingSet : IDisposable
{
    private readonly int[] firstSlice;

    private InerrantTrainingSet(VolumeDataset data, Tensor images, Tensor labels, Tensor known, Tensor relabeled, byte[] complete, int[] firstSlice)
    {
        Data = data;
        Images = images;
        Labels = labels;
        Known = known;
        Relabeled = relabeled;
        Complete = complete;
        this.firstSlice = firstSlice;
    }

    public VolumeDataset Data { get; }
    public int Organs => Data.OrganNames.Count;
    /// <summary>[S, 1, H, W] float32, every slice of every volume in volume order.</summary>
    public Tensor Images { get; }
    /// <summary>[S, K, H, W] uint8: y_ik = 1 on the pixels of organ k where k is annotated in the slice's volume.</summary>
    public Tensor Labels { get; }
    /// <summary>[S, K, H, W] uint8: the weights w_ik before relabeling (ambiguity maps, or ones for the naive baseline).</summary>
    public Tensor Known { get; }
    /// <summary>[S, K, H, W] uint8: pixels relabeled as positives of organ k so far.</summary>
    public Tensor Relabeled { get; }
    /// <summary>The complete label maps, slice-major like <see cref="Images"/> (evaluation only).</summary>
    public byte[] Complete { get; }
    public long Slices => Images.size(0);

    /// <summary>The slices of volume <paramref name="volume"/>: [first, first + depth).</summary>
    public (int First, int Count) SlicesOf(int volume) => (firstSlice[volume], Data[volume].Depth);

    /// <summary>The organs not annotated in <paramref name="volume"/>.</summary>
    public IReadOnlyList<int> MissingOrgans(int volume) =>
        [.. Enumerable.Range(0, Organs).Where(k => !Data.IsAnnotated(volume, k))];

    /// <summary>Slices of every volume with their partial labels; <paramref name="ambiguityMaps"/> true gives INERRANT's
    /// weights (eq. 2), false the naive baseline's (every label used, missing organs read as background).</summary>
    public static InerrantTrainingSet From(VolumeDataset data, bool ambiguityMaps)
    {
        if (data.Count == 0) throw new ArgumentException("no volumes", nameof(data));
        var slices = new List<(int, int)>();
        var first = new int[data.Count];
        for (var v = 0; v < data.Count; v++)
        {
            first[v] = slices.Count;
            for (var s = 0; s < data[v].Depth; s++) slices.Add((v, s));
        }
        var complete = data.CompleteMasks();
        using var scope = torch.NewDisposeScope();
        var (images, masks, annotated) = data.Slices(slices);
        var labels = OneHotOrgans(masks, data.OrganNames.Count);
        var known = ambiguityMaps ? Inerrant.AmbiguityMaps(labels, annotated) : torch.ones_like(labels);
        var set = new InerrantTrainingSet(data, images.MoveToOuterDisposeScope(), labels.to(ScalarType.Byte).MoveToOuterDisposeScope(),
            known.to(ScalarType.Byte).MoveToOuterDisposeScope(), torch.zeros(labels.shape, ScalarType.Byte).MoveToOuterDisposeScope(), complete, first);
        return set;
    }

    /// <summary>Label maps [B, H, W] (0 background, k + 1 organ k) → binary targets [B, K, H, W] float32.</summary>
    public static Tensor OneHotOrgans(Tensor masks, int organs)
    {
        using var scope = torch.NewDisposeScope();
        var oneHot = nn.functional.one_hot(masks, organs + 1).permute(0, 3, 1, 2)[.., 1..];
        return oneHot.to(ScalarType.Float32).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>A copy with the same partial labels and no pseudo-labels (each relabeling variant starts from here).</summary>
    public InerrantTrainingSet WithoutPseudoLabels() =>
        new(Data, Images.alias(), Labels.alias(), Known.alias(), torch.zeros_like(Relabeled), Complete, firstSlice);

    /// <summary>Adds pseudo-labels [S, K, H, W] (bool or 0/1) to the set (y_{i,t} = y_{i,t−1} ∪ y⁺_{i,t}, Algorithm 1).</summary>
    public void AddPseudoLabels(Tensor selected)
    {
        if (!selected.shape.SequenceEqual(Relabeled.shape))
            throw new ArgumentException($"pseudo-labels are [{string.Join(", ", selected.shape)}], the set is [{string.Join(", ", Relabeled.shape)}]");
        using var add = selected.to(ScalarType.Byte);
        Relabeled.bitwise_or_(add);
    }

    /// <summary>Adds one volume's pseudo-labels [D, K, H, W], its slices starting at <paramref name="firstSlice"/>.</summary>
    public void AddPseudoLabelsOf(int firstSlice, Tensor selected)
    {
        using var slices = Relabeled.narrow(0, firstSlice, selected.size(0));
        using var add = selected.to(ScalarType.Byte);
        slices.bitwise_or_(add);
    }

    /// <summary>Endless mini-batches over all slices, a fresh order per epoch. <paramref name="withPseudoLabels"/>
    /// true: the targets and weights the segmentation network trains on (pseudo-labels included); false: the labels as
    /// annotated, which the confidence network regresses on (eq. 3 needs known labels).</summary>
    public IEnumerable<InerrantBatch> Batches(int batchSize, Generator generator, bool withPseudoLabels = true)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "a batch holds at least one slice");
        while (true)
        {
            long[] order;
            using (var permutation = torch.randperm(Slices, generator: generator)) order = permutation.data<long>().ToArray();
            for (var start = 0; start < order.Length; start += batchSize)
            {
                var index = torch.tensor(order[start..Math.Min(order.Length, start + batchSize)]);
                yield return Batch(index, withPseudoLabels);
            }
        }
    }

    /// <summary>The batch of the given slice indices (a 1-D int64 tensor).</summary>
    public InerrantBatch Batch(Tensor index, bool withPseudoLabels = true)
    {
        var labels = Labels.index_select(0, index);
        var known = Known.index_select(0, index);
        if (withPseudoLabels)
        {
            var relabeled = Relabeled.index_select(0, index);
            labels = labels.bitwise_or(relabeled);
            known = known.bitwise_or(relabeled);
        }
        return new InerrantBatch(Images.index_select(0, index), labels.to(ScalarType.Float32), known.to(ScalarType.Float32));
    }

    /// <summary>Precision TP/(TP + FP) of the pseudo-labels so far against the complete masks, and their recall: the
    /// share of the missing organs' true pixels (every organ not annotated in a volume) that were relabeled (Table 7).
    /// Precision is 1 while nothing is relabeled.</summary>
    public (double Precision, double Recall, long Relabeled) RelabelingQuality()
    {
        var relabeled = Relabeled.data<byte>().ToArray();
        int k = Organs, plane = (int)(Images.size(2) * Images.size(3));
        long truePositives = 0, selected = 0, missingPixels = 0;
        for (var v = 0; v < Data.Count; v++)
        {
            var (first, count) = SlicesOf(v);
            var missing = MissingOrgans(v);
            for (var s = first; s < first + count; s++)
                for (var p = 0; p < plane; p++)
                {
                    var truth = Complete[s * plane + p];
                    foreach (var organ in missing)
                    {
                        var isOrgan = truth == organ + 1;
                        if (isOrgan) missingPixels++;
                        if (relabeled[((long)s * k + organ) * plane + p] == 0) continue;
                        selected++;
                        if (isOrgan) truePositives++;
                    }
                }
        }
        return (selected == 0 ? 1 : (double)truePositives / selected, missingPixels == 0 ? 1 : (double)truePositives / missingPixels, selected);
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
        Known.Dispose();
        Relabeled.Dispose();
    }
}

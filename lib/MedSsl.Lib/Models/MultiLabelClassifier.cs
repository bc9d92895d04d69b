using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedSsl.Models;

/// <summary>Logits of the two heads of <see cref="MultiLabelClassifier"/>: the multi-label head [N, C] and, when the
/// network has one, the label-combination head [N, K].</summary>
public sealed record HeadLogits(Tensor MultiLabel, Tensor? Combination);

/// <summary>A backbone f with Dadoun et al. (2022)'s classification heads (§2.1, §2.3.2): a multi-label head
/// g_κ(x) = {p̄_1 … p̄_C} read through sigmoids, and optionally a single-label head g_φ(x) = {p_1 … p_K} over the K label
/// combinations read through a softmax (the Two-Head model). Both are linear maps of the backbone's feature vector.
/// <see cref="forward"/> returns the multi-label logits, which is what the model predicts with.</summary>
public sealed class MultiLabelClassifier : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> backbone;
    private readonly Linear multiLabel;
    private readonly Linear? combination;

    /// <param name="backbone">f, images → features [N, <paramref name="featureDim"/>]</param>
    /// <param name="classes">C, the labels (organs and "other")</param>
    /// <param name="combinations">K, the label combinations of the single-label head; 0 for a multi-label head only</param>
    public MultiLabelClassifier(nn.Module<Tensor, Tensor> backbone, long featureDim, int classes, int combinations = 0) : base(nameof(MultiLabelClassifier))
    {
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "a multi-label head needs at least one class");
        if (combinations < 0) throw new ArgumentOutOfRangeException(nameof(combinations), combinations, "the number of label combinations cannot be negative");
        this.backbone = backbone;
        multiLabel = nn.Linear(featureDim, classes);
        combination = combinations > 0 ? nn.Linear(featureDim, combinations) : null;
        Classes = classes;
        Combinations = combinations;
        RegisterComponents();
    }

    /// <summary>A <see cref="ResNet"/> backbone with the heads.</summary>
    public MultiLabelClassifier(ResNet backbone, int classes, int combinations = 0) : this(backbone, backbone.FeatureDim, classes, combinations) { }

    public int Classes { get; }
    public int Combinations { get; }
    public bool HasCombinationHead => combination is not null;
    public nn.Module<Tensor, Tensor> Backbone => backbone;

    /// <summary>Images → multi-label logits [N, C].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return multiLabel.call(backbone.call(x)).MoveToOuterDisposeScope();
    }

    /// <summary>Images → the logits of both heads from one pass through the backbone.</summary>
    public HeadLogits Heads(Tensor x)
    {
        using var scope = NewDisposeScope();
        var features = backbone.call(x);
        var ml = multiLabel.call(features).MoveToOuterDisposeScope();
        return new HeadLogits(ml, combination?.call(features).MoveToOuterDisposeScope());
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Training;

/// <summary>Confidence masks and pseudo-labels shared by the self-training methods.</summary>
public static class PseudoLabels
{
    /// <summary>FixMatch's mask 1[max_c p_c ≥ τ] per sample (Sohn et al. 2020, eq. 4), as float32 [N].</summary>
    public static Tensor ConfidenceMask(Tensor probabilities, double threshold) =>
        probabilities.max(1).values.ge(threshold).to(ScalarType.Float32);

    /// <summary>Hard pseudo-labels argmax_c p_c [N] (Sohn et al. 2020, q̂_b in eq. 4).</summary>
    public static Tensor Hard(Tensor probabilities) => probabilities.argmax(1);

    /// <summary>Multi-label pseudo-labels 1[p_c ≥ <paramref name="threshold"/>] per class, float32 [N, C]
    /// (Dadoun et al. 2022, §2.3.2.1: the One-Head variant thresholds each sigmoid at 0.5).</summary>
    public static Tensor MultiLabel(Tensor probabilities, double threshold = 0.5) => probabilities.ge(threshold).to(ScalarType.Float32);

    /// <summary>The One-Head mask: 1 where at least one class's probability passes τ (Dadoun et al. 2022, §2.3.2.1), float32 [N].</summary>
    public static Tensor AnyClassConfident(Tensor probabilities, double threshold) =>
        probabilities.ge(threshold).any(1).to(ScalarType.Float32);
}

using MedSsl.Data.Augmentation;

namespace MedSsl.Methods.OnYourData;

/// <summary>Settings for small grey images (8–32 pixels a side) whose mirror image means something else — digits,
/// lateral anatomy — fixed before the evaluation seeds ran (docs/methods/your-own-data.md). They differ from the papers'
/// only where a small image forces it: no horizontal flip in any view, and the strong view's Cutout square a quarter of
/// the side instead of half (half of an 8-pixel digit hides most of it).</summary>
public static class Presets
{
    /// <summary>Backbone widths: a two-stage ResNet, small enough to train in CPU seconds on 8×8 images.</summary>
    public static readonly long[] Widths = [16, 32];

    /// <summary>FixMatch (Sohn et al. 2020): B = 16, μ = 7, τ = 0.95, λ_u = 1, SGD-Nesterov 0.03 with the cosine decay;
    /// weak view a shift of ⅛ of the side, strong view RandAugment(2, 10) with Cutout.</summary>
    public static FixMatchTrainingOptions FixMatch(int seed, int steps, bool supervisedOnly = false) => new()
    {
        Steps = steps, Seed = seed, Widths = Widths, SupervisedOnly = supervisedOnly,
        Weak = new WeakAugment { FlipProbability = 0 }, Strong = new RandAugment { CutoutFraction = 0.25 },
    };

    /// <summary>SSLDEC (Enguehard et al. 2019) as notebook 04's digits benchmark runs it (fixed on its exploration seeds
    /// 0–1, docs/methods/ssldec.md): the default MLP (<see cref="SsldecTrainingOptions"/>); 100 pre-training epochs at 1e-2 → 1e-3
    /// instead of the paper's 1e-3 → 1e-4 (§IV-B; up to 128 labels are one batch, so 100 epochs are only 100 steps,
    /// which at 1e-3 leave the labels unfitted);
    /// rounds at 1e-3 (the authors' code) until fewer than 0.1 % of the assignments change, at most 50; the paper's
    /// one-pixel translations (§IV-D) as a shift of ⅛ of the side without flip, on the labelled batches too so that the
    /// supervised start (<paramref name="supervisedOnly"/>) is exactly SSLDEC's.</summary>
    public static SsldecTrainingOptions Ssldec(int seed, bool supervisedOnly = false) => new()
    {
        Method = new SsldecOptions
        {
            LearningRate = 1e-2, FinalLearningRate = 1e-3, Rounds = 50,
            Augment = new WeakAugment { FlipProbability = 0 }, AugmentLabelled = true, Seed = seed,
        },
        SupervisedOnly = supervisedOnly,
    };

    /// <summary>PICA + L_SD in the short-run preset (<see cref="PicaClustering.ShortRun"/>), views without flips.</summary>
    public static PicaOptions Pica(int clusters, int seed, int epochs) => PicaClustering.ShortRun(clusters, epochs, seed: seed) with
    {
        FirstView = new WeakAugment { FlipProbability = 0 }, SecondView = new RandAugment { CutoutFraction = 0 },
    };
}

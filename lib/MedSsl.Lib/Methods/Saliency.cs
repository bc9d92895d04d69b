using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods;

/// <summary>Saliency maps (Simonyan et al. 2014, §3.1; S4MI, Singh et al. 2024, "Saliency maps" and Fig. 2): the
/// gradient of the predicted class's score with respect to the input pixels, w = ∂S_c/∂I at the image, and per pixel
/// the largest magnitude over the colour channels, M_ij = max_ch |w_(ch,i,j)|. With a lesion mask, how much of the map
/// falls on the lesion turns "the map aligns with the pathology" into a number.</summary>
public static class Saliency
{
    /// <summary>Maps [N, H, W] of <paramref name="classifier"/> (images [N, C, H, W] → class scores [N, K]) for each
    /// image's highest-scoring class, or for <paramref name="classes"/> [N] when given. The network runs in eval mode
    /// (so one image's map does not depend on the others in the batch) and its parameter gradients are untouched.</summary>
    public static Tensor Map(nn.Module<Tensor, Tensor> classifier, Tensor images, Tensor? classes = null) => classifier.InEvalMode(() =>
    {
        using var scope = torch.NewDisposeScope();
        using var enableGrad = torch.enable_grad();
        var x = images.detach().clone().requires_grad_();
        var scores = classifier.call(x);
        var chosen = classes ?? scores.argmax(1);
        var score = scores.gather(1, chosen.view(-1, 1)).sum();   // each image's score depends on its own pixels only
        var gradient = torch.autograd.grad([score], [x])[0];
        return gradient.abs().amax([1]).MoveToOuterDisposeScope();
    });

    /// <summary>Per image, the fraction of the total saliency that lies on the mask: Σ_(mask) M / Σ M, for maps and
    /// masks [N, H, W] (mask 1 on the lesion). A map that ignores where the lesion is scores the lesion's area fraction
    /// on average; one confined to the lesion scores 1.</summary>
    public static double[] FractionOnMask(Tensor maps, Tensor masks)
    {
        if (maps.dim() != 3 || !maps.shape.SequenceEqual(masks.shape))
            throw new ArgumentException($"FractionOnMask takes maps and masks [N, H, W] of one shape, got [{string.Join(", ", maps.shape)}] and [{string.Join(", ", masks.shape)}]");
        using var scope = torch.NewDisposeScope();
        var m = maps.to(ScalarType.Float64);
        var inside = (m * (masks > 0).to(ScalarType.Float64)).sum([1, 2]);
        var total = m.sum([1, 2]);
        // An all-zero map (a classifier whose score ignores the pixels) carries no evidence: it scores 0.
        return (inside / total.clamp_min(1e-300)).data<double>().ToArray();
    }

    /// <summary>Mean over images of (the map's mass on the mask / all its mass) / (mask pixels / all pixels), for maps and
    /// 0/1 masks [N, 1, H, W]: 1 where the map spreads evenly, above 1 where it concentrates on the mask.</summary>
    public static double MeanConcentrationOnMask(Tensor maps, Tensor masks)
    {
        using var scope = torch.NewDisposeScope();
        var dims = new long[] { 1, 2, 3 };
        var massShare = (maps * masks).sum(dims) / maps.sum(dims).clamp_min(1e-12);
        var areaShare = masks.sum(dims) / (masks.size(2) * masks.size(3));
        return (massShare / areaShare.clamp_min(1e-12)).mean().ToDouble();
    }
}

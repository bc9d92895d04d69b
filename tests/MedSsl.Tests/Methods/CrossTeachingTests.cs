using System.Globalization;
using MedSsl.Methods;
using MedSsl.Metrics;
using MedSsl.Models;
using MedSsl.Tests.Support;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Methods;

public class CrossTeachingTests
{
    private static string List(Tensor t) => "[" + string.Join(", ", t.reshape(-1).to(ScalarType.Float64).data<double>().Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";

    // SSL4MIS's losses.DiceLoss and the cross-teaching script's terms, written out in PyTorch (float64).
    private static string Reference(Tensor a, Tensor b, Tensor target) => $$"""
        import torch.nn.functional as F
        def dice_loss(score, target, n):
            t = F.one_hot(target, n).permute(0, 3, 1, 2).double()
            loss = 0
            for i in range(n):
                s, y = score[:, i], t[:, i]
                intersect = torch.sum(s * y); y_sum = torch.sum(y * y); z_sum = torch.sum(s * s)
                loss += 1 - (2 * intersect + 1e-5) / (z_sum + y_sum + 1e-5)
            return loss / n
        a = torch.tensor({{List(a)}}).view({{string.Join(", ", a.shape)}}).requires_grad_()
        b = torch.tensor({{List(b)}}).view({{string.Join(", ", b.shape)}})
        y = torch.tensor({{List(target)}}).view({{string.Join(", ", target.shape)}}).long()
        n = a.shape[1]
        sup = 0.5 * (F.cross_entropy(a, y) + dice_loss(torch.softmax(a, 1), y, n))
        cross = dice_loss(torch.softmax(a, 1), torch.argmax(torch.softmax(b, 1).detach(), 1), n)
        g, = torch.autograd.grad(sup + 0.3 * cross, a)
        emit({"ce": F.cross_entropy(a, y).item(), "dice": dice_loss(torch.softmax(a, 1), y, n).item(),
              "sup": sup.item(), "cross": cross.item(), "grad": g.reshape(-1).tolist()})
        """;

    [Fact]
    public void Dice_CE_and_cross_teaching_terms_match_SSL4MIS_in_PyTorch()
    {
        using var generator = new Generator(7);
        var a = torch.randn([3, 4, 5, 6], ScalarType.Float64, generator: generator).requires_grad_();
        using var b = torch.randn([3, 4, 5, 6], ScalarType.Float64, generator: generator);
        using var y = torch.randint(0, 4, [3, 5, 6], generator: generator);
        var reference = PyTorchReference.Run(Reference(a, b, y));
        using var ce = CrossTeaching.CrossEntropy(a, y);
        using var dice = CrossTeaching.DiceLoss(a.softmax(1), y);
        using var sup = CrossTeaching.SupervisedLoss(a, y);
        using var cross = CrossTeaching.CrossTeachingLoss(a, b);
        Assert.Equal(reference.GetProperty("ce").GetDouble(), ce.ToDouble(), 12);
        Assert.Equal(reference.GetProperty("dice").GetDouble(), dice.ToDouble(), 12);
        Assert.Equal(reference.GetProperty("sup").GetDouble(), sup.ToDouble(), 12);
        Assert.Equal(reference.GetProperty("cross").GetDouble(), cross.ToDouble(), 12);
        var grad = torch.autograd.grad([sup + 0.3 * cross], [a])[0];
        Expect.Close(reference.GetProperty("grad").Doubles(), grad.reshape(-1).data<double>().ToArray(), 1e-10);
    }

    [Fact]
    public void No_gradient_flows_through_the_other_networks_pseudo_label()
    {
        var a = torch.randn([2, 2, 4, 4], ScalarType.Float64).requires_grad_();
        var b = torch.randn([2, 2, 4, 4], ScalarType.Float64).requires_grad_();
        using var loss = CrossTeaching.CrossTeachingLoss(a, b);
        loss.backward();
        Assert.True(a.grad!.abs().sum().ToDouble() > 0);
        Assert.True(b.grad is null || b.grad.abs().sum().ToDouble() == 0);
    }

    [Fact]
    public void Dice_loss_is_zero_for_a_perfect_prediction_up_to_smoothing_and_names_bad_shapes()
    {
        using var y = torch.tensor(new long[] { 0, 1, 1, 0 }, 1, 2, 2);
        using var perfect = nn.functional.one_hot(y, 2).permute(0, 3, 1, 2).to(ScalarType.Float64);
        Assert.Equal(0, CrossTeaching.DiceLoss(perfect, y).ToDouble(), 9);
        // All probability on the wrong class: Dice of each class is ε/(2 + 2 + ε) → loss ≈ 1.
        Assert.Equal(1 - 1e-5 / (4 + 1e-5), CrossTeaching.DiceLoss(1 - perfect, y).ToDouble(), 12);
        var error = Assert.Throws<ArgumentException>(() => CrossTeaching.DiceLoss(perfect, y.view(1, 4)));
        Assert.Contains("maps [B, K, H, W] and class indices [B, H, W], got [1, 2, 2, 2] and [1, 4]", error.Message);
    }

    [Fact]
    public void Lambda_is_one_or_ramps_up_to_a_tenth_over_the_run_and_poly_decays_to_zero()
    {
        Assert.Equal(0.1 * Math.Exp(-5), CrossTeaching.ConsistencyWeight(0, 200), 15);
        Assert.Equal(0.1 * Math.Exp(-1.25), CrossTeaching.ConsistencyWeight(100, 200), 15);
        Assert.Equal(0.1 * Math.Exp(-5 * 0.0625), CrossTeaching.ConsistencyWeight(150, 200), 15);
        Assert.Equal(0.1, CrossTeaching.ConsistencyWeight(200, 200), 15);
        Assert.Equal(0.1, CrossTeaching.ConsistencyWeight(500, 200), 15);
        Assert.Equal(1.0, CrossTeaching.Lambda(new CrossTeachingOptions { TotalSteps = 200 }, 0), 15);
        Assert.Equal(0.1 * Math.Exp(-1.25), CrossTeaching.Lambda(new CrossTeachingOptions { TotalSteps = 200, MaxConsistencyWeight = 0.1, RampUp = true }, 100), 15);
        Assert.Equal(0.01, Schedules.Poly(0, 100, 0.01), 15);
        Assert.Equal(0.01 * Math.Pow(0.5, 0.9), Schedules.Poly(50, 100, 0.01), 15);
        Assert.Equal(0, Schedules.Poly(100, 100, 0.01), 15);
    }

    [Fact]
    public void A_train_step_updates_both_networks_and_names_its_losses()
    {
        torch.manual_seed(0);
        using var method = new CrossTeaching(new UNet(3, 2, [4, 8]), new SwinUNet(3, 2, 16, embedDim: 8, heads: [1, 2]), new CrossTeachingOptions { TotalSteps = 10 });
        using var x = torch.rand(2, 3, 16, 16);
        using var u = torch.rand(2, 3, 16, 16);
        using var y = torch.randint(0, 2, [2, 16, 16]);
        var before = method.Networks.Values.Select(n => n.parameters().Select(p => p.clone()).ToList()).ToList();
        var losses = method.TrainStep(new SegmentationBatch(x, y, u));
        Assert.Equal(["total", "cnn_supervised", "transformer_supervised", "cnn_cross", "transformer_cross", "lambda"], losses.Keys);
        Assert.Equal(losses["cnn_supervised"] + losses["transformer_supervised"] + losses["lambda"] * (losses["cnn_cross"] + losses["transformer_cross"]), losses["total"], 5);
        Assert.Equal(1.0, losses["lambda"], 12);   // S4MI's step (4): the losses are summed
        var after = method.Networks.Values.Select(n => n.parameters().ToList()).ToList();
        for (var k = 0; k < 2; k++) Assert.Contains(before[k].Zip(after[k]), pair => !pair.First.equal(pair.Second).all().ToBoolean());
        Assert.Equal([2L, 2L, 16L, 16L], method.Predict(x).shape);
    }

    [Fact]
    public void Iou_and_dice_match_hand_values()
    {
        // A: 3 pixels, B: 2 pixels, 1 shared → IoU 1/4, Dice 2/5.
        var a = new bool[,] { { true, true }, { true, false } };
        var b = new bool[,] { { true, false }, { false, true } };
        Assert.Equal(0.25, Segmentation.Iou(a, b), 15);
        Assert.Equal(0.4, Segmentation.Dice(a, b), 15);
    }
}

using MedSsl.Methods;
using MedSsl.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Methods;

public class SaliencyTests
{
    [Fact]
    public void Saliency_is_the_largest_channel_magnitude_of_the_predicted_score_gradient_by_finite_differences()
    {
        torch.manual_seed(7);
        using var net = nn.Sequential(nn.Conv2d(2, 3, 3, padding: 1), nn.Tanh(), nn.Flatten(), nn.Linear(3 * 4 * 4, 3));
        net.to(ScalarType.Float64);
        using var images = torch.randn([2, 2, 4, 4], ScalarType.Float64);
        using var map = Saliency.Map(net, images);
        Assert.Equal([2L, 4L, 4L], map.shape);
        Assert.All(net.parameters(), p => Assert.Null(p.grad));
        using var noGrad = torch.no_grad();
        var predicted = net.call(images).argmax(1).data<long>().ToArray();
        const double eps = 1e-6;
        for (var i = 0; i < 2; i++)
        {
            double Score(Tensor image) => net.call(image.unsqueeze(0))[0, predicted[i]].ToDouble();
            var expected = new double[16];
            for (var ch = 0; ch < 2; ch++)
                for (var p = 0; p < 16; p++)
                {
                    using var plus = images[i].clone();
                    using var minus = images[i].clone();
                    plus[ch, p / 4, p % 4] += eps;
                    minus[ch, p / 4, p % 4] -= eps;
                    expected[p] = Math.Max(expected[p], Math.Abs((Score(plus) - Score(minus)) / (2 * eps)));
                }
            Expect.Close(expected, map[i].reshape(-1).data<double>().ToArray(), 1e-6);
        }
        // A chosen class instead of the predicted one.
        using var other = Saliency.Map(net, images, torch.tensor(new long[] { (predicted[0] + 1) % 3, predicted[1] }));
        Assert.True((other[0] - map[0]).abs().max().ToDouble() > 0);
        Expect.Close(map[1].reshape(-1).data<double>().ToArray(), other[1].reshape(-1).data<double>().ToArray(), 1e-12);
    }

    [Fact]
    public void Fraction_on_the_mask_by_hand_and_bad_shapes()
    {
        using var maps = torch.tensor(new double[] { 1, 3, 0, 0, 0, 0, 0, 0 }, 2, 2, 2);
        using var masks = torch.tensor(new long[] { 0, 1, 1, 1, 1, 0, 0, 0 }, 2, 2, 2);
        // Image 0: 3 of 4 on the mask; image 1: an all-zero map scores 0.
        Assert.Equal([0.75, 0.0], Saliency.FractionOnMask(maps, masks));
        var error = Assert.Throws<ArgumentException>(() => Saliency.FractionOnMask(maps, torch.zeros(2, 2, 3)));
        Assert.Contains("got [2, 2, 2] and [2, 2, 3]", error.Message);
    }
}

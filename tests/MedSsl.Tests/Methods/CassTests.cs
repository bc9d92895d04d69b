using MedSsl.Methods;
using MedSsl.Models;
using MedSsl.Tests.Support;
using MedSsl.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Tests.Methods;

public sealed class CassTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "medssl-cass-" + Guid.NewGuid().ToString("N")[..8]);

    public CassTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void CassLoss_and_its_gradients_match_PyTorch()
    {
        torch.manual_seed(5);
        using var a = torch.randn([6, 9], ScalarType.Float64);
        using var b = torch.randn([6, 9], ScalarType.Float64);
        var path = Path.Combine(dir, "inputs.safetensors");
        Safetensors.Save(path, [("a", a), ("b", b)]);
        // The CASS notebook's loss_fn (BYOL's), averaged over the batch.
        var reference = PyTorchReference.Run($$"""
            import torch.nn.functional as F
            t = load("{{path}}")
            a, b = t["a"].requires_grad_(), t["b"].requires_grad_()
            def loss_fn(x, y):
                x = F.normalize(x, dim=-1, p=2); y = F.normalize(y, dim=-1, p=2)
                return 2 - 2 * (x * y).sum(dim=-1)
            loss = loss_fn(a, b).mean(); loss.backward()
            emit({"loss": loss.item(), "ga": a.grad.flatten().tolist(), "gb": b.grad.flatten().tolist()})
            """);
        var ga = a.detach().clone().requires_grad_();
        var gb = b.detach().clone().requires_grad_();
        using var loss = Cass.CassLoss(ga, gb);
        loss.backward();
        Assert.Equal(reference.GetProperty("loss").GetDouble(), loss.ToDouble(), 12);
        Expect.Close(reference.GetProperty("ga").Doubles(), ga.grad!.reshape(-1).data<double>().ToArray(), 1e-12);
        Expect.Close(reference.GetProperty("gb").Doubles(), gb.grad!.reshape(-1).data<double>().ToArray(), 1e-12);
    }

    [Fact]
    public void CassLoss_hand_values_and_bad_shapes()
    {
        // Same direction (any length) → 0; orthogonal → 2; opposite → 4; mean over the rows.
        using var a = torch.tensor(new double[] { 1, 0, 0, 1, 2, 0 }, 3, 2);
        using var b = torch.tensor(new double[] { 3, 0, 1, 0, -1, 0 }, 3, 2);
        Assert.Equal((0 + 2 + 4) / 3.0, Cass.CassLoss(a, b).ToDouble(), 12);
        var error = Assert.Throws<ArgumentException>(() => Cass.CassLoss(torch.zeros(2, 3), torch.zeros(2, 4)));
        Assert.Contains("same shape, got [2, 3] and [2, 4]", error.Message);
    }

    [Fact]
    public void Each_step_starts_from_zero_gradients_unlike_the_reference_loop()
    {
        // With lr = 0 nothing moves, so a step that kept the previous gradients (the reference never calls zero_grad)
        // would show twice the first step's gradients; each step here has exactly its own.
        using var cass = NewCass(learningRate: 0);
        torch.manual_seed(2);
        using var images = torch.rand(4, 3, 16, 16);
        var first = cass.TrainStep(images);
        var gradients1 = Gradients(cass);
        var second = cass.TrainStep(images);
        var gradients2 = Gradients(cass);
        Assert.Equal(first["cass"], second["cass"], 12);
        Assert.True(gradients1.Sum(Math.Abs) > 0);
        Expect.Close(gradients1, gradients2, 1e-7);
    }

    [Fact]
    public void A_step_trains_both_networks_towards_agreement()
    {
        using var cass = NewCass(learningRate: 1e-3);
        torch.manual_seed(2);
        using var images = torch.rand(8, 3, 16, 16);
        var cnnBefore = Parameters(cass.Cnn);
        var vitBefore = Parameters(cass.Transformer);
        var losses = Enumerable.Range(0, 20).Select(_ => cass.TrainStep(images)).ToList();
        Assert.Equal(["cass", "cnn_output_spread"], losses[0].Keys);
        Assert.True(losses[^1]["cass"] < losses[0]["cass"], $"loss {losses[0]["cass"]} → {losses[^1]["cass"]}");
        Assert.NotEqual(cnnBefore, Parameters(cass.Cnn));
        Assert.NotEqual(vitBefore, Parameters(cass.Transformer));
        using var features = cass.Predict(images);
        Assert.Equal([8L, 16L], features.shape);
    }

    private static double[] Gradients(Cass cass) =>
        [.. cass.Cnn.parameters().Concat(cass.Transformer.parameters()).SelectMany(p => p.grad!.reshape(-1).to(ScalarType.Float64).data<double>().ToArray())];

    private static double[] Parameters(nn.Module module) =>
        [.. module.parameters().SelectMany(p => p.detach().reshape(-1).to(ScalarType.Float64).data<double>().ToArray())];

    private static Cass NewCass(double learningRate)
    {
        torch.manual_seed(0);
        var cnn = new BackboneWithHead(new ResNet(3, [8, 16]), nn.Linear(16, 12));
        var vit = new BackboneWithHead(new VisionTransformer(3, 16, 4, 16, 1, 2), nn.Linear(16, 12));
        return new Cass(cnn, vit, new CassOptions { LearningRate = learningRate, Seed = 1 });
    }
}

using MedSsl.Tests.Support;
using MedSsl.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedSsl.Tests.Training;

/// <summary>Schedules, the EMA teacher, confidence masks and pseudo-labels on hand values.</summary>
public class SharedPiecesTests
{
    [Fact]
    public void SchedulesMatchTheirFormulas()
    {
        Assert.Equal(1.0, Schedules.Cosine(0, 10, 1, 0), 12);
        Assert.Equal(0.5, Schedules.Cosine(5, 10, 1, 0), 12);
        Assert.Equal(0.0, Schedules.Cosine(10, 10, 1, 0), 12);
        Assert.Equal(0.2 + 0.8 * (1 + Math.Cos(Math.PI * 0.3)) / 2, Schedules.Cosine(3, 10, 1, 0.2), 12);
        Assert.Equal(0.03 * Math.Cos(7 * Math.PI / 16), Schedules.FixMatchCosine(100, 100, 0.03), 12);
        // Petit et al.'s 1e-4 → 1e-5: 1e-4.5 half-way, the end rate after the last step.
        Assert.Equal(1e-4, Schedules.Exponential(0, 10, 1e-4, 1e-5), 15);
        Assert.Equal(Math.Pow(10, -4.5), Schedules.Exponential(5, 10, 1e-4, 1e-5), 15);
        Assert.Equal(1e-5, Schedules.Exponential(12, 10, 1e-4, 1e-5), 15);
        Assert.Equal(Math.Exp(-5), Schedules.SigmoidRampUp(0, 40), 12);
        Assert.Equal(Math.Exp(-1.25), Schedules.SigmoidRampUp(20, 40), 12);
        Assert.Equal(1.0, Schedules.SigmoidRampUp(60, 40), 12);
        Assert.Equal(0.55, Schedules.Linear(5, 10, 1.0, 0.1), 12);
        Assert.Equal(0.996 + (1 - 0.996) * (1 - Math.Cos(Math.PI * 0.25)) / 2, EmaTeacher<Linear>.CosineMomentum(25, 100), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => Schedules.Cosine(1, 0, 1));
    }

    [Fact]
    public void EmaTeacherAveragesParametersAndCopiesBuffers()
    {
        torch.manual_seed(2);
        Sequential Make() => nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2));
        using var student = Make();
        using var ema = new EmaTeacher<Sequential>(student, Make);
        var w0 = ((Linear)ema.Teacher[0]).weight!.data<float>().ToArray();
        Assert.Equal(((Linear)student[0]).weight!.data<float>().ToArray(), w0);   // starts as a copy
        using (torch.no_grad()) ((Linear)student[0]).weight!.add_(1.0);
        student.train();
        student.call(torch.randn(8, 3)).Dispose();                               // moves BatchNorm's running mean
        ema.Update(student, 0.9);
        var expected = w0.Select(w => 0.9f * w + 0.1f * (w + 1)).ToArray();
        Expect.Close(expected, ((Linear)ema.Teacher[0]).weight!.data<float>().ToArray(), 1e-6);
        Assert.Equal(((BatchNorm1d)student[1]).running_mean!.data<float>().ToArray(), ((BatchNorm1d)ema.Teacher[1]).running_mean!.data<float>().ToArray());
        Assert.All(ema.Teacher.parameters(), p => Assert.False(p.requires_grad));
        Assert.Throws<ArgumentOutOfRangeException>(() => ema.Update(student, 1.5));
    }

    [Fact]
    public void EmaTeacherKeepsAveragingTheStudentItIsGivenAcrossSteps()
    {
        // The (teacher, student) pairs are matched once per student: later updates must still see the student's new
        // weights, and another student of the same architecture gets its own pairs.
        torch.manual_seed(4);
        Sequential Make() => nn.Sequential(nn.Linear(2, 2));
        using var student = Make();
        using var other = Make();
        using var ema = new EmaTeacher<Sequential>(student, Make);
        var w0 = ((Linear)ema.Teacher[0]).weight!.data<float>().ToArray();
        using (torch.no_grad()) ((Linear)student[0]).weight!.add_(1.0);
        ema.Update(student, 0.5);
        using (torch.no_grad()) ((Linear)student[0]).weight!.add_(1.0);
        ema.Update(student, 0.5);
        // 0.5·(0.5·w + 0.5·(w + 1)) + 0.5·(w + 2) = w + 1.25
        Expect.Close(w0.Select(w => w + 1.25f).ToArray(), ((Linear)ema.Teacher[0]).weight!.data<float>().ToArray(), 1e-6);
        ema.Update(other, 0);
        Assert.Equal(((Linear)other[0]).weight!.data<float>().ToArray(), ((Linear)ema.Teacher[0]).weight!.data<float>().ToArray());
    }

    [Fact]
    public void ConfidenceMasksAndPseudoLabelsOnHandValues()
    {
        using var p = torch.tensor(new float[] { 0.96f, 0.03f, 0.01f, 0.5f, 0.4f, 0.1f, 0.05f, 0.05f, 0.9f }, 3, 3);
        Assert.Equal([1f, 0, 0], PseudoLabels.ConfidenceMask(p, 0.95).data<float>().ToArray());
        Assert.Equal([1f, 0, 1], PseudoLabels.ConfidenceMask(p, 0.9).data<float>().ToArray());
        Assert.Equal([0L, 0, 2], PseudoLabels.Hard(p).data<long>().ToArray());
        using var sigmoid = torch.tensor(new float[] { 0.7f, 0.2f, 0.96f, 0.4f, 0.5f, 0.1f }, 2, 3);
        Assert.Equal([1f, 0, 1, 0, 1, 0], PseudoLabels.MultiLabel(sigmoid).data<float>().ToArray());
        Assert.Equal([1f, 0], PseudoLabels.AnyClassConfident(sigmoid, 0.95).data<float>().ToArray());
    }

    [Fact]
    public void LossTermsKeepOrderAndRejectDuplicates()
    {
        var terms = new LossTerms(("total", 1.5), ("supervised", 1.0)).Add("unsupervised", 0.5);
        Assert.Equal(["total", "supervised", "unsupervised"], terms.Keys);
        Assert.Equal(0.5, terms["unsupervised"]);
        Assert.Throws<ArgumentException>(() => terms.Add("total", 2));
        Assert.Contains("no loss term 'kl'", Assert.Throws<KeyNotFoundException>(() => terms["kl"]).Message);
    }

    [Fact]
    public void EvalModeSwitchesDropoutOffAndGivesEachNetworkItsFlagBack()
    {
        torch.manual_seed(3);
        using var network = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5));
        using var frozen = nn.Linear(4, 4);
        frozen.eval();
        using var x = torch.ones(8, 4);
        var (first, second, gradInside) = EvalMode.Evaluate([network, frozen], () =>
            (network.call(x), network.call(x), torch.is_grad_enabled()));
        Assert.True(first.equal(second).all().item<bool>());   // dropout off: the same input gives the same output
        Assert.False(first.requires_grad);
        Assert.False(gradInside);
        Assert.True(network.training);
        Assert.False(frozen.training);
        Assert.True(torch.is_grad_enabled());
    }

    [Fact]
    public void InEvalModeKeepsGradientsAndRestoresTheFlagWhenTheWorkThrows()
    {
        using var network = nn.Sequential(nn.Linear(2, 1), nn.Dropout(0.5));
        var (trainingInside, gradInside) = network.InEvalMode(() => (network.training, torch.is_grad_enabled()));
        Assert.False(trainingInside);
        Assert.True(gradInside);   // saliency maps differentiate with respect to the input in here
        var error = Assert.Throws<InvalidOperationException>(() => network.Evaluate<int>(() => throw new InvalidOperationException("bad batch")));
        Assert.Equal("bad batch", error.Message);
        Assert.True(network.training);
        Assert.True(torch.is_grad_enabled());
    }
}

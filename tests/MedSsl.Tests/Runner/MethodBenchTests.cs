using System.Text.Json;

namespace MedSsl.Tests.Runner;

/// <summary><c>medssl bench method</c>: bad names exit 2 listing the valid ones; INERRANT reports its two kinds of step,
/// each with the whole step and what no phase saw.</summary>
public sealed class MethodBenchTests
{
    [Theory]
    [InlineData(new[] { "bench", "method", "simclr" }, "unknown method 'simclr' (one of fixmatch, pica, dino, cass, finetune, multimix, crossteaching, ssldec, inerrant)")]
    [InlineData(new[] { "bench", "method", "dino", "--backbone", "resnet" }, "unknown backbone 'resnet' (one of cnn, vit)")]
    [InlineData(new[] { "bench", "method", "inerrant", "--backbone", "vit" }, "--backbone applies to dino and finetune only, not to inerrant")]
    [InlineData(new[] { "bench", "method", "fixmatch", "--steps", "0" }, "--steps must be at least 1")]
    public void Bad_input_exits_2_naming_it(string[] arguments, string message)
    {
        var run = Medssl.Run(arguments);
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains(message, run.Stderr);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public void Channels_last_is_reported_and_trains_the_method()
    {
        var run = Medssl.Run("bench", "method", "pica", "--steps", "2", "--warmup", "1", "--channels-last", "--json");
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        var report = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.True(report.GetProperty("channels_last").GetBoolean());
        var phases = report.GetProperty("stages")[0].GetProperty("phases").EnumerateArray().Select(p => p.GetProperty("phase").GetString()).ToList();
        Assert.Contains("backward", phases);
    }

    [Fact]
    public void Inerrant_reports_the_segmenter_and_the_confidence_network_step_each_with_its_unattributed_time()
    {
        var run = Medssl.Run("bench", "method", "inerrant", "--steps", "2", "--warmup", "1", "--json");
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        var stages = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("stages").EnumerateArray().ToList();
        Assert.Equal(["segmenter step", "confidence step"], stages.Select(s => s.GetProperty("stage").GetString()));
        foreach (var stage in stages)
        {
            var phases = stage.GetProperty("phases").EnumerateArray().ToDictionary(p => p.GetProperty("phase").GetString()!);
            Assert.Contains("other (unattributed)", phases.Keys);
            Assert.Contains("backward", phases.Keys);
            // The whole step holds its phases: the difference is what no phase saw, never a large negative.
            var whole = phases["step, clock to clock"].GetProperty("median_ms").GetDouble();
            var sum = phases["step (sum of phases)"].GetProperty("median_ms").GetDouble();
            Assert.True(whole >= sum - 0.01, $"whole {whole} ms < phases {sum} ms");
            Assert.True(stage.GetProperty("allocated_bytes_median").GetDouble() > 0);
        }
        // The confidence step's targets come from the frozen segmenter's forward pass.
        Assert.Contains(stages[1].GetProperty("phases").EnumerateArray(), p => p.GetProperty("phase").GetString() == "of which segmenter forward (TCP targets)");
    }
}

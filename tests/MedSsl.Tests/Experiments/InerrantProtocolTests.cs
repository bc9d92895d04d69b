using System.Text.Json.Nodes;
using MedSsl.Data;
using MedSsl.Experiments;
using MedSsl.Methods;

namespace MedSsl.Tests.Experiments;

/// <summary>The INERRANT protocol end to end on a tiny scale (two seeds, a few steps): every claim pairs both seeds,
/// the control and the relabeling variants train the same number of steps, and results.json is written.</summary>
public sealed class InerrantProtocolTests
{
    [Fact]
    public void TheProtocolPairsEverySeedAndSavesItsClaims()
    {
        var scale = new InerrantScale
        {
            Seeds = SeedPlan.Exploration(2), Alphas = [0.7, 0.3], RelabelAlphas = [0.7], TrainVolumes = 3, TestVolumes = 1, Depth = 8, Size = 16,
            Options = new InerrantOptions { Widths = [4, 8], BatchSize = 4, SegmentationSteps = 4, FineTuneSteps = 2, ConfidenceSteps = 3, LearningRate = 1e-2, FinalLearningRate = 1e-3 },
        };
        Assert.Contains("Seed 1000 is not one of this profile's seeds (0–1)",
            Assert.Throws<ArgumentException>(() => InerrantStudy.RunStudy(scale, seed: 1000, exampleAlpha: 0.7)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => InerrantStudy.RunStudy(scale, seed: 0, exampleAlpha: 0.3));
        using var study = InerrantStudy.RunStudy(scale, seed: 0, exampleAlpha: 0.7);

        // Claims on Dice and on the confidence loss always have both seeds (failure prediction needs both kinds of candidates).
        Assert.All(study.Claims.Results.Where(c => c.Measure.Contains("Dice") || c.Measure.Contains("confidence loss")), c => Assert.Equal(2, c.Count));
        Assert.Contains(study.Claims.Results, c => c.Text.Contains("trained as long"));
        Assert.Contains(study.Claims.Results, c => c.Text.Contains("one-shot"));
        // Every continued variant records the test Dice after each of the T = 3 fine-tuning steps.
        foreach (var method in new[] { InerrantMethods.Inerrant0Long, InerrantMethods.OneShot, InerrantMethods.Mcp, InerrantMethods.Learned, InerrantMethods.LearnedFrozen })
            Assert.Equal(2 * 3, study.Rows.Count(r => r.Method == method && r.Measure == InerrantMeasures.DiceAfterStep));
        // Both learned arms keep their loss at every step of the T trainings of 3 steps, numbered 1 … 9 per seed.
        foreach (var method in new[] { InerrantMethods.Learned, InerrantMethods.LearnedFrozen })
            foreach (var seed in new[] { 0, 1 })
                Assert.Equal(Enumerable.Range(1, 3 * 3), study.Rows.Where(r => r.Seed == seed && r.Method == method && r.Measure == InerrantMeasures.ConfidenceLoss).Select(r => r.Step));
        // At step 1 every ranking arm still holds INERRANT⁰'s copy: the same test predictions and the same candidates.
        foreach (var seed in new[] { 0, 1 })
        {
            double Count(string method, string measure) => study.Rows.Single(r => r.Seed == seed && r.Is(0.7, method, measure, 1)).Value;
            foreach (var method in new[] { InerrantMethods.Learned, InerrantMethods.LearnedFrozen })
            {
                Assert.Equal(Count(InerrantMethods.Mcp, InerrantMeasures.TestPredictions), Count(method, InerrantMeasures.TestPredictions));
                Assert.Equal(study.Rows.Where(r => r.Seed == seed && r.Is(0.7, InerrantMethods.Mcp, InerrantMeasures.Candidates, 1)).Select(r => r.Value),
                    study.Rows.Where(r => r.Seed == seed && r.Is(0.7, method, InerrantMeasures.Candidates, 1)).Select(r => r.Value));
            }
        }
        Assert.Contains(study.Claims.Results, c => c.Text.Contains("frozen") && c.Measure.Contains("Dice"));
        Assert.Contains(study.Claims.Results, c => c.Text.Contains("frozen") && c.Measure.Contains("AUC on the test"));
        Assert.NotNull(study.Example);

        var folder = Path.Combine(Path.GetTempPath(), "inerrant-protocol-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = study.Save(new RunContext(folder, "inerrant"))!;
            var results = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            Assert.Equal(study.Claims.Results.Count, results["claims"]!.AsArray().Count);
            Assert.Equal([0, 1], results["seeds"]!.AsArray().Select(s => s!.GetValue<int>()));
            Assert.True(File.Exists(Path.Combine(folder, "inerrant.runs.csv")));
        }
        finally { Directory.Delete(folder, recursive: true); }
        Assert.Contains("Confidence loss over the first training: fine-tuned", study.Summary);
    }
}

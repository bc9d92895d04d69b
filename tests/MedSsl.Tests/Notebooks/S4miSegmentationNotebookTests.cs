using System.Globalization;
using System.Text.Json.Nodes;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Notebooks;

public class S4miSegmentationNotebookTests
{
    [Fact]
    public void Quick_profile_runs_headless_and_writes_every_result_the_issue_names()
    {
        var output = Path.Combine(Path.GetTempPath(), $"medssl-s4mi-seg-{Guid.NewGuid():N}");
        try
        {
            var run = Medssl.RunWithin(TimeSpan.FromMinutes(8), new Dictionary<string, string>(), "run",
                Path.Combine(Medssl.RepoRoot, "notebooks", "06-s4mi-segmentation.ipynb"), "--out", output, "--profile", "quick");
            Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
            Medssl.AssertValidNotebook(Path.Combine(output, "06-s4mi-segmentation.ipynb"));
            var results = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "06-s4mi-segmentation.results.json")))!;

            // Quick profile: 2 seeds × (3 fractions × {supervised, cross_teaching} + PiCIE at 0).
            var rows = results["iou"]!.AsArray().Select(r => (Method: r!["method"]!.GetValue<string>(), Fraction: r["label_fraction"]!.GetValue<double>(),
                Seed: r["seed"]!.GetValue<int>(), Iou: r["iou"]!.GetValue<double>())).ToList();
            Assert.Equal(2 * (3 * 2 + 1), rows.Count);
            Assert.All(rows, r => Assert.InRange(r.Iou, 0.0, 1.0));
            Assert.Equal([0.0], rows.Where(r => r.Method == "picie").Select(r => r.Fraction).Distinct());
            foreach (var method in new[] { "supervised", "cross_teaching" })
                Assert.Equal([0.1, 0.5, 1.0], rows.Where(r => r.Method == method).Select(r => r.Fraction).Distinct().Order());

            // The differences are the mean over seeds of the paired differences of the rows.
            var differences = results["cross_teaching_minus_supervised"]!.AsObject();
            Assert.Equal(["0.1", "0.5", "1"], differences.Select(d => d.Key));
            foreach (var (key, value) in differences)
            {
                var fraction = double.Parse(key, CultureInfo.InvariantCulture);
                var expected = rows.Where(r => r.Method == "cross_teaching" && r.Fraction == fraction)
                    .Average(ct => ct.Iou - rows.Single(s => s.Method == "supervised" && s.Fraction == fraction && s.Seed == ct.Seed).Iou);
                Assert.Equal(expected, value!.GetValue<double>(), 12);
            }
            var csv = File.ReadAllLines(Path.Combine(output, "06-s4mi-segmentation.runs.csv")).Where(l => l.Length > 0).ToArray();
            Assert.Equal("Method,LabelFraction,Seed,Iou,Dice", csv[0]);
            Assert.Equal(rows.Count, csv.Length - 1);
        }
        finally { if (Directory.Exists(output)) Directory.Delete(output, recursive: true); }
    }
}

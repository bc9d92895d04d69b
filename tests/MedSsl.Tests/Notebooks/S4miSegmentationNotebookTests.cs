using System.Globalization;
using System.Text.Json.Nodes;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Notebooks;

public class S4miSegmentationNotebookTests
{
    [Fact]
    public void Quick_profile_runs_headless_and_writes_rows_and_claims_that_agree()
    {
        var output = Path.Combine(Path.GetTempPath(), $"medssl-s4mi-seg-{Guid.NewGuid():N}");
        try
        {
            var run = Medssl.RunWithin(TimeSpan.FromMinutes(8), new Dictionary<string, string>(), "run",
                Path.Combine(Medssl.RepoRoot, "notebooks", "06-s4mi-segmentation.ipynb"), "--out", output, "--profile", "quick");
            Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
            Medssl.AssertValidNotebook(Path.Combine(output, "06-s4mi-segmentation.ipynb"));
            var results = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "06-s4mi-segmentation.results.json")))!;

            // Quick profile: fresh seeds 1000–1001 × (supervised at 10 and 100 %, cross_teaching and the ramp ablation at 10 %)
            // × {cnn, swin}, and PiCIE (one U-Net) at 0.
            Assert.Equal([1000, 1001], results["seeds"]!.AsArray().Select(s => s!.GetValue<int>()));
            Assert.True(results["fresh_seeds"]!.GetValue<bool>());
            var rows = results["iou"]!.AsArray().Select(r => (Method: r!["method"]!.GetValue<string>(), Network: r["network"]!.GetValue<string>(),
                Fraction: r["label_fraction"]!.GetValue<double>(), Seed: r["seed"]!.GetValue<int>(), Iou: r["iou"]!.GetValue<double>())).ToList();
            Assert.Equal(2 * ((2 + 1 + 1) * 2 + 1), rows.Count);
            Assert.All(rows, r => Assert.InRange(r.Iou, 0.0, 1.0));
            Assert.Equal([(0.0, "cnn")], rows.Where(r => r.Method == "picie").Select(r => (r.Fraction, r.Network)).Distinct());
            foreach (var network in new[] { "cnn", "swin" })
            {
                Assert.Equal([0.1, 1.0], rows.Where(r => r.Method == "supervised" && r.Network == network).Select(r => r.Fraction).Distinct().Order());
                foreach (var method in new[] { "cross_teaching", "cross_teaching_ramp" })
                    Assert.Equal([0.1], rows.Where(r => r.Method == method && r.Network == network).Select(r => r.Fraction).Distinct());
            }
            double Iou(string method, string network, double fraction, int seed) =>
                rows.Single(r => r.Method == method && r.Network == network && r.Fraction == fraction && r.Seed == seed).Iou;

            // The differences are the mean over seeds of the paired differences of the rows, per network.
            var differences = results["cross_teaching_minus_supervised"]!.AsObject();
            Assert.Equal(["cnn", "swin"], differences.Select(d => d.Key).Order());
            foreach (var (network, byFraction) in differences)
            {
                Assert.Equal(["0.1"], byFraction!.AsObject().Select(d => d.Key));
                foreach (var (key, value) in byFraction.AsObject())
                {
                    var fraction = double.Parse(key, CultureInfo.InvariantCulture);
                    var expected = new[] { 1000, 1001 }.Average(s => Iou("cross_teaching", network, fraction, s) - Iou("supervised", network, fraction, s));
                    Assert.Equal(expected, value!.GetValue<double>(), 12);
                }
            }

            // Every claim is written with its evidence; the lower-bound claim's pairs are the rows' PiCIE and supervised IoUs.
            var claims = results["claims"]!.AsArray();
            Assert.NotEmpty(claims);
            foreach (var claim in claims)
            {
                foreach (var key in new[] { "text", "source", "measure", "difference", "interval", "n", "detectable", "verdict" }) Assert.NotNull(claim![key]);
                Assert.Contains(claim!["verdict"]!.GetValue<string>(), new[] { "Supported", "Contradicted", "Inconclusive" });
                Assert.Equal(2, claim["interval"]!.AsArray().Count);
                Assert.Equal(2, claim["n"]!.GetValue<int>());
            }
            var lowerBound = claims.Single(c => c!["text"]!.GetValue<string>().StartsWith("PiCIE"))!;
            Assert.Equal("lower", lowerBound["direction"]!.GetValue<string>());
            Assert.Equal(new[] { 1000, 1001 }.Average(s => Iou("picie", "cnn", 0, s) - Iou("supervised", "cnn", 0.1, s)), lowerBound["difference"]!.GetValue<double>(), 12);
            var mechanism = claims.Single(c => c!["text"]!.GetValue<string>().Contains("agree"))!;
            Assert.All(mechanism["pairs"]!.AsArray(), p => Assert.InRange(p!["treatment"]!.GetValue<double>(), 0.0, 1.0));

            var csv = File.ReadAllLines(Path.Combine(output, "06-s4mi-segmentation.runs.csv")).Where(l => l.Length > 0).ToArray();
            Assert.Equal("Seed,Method,Network,LabelFraction,Iou,Dice,ValidationIou,Agreement", csv[0]);
            Assert.Equal(rows.Count, csv.Length - 1);
        }
        finally { if (Directory.Exists(output)) Directory.Delete(output, recursive: true); }
    }
}

using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MedSsl.Reports;
using MedSsl.Tests.Runner;
using TorchSharp;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace MedSsl.Tests.Reports;

/// <summary>What plotly.js actually draws, measured in headless Debian chromium (offline, pinned plotly.js).</summary>
public sealed class ChartsBrowserTests
{
    [Fact]
    public void The_decision_boundarys_colour_bar_and_the_overlaid_points_legend_do_not_overlap()
    {
        var boundary = Charts.DecisionBoundary(points => torch.sigmoid(points[.., 0] - points[.., 1]), (-2, 2), (-2, 2), "boundary", resolution: 20);
        var chart = CSharpChart.Combine([boundary, Charts.Scatter([0.0, 1, -1], [0.0, 1, 1], ["moon 0", "moon 1", "moon 1"], highlight: [true, false, false])]);

        var boxes = DrawnBoxes(chart, ".legend", ".colorbar");

        var (legend, colourBar) = (boxes[0], boxes[1]);
        Assert.True(legend.Width > 0 && legend.Height > 0 && colourBar.Width > 0 && colourBar.Height > 0, $"legend {legend}, colour bar {colourBar}");
        Assert.False(legend.Overlaps(colourBar), $"legend {legend} overlaps colour bar {colourBar}");
    }

    private sealed record Box(double Left, double Top, double Width, double Height)
    {
        public bool Overlaps(Box other) =>
            Left < other.Left + other.Width && other.Left < Left + Width && Top < other.Top + other.Height && other.Top < Top + Height;
    }

    /// <summary>The page-space boxes of the first element matching each selector once plotly.js has drawn the chart.</summary>
    private static List<Box> DrawnBoxes(Plotly.NET.GenericChart chart, params string[] selectors)
    {
        var plotly = File.ReadAllText(Path.Combine(Medssl.RepoRoot, "lib", "MedSsl.Lib", "Reports", "plotly", "node_modules", "plotly.js-dist-min", "plotly.min.js"));
        var html = DisplayFormatters.Format(chart)["text/html"]!.GetValue<string>();
        var selectorList = new JsonArray(selectors.Select(s => (JsonNode?)s).ToArray()).ToJsonString();
        var page = Path.Combine(Medssl.TemporaryFolder(), "chart.html");
        File.WriteAllText(page, $$"""
            <!DOCTYPE html><html><head><meta charset="utf-8"><script>{{plotly}}</script></head><body>{{html}}
            <script>
            setTimeout(function () {
              var boxes = {{selectorList}}.map(function (s) {
                var r = document.querySelector(s).getBoundingClientRect();
                return [r.left, r.top, r.width, r.height];
              });
              var out = document.createElement("pre");
              out.id = "boxes";
              out.textContent = JSON.stringify(boxes);
              document.body.appendChild(out);
            }, 1000);
            </script></body></html>
            """);
        var (code, dom) = Medssl.Exec("/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            $"--user-data-dir={Medssl.TemporaryFolder()}", "--virtual-time-budget=5000", "--dump-dom", "file://" + page);
        Assert.True(code == 0, dom);
        var match = Regex.Match(dom, "<pre id=\"boxes\">(.*?)</pre>");
        Assert.True(match.Success, "the page did not report the drawn boxes");
        return JsonNode.Parse(match.Groups[1].Value)!.AsArray()
            .Select(b => new Box(b![0]!.GetValue<double>(), b[1]!.GetValue<double>(), b[2]!.GetValue<double>(), b[3]!.GetValue<double>()))
            .ToList();
    }
}

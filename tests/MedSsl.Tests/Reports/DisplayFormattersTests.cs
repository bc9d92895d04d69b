using System.Text.Json.Nodes;
using MedSsl.Data.Formats;
using MedSsl.Reports;
using Microsoft.Data.Analysis;
using TorchSharp;

namespace MedSsl.Tests.Reports;

public sealed class DisplayFormattersTests
{
    private static string Text(JsonNode? node) => node!.GetValue<string>();

    [Fact]
    public void A_chart_is_plotly_json_then_html_that_draws_it_with_the_pages_plotly()
    {
        var chart = Charts.Scatter([0.0, 1], [1.0, 0], ["a", "b"], "</script><script>alert(1)</script>");

        var bundle = DisplayFormatters.Format(chart);

        Assert.Equal([DisplayFormatters.PlotlyMimeType, "text/html", "text/plain"], bundle.Select(p => p.Key));
        var figure = bundle[DisplayFormatters.PlotlyMimeType]!.AsObject();
        Assert.Equal(["a", "b"], figure["data"]!.AsArray().Select(t => Text(t!["name"])));
        var html = Text(bundle["text/html"]);
        Assert.Contains("Plotly.newPlot", html);
        Assert.Contains(DisplayFormatters.PlotlyHtmlMarker, html);
        Assert.DoesNotContain("<script src", html);
        Assert.DoesNotContain("cdn", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, html.Split("</script>").Length - 1);   // the title cannot close the script element
    }

    [Fact]
    public void A_chart_without_a_width_of_its_own_fills_its_container_and_an_image_grid_keeps_its_width()
    {
        var scatter = DisplayFormatters.Format(Charts.Scatter([0.0, 1], [1.0, 0], ["a", "b"], "toy"))[DisplayFormatters.PlotlyMimeType]!;
        var grid = DisplayFormatters.Format(Charts.ImageGrid([new float[2, 2], new float[2, 2]]))[DisplayFormatters.PlotlyMimeType]!;

        // Plotly.NET writes its default width into every layout; plotly.js autosizes only without one.
        Assert.Null(scatter["layout"]!["width"]);
        Assert.True(scatter["layout"]!["autosize"]!.GetValue<bool>());
        Assert.NotNull(scatter["layout"]!["height"]);
        Assert.NotEqual(Plotly.NET.Defaults.DefaultWidth, grid["layout"]!["width"]!.GetValue<int>());
    }

    [Fact]
    public void A_charts_html_shows_its_text_until_drawn_and_waits_for_plotly_which_a_loader_defines_once()
    {
        var html = Text(DisplayFormatters.Format(Charts.Scatter([0.0, 1], [1.0, 0], ["a", "b"], "<b>toy</b>"))["text/html"]);
        var loader = DisplayFormatters.PlotlyLoaderHtml("window.Plotly = {};");

        // What a view that runs no scripts shows: the chart's description, HTML-escaped, inside the div.
        Assert.Matches("<div id=\"plotly-[0-9a-f]{12}\" data-medssl-plotly style=\"width:100%\">chart &quot;&lt;b&gt;toy&lt;/b&gt;&quot; with 2 traces \\(not drawn", html);
        Assert.Contains("setTimeout(draw, 100)", html);
        Assert.StartsWith("<script type=\"text/javascript\">if (!window.Plotly) {\nwindow.Plotly = {};\n}</script>", loader);
    }

    [Fact]
    public void A_data_frame_is_an_html_table_of_its_values_capped_at_a_hundred_rows()
    {
        var frame = new DataFrame(
            new StringDataFrameColumn("method", new[] { "FixMatch", "<supervised>" }),
            new DoubleDataFrameColumn("accuracy", new[] { 0.87341234, 0.5 }),
            new Int32DataFrameColumn("seed", new[] { 3, 4 }));

        var bundle = DisplayFormatters.Format(frame);

        var html = Text(bundle["text/html"]);
        Assert.Contains("<th>method</th><th>accuracy</th><th>seed</th>", html);
        Assert.Contains(">0.8734<", html);
        Assert.Contains("&lt;supervised&gt;", html);
        Assert.Contains(">3<", html);
        Assert.Contains("0.8734", Text(bundle["text/plain"]));

        var long_ = new DataFrame(new Int32DataFrameColumn("i", Enumerable.Range(1000, 150)));
        var longHtml = Text(DisplayFormatters.Format(long_)["text/html"]);
        Assert.Contains(">1099<", longHtml);
        Assert.DoesNotContain(">1100<", longHtml);
        Assert.Contains("First 100 of 150 rows", longHtml);
    }

    [Fact]
    public void A_tensor_is_text_with_its_shape_dtype_and_values_and_a_large_one_is_elided()
    {
        using var scope = torch.NewDisposeScope();
        var text = Text(DisplayFormatters.Format(torch.tensor(new float[] { 1.5f, 2, 3, 4, 5, 6 }, [2, 3]))["text/plain"]);
        Assert.Contains("[2, 3]", text);
        Assert.Contains("Float32", text);
        Assert.Contains("1.5", text);
        Assert.Contains("6", text);

        var large = Text(DisplayFormatters.Format(torch.arange(1_000_000, dtype: torch.int64).reshape(1000, 1000))["text/plain"]);
        Assert.Contains("[1000, 1000]", large);
        Assert.Contains("Int64", large);
        Assert.True(large.Length < 20_000, $"{large.Length} characters for a 1000 x 1000 tensor");
    }

    [Fact]
    public void A_gray_image_is_a_png_of_its_size_and_values()
    {
        var pixels = new float[,] { { 0, 0.5f, 1, 2 }, { -1, 0.25f, 0.75f, 1 }, { 0.1f, 0.2f, 0.3f, 0.4f } };

        var bundle = DisplayFormatters.Format(new GrayImage(pixels));

        var bytes = Convert.FromBase64String(Text(bundle["image/png"]));
        Assert.Equal([137, 80, 78, 71, 13, 10, 26, 10], bytes[..8]);
        var png = Png.Decode(bytes);
        Assert.Equal((4, 3, 1), (png.Width, png.Height, png.Channels));
        var decoded = png.ToChannelMajor();
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 4; j++)
                Assert.Equal(Math.Clamp(pixels[i, j], 0, 1), decoded[i * 4 + j], 1.0 / 255);
        Assert.Equal("image/png", bundle.First().Key);
    }

    [Fact]
    public void Other_values_are_text_and_requested_mime_types_are_honoured()
    {
        Assert.Equal(["text/plain"], DisplayFormatters.Format("hello").Select(p => p.Key));
        Assert.Equal("hello", Text(DisplayFormatters.Format("hello")["text/plain"]));
        Assert.Equal("<null>", Text(DisplayFormatters.Format(null)["text/plain"]));
        Assert.Equal("[1, 2, 3]", Text(DisplayFormatters.Format(new[] { 1, 2, 3 })["text/plain"]));

        var chart = Charts.Line([0.0, 1], [1.0, 2], "l");
        Assert.Equal(["text/plain"], DisplayFormatters.Format(chart, ["text/plain"]).Select(p => p.Key));
        Assert.Equal("<pre>a &lt; b</pre>", Text(DisplayFormatters.Format("a < b", ["text/html"])["text/html"]));
        Assert.Equal(2, DisplayFormatters.Format(new { x = 2 }, ["application/json"])["application/json"]!["x"]!.GetValue<int>());
    }

    private class Shape(string name)
    {
        public string Name { get; } = name;
    }

    private sealed class Circle() : Shape("circle");

    [Fact]
    public void A_registered_type_and_its_subtypes_use_the_registered_formatter()
    {
        Assert.DoesNotContain("text/markdown", DisplayFormatters.Format(new Circle()).Select(p => p.Key));

        DisplayFormatters.Register<Shape>(shape => new JsonObject { ["text/markdown"] = $"**{shape.Name}**" });

        var bundle = DisplayFormatters.Format(new Circle());
        Assert.Equal("**circle**", Text(bundle["text/markdown"]));
        Assert.True(bundle.ContainsKey("text/plain"));   // every bundle keeps a plain-text form
    }
}

using System.Text.Json.Nodes;
using MedSsl.Metrics;
using MedSsl.Reports;
using Plotly.NET;
using TorchSharp;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace MedSsl.Tests.Reports;

public sealed class ChartsTests
{
    internal static JsonNode Figure(GenericChart chart) => JsonNode.Parse(GenericChart.toFigureJson(chart))!;

    private static double[] Doubles(JsonNode? array) => array!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
    private static string[] Strings(JsonNode? array) => array!.AsArray().Select(v => v!.GetValue<string>()).ToArray();
    private static string Text(JsonNode? node) => node!.GetValue<string>();

    [Fact]
    public void Plane_lays_an_image_tensor_out_row_by_row_and_refuses_a_batch()
    {
        using var image = torch.arange(6, dtype: torch.float64).reshape(1, 1, 2, 3);
        Assert.Equal(new float[,] { { 0, 1, 2 }, { 3, 4, 5 } }, Charts.Plane(image));
        Assert.Equal(new float[,] { { 0, 3 }, { 1, 4 }, { 2, 5 } }, Charts.Plane(image[0, 0].t()));
        using var batch = torch.zeros(2, 1, 2, 3);
        Assert.Contains("one image", Assert.Throws<ArgumentException>(() => Charts.Plane(batch)).Message);
    }

    [Fact]
    public void Scatter_draws_a_trace_per_group_and_highlighted_points_last_as_large_outlined_markers()
    {
        var figure = Figure(Charts.Scatter([0.0, 1, 2, 3, 4], [10.0, 11, 12, 13, 14], ["b", "a", "b", "a", "b"], "toy",
            highlight: [false, false, true, false, false]));

        var traces = figure["data"]!.AsArray();
        Assert.Equal(["a", "b", "b, highlighted"], traces.Select(t => Text(t!["name"])));
        Assert.Equal([1.0, 3.0], Doubles(traces[0]!["x"]));
        Assert.Equal([0.0, 4.0], Doubles(traces[1]!["x"]));
        Assert.Equal([10.0, 14.0], Doubles(traces[1]!["y"]));
        Assert.Equal([2.0], Doubles(traces[2]!["x"]));
        var plain = traces[1]!["marker"]!;
        var highlighted = traces[2]!["marker"]!;
        Assert.True(highlighted["size"]!.GetValue<double>() >= 2 * plain["size"]!.GetValue<double>());
        Assert.True(highlighted["line"]!["width"]!.GetValue<double>() > 0);
        Assert.Equal(Text(plain["color"]), Text(highlighted["color"]));   // the group's colour, so it reads as "b"
        Assert.NotEqual(Text(traces[0]!["marker"]!["color"]), Text(plain["color"]));
        Assert.Equal("toy", Text(figure["layout"]!["title"]!["text"]));
        Assert.Throws<ArgumentException>(() => Charts.Scatter([0.0], [1.0, 2.0], ["a"]));
        Assert.Throws<ArgumentException>(() => Charts.Scatter([0.0], [1.0], ["a"], highlight: [true, false]));
    }

    [Fact]
    public void Decision_boundary_holds_the_models_probability_at_every_grid_point_computed_without_gradients()
    {
        var gradientsWereOn = true;
        var chart = Charts.DecisionBoundary(points =>
        {
            gradientsWereOn = torch.is_grad_enabled();
            return torch.sigmoid(points[.., 0] * 2 - points[.., 1]);
        }, (-1, 2), (0, 3), "boundary", resolution: 7);

        Assert.False(gradientsWereOn);
        var contour = Figure(chart)["data"]![0]!;
        Assert.Equal("contour", Text(contour["type"]));
        var x = Doubles(contour["x"]);
        var y = Doubles(contour["y"]);
        Assert.Equal(7, x.Length);
        Assert.Equal((-1.0, 2.0), (x[0], x[^1]));
        Assert.Equal((0.0, 3.0), (y[0], y[^1]));
        var z = contour["z"]!.AsArray();
        Assert.Equal(7, z.Count);
        for (var i = 0; i < 7; i++)
            for (var j = 0; j < 7; j++)
                Assert.Equal(1 / (1 + Math.Exp(-(2 * x[j] - y[i]))), z[i]![j]!.GetValue<double>(), 1e-6);   // float32 model
        Assert.NotNull(contour["colorbar"]);
        Assert.Throws<ArgumentException>(() => Charts.DecisionBoundary(points => torch.zeros(3), (0, 1), (0, 1), resolution: 4));
    }

    [Fact]
    public void Combined_with_a_scatter_the_boundary_lies_under_the_points_and_the_legend_below_the_plot()
    {
        var boundary = Charts.DecisionBoundary(points => torch.sigmoid(points[.., 0]), (-1, 1), (-1, 1), "P and the points", resolution: 5);
        var figure = Figure(CSharpChart.Combine([boundary, Charts.Scatter([0.0, 0.5], [0.0, 0.5], ["moon 0", "moon 1"])]));

        Assert.Equal(["contour", "scatter", "scatter"], figure["data"]!.AsArray().Select(t => Text(t!["type"])));
        var layout = figure["layout"]!;
        Assert.Equal("P and the points", Text(layout["title"]!["text"]));
        // The colour bar stands right of the plot (plotly's default x = 1.02); a horizontal legend under the plot
        // cannot reach it. BrowserTests measures the drawn boxes.
        Assert.Equal("h", Text(layout["legend"]!["orientation"]));
        Assert.True(layout["legend"]!["y"]!.GetValue<double>() < 0);
        Assert.Equal("top", Text(layout["legend"]!["yanchor"]));
    }

    [Fact]
    public void Bounds_widen_the_points_box_by_the_margin()
    {
        var (x, y) = Charts.Bounds([1.0, -2, 3], [0.5, 4, 2], margin: 1);
        Assert.Equal((-3.0, 4.0), x);
        Assert.Equal((-0.5, 5.0), y);
    }

    [Fact]
    public void Box_with_ci_draws_a_box_per_group_and_the_mean_with_its_t_interval_as_error_bar()
    {
        (string, double)[] values = [("0.1", 0.5), ("10", 0.8), ("0.1", 0.7), ("1", 0.9), ("0.1", 0.6), ("10", 0.85)];

        var figure = Figure(Charts.BoxWithCi(values, "F1 against λ", "F1"));

        var traces = figure["data"]!.AsArray();
        Assert.Equal(["box", "box", "box", "scatter"], traces.Select(t => Text(t!["type"])));
        Assert.Equal(["0.1", "10", "1"], traces.Take(3).Select(t => Text(t!["name"])));
        Assert.Equal([0.5, 0.7, 0.6], Doubles(traces[0]!["y"]));
        Assert.Equal("all", Text(traces[0]!["boxpoints"]));
        var means = traces[3]!;
        var expected = new[] { MeanConfidenceInterval.Of([0.5, 0.7, 0.6]), MeanConfidenceInterval.Of([0.8, 0.85]) };
        Assert.Equal(["0.1", "10", "1"], Strings(means["x"]));
        Assert.Equal([expected[0].Mean, expected[1].Mean, 0.9], Doubles(means["y"]), (a, b) => Math.Abs(a - b) < 1e-12);
        // A single value has no interval: no bar.
        Assert.Equal([expected[0].HalfWidth, expected[1].HalfWidth, 0], Doubles(means["error_y"]!["array"]), (a, b) => Math.Abs(a - b) < 1e-12);
        var xAxis = figure["layout"]!["xaxis"]!;
        Assert.Equal("category", Text(xAxis["type"]));
        Assert.Equal(["0.1", "10", "1"], Strings(xAxis["categoryarray"]));
        Assert.Equal("F1", Text(figure["layout"]!["yaxis"]!["title"]!["text"]));
    }

    [Fact]
    public void Mean_with_ci_draws_per_series_the_mean_at_each_x_in_a_band_of_its_t_interval()
    {
        (string, double, double)[] values = [("FixMatch", 0.2, 0.7), ("FixMatch", 0.1, 0.5), ("FixMatch", 0.1, 0.6), ("FixMatch", 0.2, 0.8),
            ("FixMatch", 0.1, 0.55), ("supervised", 0.1, 0.4), ("supervised", 0.2, 0.45), ("supervised", 0.2, 0.5)];

        var figure = Figure(Charts.MeanWithCi(values, "F1 against the labelled fraction", "labelled fraction", "F1"));

        var traces = figure["data"]!.AsArray();
        Assert.Equal(4, traces.Count);
        var (band, line) = (traces[0]!, traces[1]!);
        var at01 = MeanConfidenceInterval.Of([0.5, 0.6, 0.55]);
        var at02 = MeanConfidenceInterval.Of([0.7, 0.8]);
        Assert.Equal("FixMatch", Text(line["name"]));
        Assert.Equal([0.1, 0.2], Doubles(line["x"]));
        Assert.Equal([at01.Mean, at02.Mean], Doubles(line["y"]), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal([0.1, 0.2, 0.2, 0.1], Doubles(band["x"]));
        Assert.Equal([at01.Upper, at02.Upper, at02.Lower, at01.Lower], Doubles(band["y"]), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal("toself", Text(band["fill"]));
        // A single value at x = 0.1: the band closes onto the mean.
        Assert.Equal(0.4, Doubles(traces[2]!["y"])[^1], 12);
        Assert.Equal("supervised", Text(traces[3]!["name"]));
        Assert.NotEqual(Text(line["line"]!["color"]), Text(traces[3]!["line"]!["color"]));
        Assert.Equal("labelled fraction", Text(figure["layout"]!["xaxis"]!["title"]!["text"]));
    }

    [Fact]
    public void Line_and_embedding_carry_their_values_and_titles()
    {
        var line = Figure(Charts.Line([1.0, 2, 3], [0.9, 0.5, 0.3], "loss", "Training loss", "epoch", "cross-entropy"));
        Assert.Equal([0.9, 0.5, 0.3], Doubles(line["data"]![0]!["y"]));
        Assert.Equal("loss", Text(line["data"]![0]!["name"]));
        Assert.Equal("epoch", Text(line["layout"]!["xaxis"]!["title"]!["text"]));
        Assert.Equal("cross-entropy", Text(line["layout"]!["yaxis"]!["title"]!["text"]));

        var embedding = Figure(Charts.Embedding(new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } }, ["cluster 1", "cluster 0", "cluster 1"], "t-SNE"));
        var traces = embedding["data"]!.AsArray();
        Assert.Equal(["cluster 0", "cluster 1"], traces.Select(t => Text(t!["name"])));
        Assert.Equal([1.0, 5.0], Doubles(traces[1]!["x"]));
        Assert.Equal([2.0, 6.0], Doubles(traces[1]!["y"]));
        Assert.Throws<ArgumentException>(() => Charts.Embedding(new double[2, 3], ["a", "b"]));
    }

    [Fact]
    public void Image_grid_places_images_in_subplots_with_class_masks_over_them()
    {
        var image = new float[,] { { 0, 0.5f }, { 1, 0.25f } };
        var mask = new float[,] { { 0, 1 }, { 2, 0 } };
        var figure = Figure(Charts.ImageGrid([image, image, image], [mask, null, mask], ["a", "b", "c"], columns: 2));

        var traces = figure["data"]!.AsArray();
        Assert.Equal(5, traces.Count);   // three images, two masks
        Assert.Equal([0.0, 0.5], Doubles(traces[0]!["z"]![0]));
        Assert.Equal("x3", Text(traces[4]!["xaxis"]));
        var maskZ = traces[1]!["z"]!;
        Assert.Null(maskZ[0]![0]);       // class 0 is a gap: transparent
        Assert.Equal(1.0, maskZ[0]![1]!.GetValue<double>());
        Assert.True(traces[1]!["opacity"]!.GetValue<double>() is > 0 and < 1);
        // Classes 1 and 2 map to different colours on the mask's scale.
        var scale = traces[1]!["colorscale"]!.AsArray();
        var zmin = traces[1]!["zmin"]!.GetValue<double>();
        var zmax = traces[1]!["zmax"]!.GetValue<double>();
        string ColourOf(double value)
        {
            var at = (value - zmin) / (zmax - zmin);
            return Text(scale.Last(stop => stop![0]!.GetValue<double>() <= at)![1]);
        }
        Assert.NotEqual(ColourOf(1), ColourOf(2));
        var layout = figure["layout"]!;
        Assert.Equal(2, layout["grid"]!["rows"]!.GetValue<int>());
        Assert.Equal("reversed", Text(layout["yaxis3"]!["autorange"]));
        Assert.Equal(["a", "b", "c"], layout["annotations"]!.AsArray().Select(a => Text(a!["text"])));
        Assert.Throws<ArgumentException>(() => Charts.ImageGrid([image], [new float[3, 2]]));
    }

    [Fact]
    public void Heatmap_keeps_rows_and_labels_with_row_zero_on_top()
    {
        var figure = Figure(Charts.Heatmap(new double[,] { { 5, 1, 0 }, { 2, 7, double.NaN } }, ["cat", "dog", "fox"], ["true cat", "true dog"], "confusion"));
        var trace = figure["data"]![0]!;
        Assert.Equal("heatmap", Text(trace["type"]));
        Assert.Equal([5.0, 1, 0], Doubles(trace["z"]![0]));
        Assert.Null(trace["z"]![1]![2]);
        Assert.Equal(["cat", "dog", "fox"], Strings(trace["x"]));
        Assert.Equal(["true cat", "true dog"], Strings(trace["y"]));
        Assert.Equal("reversed", Text(figure["layout"]!["yaxis"]!["autorange"]));
        Assert.Throws<ArgumentException>(() => Charts.Heatmap(new double[2, 2], ["a"]));
    }
}

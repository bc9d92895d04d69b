using MedSsl.Metrics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace MedSsl.Reports;

/// <summary>The figures the notebooks draw, as plotly.js traces. Each returns a <see cref="Figure"/>; combine them
/// with <see cref="Figure.Overlay"/> (e.g. training points over a decision-boundary contour).</summary>
public static class Plot
{
    /// <summary>plotly's default colour sequence, so bands and lines of one series share a colour.</summary>
    private static readonly string[] Palette =
        ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff", "#fecb52"];

    /// <summary>Points coloured by label, one legend entry per label (t-SNE maps, toy data sets).</summary>
    public static Figure Scatter<TLabel>(IReadOnlyList<double> x, IReadOnlyList<double> y, IReadOnlyList<TLabel> labels, string? title = null)
        where TLabel : notnull
    {
        CheckSameLength(("x", x.Count), ("y", y.Count), ("labels", labels.Count));
        var figure = new Figure(title);
        foreach (var group in Enumerable.Range(0, x.Count).GroupBy(i => labels[i]).OrderBy(g => g.Key))
        {
            figure.AddTrace(new JsonObject
            {
                ["type"] = "scatter",
                ["mode"] = "markers",
                ["name"] = Convert.ToString(group.Key, CultureInfo.InvariantCulture),
                ["x"] = Numbers(group.Select(i => x[i])),
                ["y"] = Numbers(group.Select(i => y[i])),
                ["marker"] = new JsonObject { ["size"] = 6, ["opacity"] = 0.8 },
            });
        }
        return figure;
    }

    /// <summary>One box per group with every point drawn beside it (e.g. a λ sweep across seeds).</summary>
    public static Figure Box(IEnumerable<KeyValuePair<string, IReadOnlyList<double>>> groups, string? title = null, string? yTitle = null)
    {
        var figure = new Figure(title).WithAxisTitles(null, yTitle);
        foreach (var (name, values) in groups)
        {
            figure.AddTrace(new JsonObject
            {
                ["type"] = "box",
                ["name"] = name,
                ["y"] = Numbers(values),
                ["boxpoints"] = "all",
                ["jitter"] = 0.4,
                ["pointpos"] = 0,
            });
        }
        return figure;
    }

    /// <summary>Adds a line (e.g. a training loss per epoch) to <paramref name="figure"/>, or to a new one.</summary>
    public static Figure Line(IReadOnlyList<double> x, IReadOnlyList<double> y, string name, Figure? figure = null)
    {
        CheckSameLength(("x", x.Count), ("y", y.Count));
        return (figure ?? new Figure()).AddTrace(new JsonObject
        {
            ["type"] = "scatter", ["mode"] = "lines", ["name"] = name, ["x"] = Numbers(x), ["y"] = Numbers(y),
        });
    }

    /// <summary>Adds a line with a shaded band (e.g. mean and 95 % CI) to <paramref name="figure"/>, or to a new one.</summary>
    public static Figure LineWithBand(IReadOnlyList<double> x, IReadOnlyList<double> mean, IReadOnlyList<double> lower,
        IReadOnlyList<double> upper, string name, Figure? figure = null)
    {
        CheckSameLength(("x", x.Count), ("mean", mean.Count), ("lower", lower.Count), ("upper", upper.Count));
        figure ??= new Figure();
        var colour = Palette[figure.Data.Count / 2 % Palette.Length];
        // The band is one closed polygon: along the upper edge, then back along the lower edge.
        figure.AddTrace(new JsonObject
        {
            ["type"] = "scatter",
            ["x"] = Numbers(x.Concat(x.Reverse())),
            ["y"] = Numbers(upper.Concat(lower.Reverse())),
            ["fill"] = "toself",
            ["fillcolor"] = colour + "33",
            ["line"] = new JsonObject { ["width"] = 0 },
            ["hoverinfo"] = "skip",
            ["showlegend"] = false,
            ["legendgroup"] = name,
        });
        figure.AddTrace(new JsonObject
        {
            ["type"] = "scatter",
            ["mode"] = "lines+markers",
            ["name"] = name,
            ["x"] = Numbers(x),
            ["y"] = Numbers(mean),
            ["line"] = new JsonObject { ["color"] = colour },
            ["legendgroup"] = name,
        });
        return figure;
    }

    /// <summary>Mean over seeds with its 95 % t-interval as a band; <paramref name="perSeed"/>[s][i] is seed s at x[i].</summary>
    public static Figure LineWithConfidenceBand(IReadOnlyList<double> x, IReadOnlyList<IReadOnlyList<double>> perSeed, string name, Figure? figure = null)
    {
        var intervals = Enumerable.Range(0, x.Count)
            .Select(i => MeanConfidenceInterval.Of(perSeed.Select(seed => seed[i]).ToArray()))
            .ToArray();
        return LineWithBand(x, intervals.Select(c => c.Mean).ToArray(), intervals.Select(c => c.Lower).ToArray(),
            intervals.Select(c => c.Upper).ToArray(), name, figure);
    }

    /// <summary>z[row, column] over a grid: row i at y[i], column j at x[j] (e.g. class probability on a mesh).</summary>
    public static Figure Heatmap(double[,] z, IReadOnlyList<double> x, IReadOnlyList<double> y, string? title = null, string colorscale = "RdBu") =>
        Grid("heatmap", z, x, y, title, colorscale);

    /// <summary>Filled contours of z over a grid (decision boundaries); same layout as <see cref="Heatmap"/>.</summary>
    public static Figure Contour(double[,] z, IReadOnlyList<double> x, IReadOnlyList<double> y, string? title = null, string colorscale = "RdBu") =>
        Grid("contour", z, x, y, title, colorscale);

    /// <summary>Greyscale images in a grid, each optionally with a segmentation mask drawn over it in translucent red
    /// (mask > 0). Images are [row, column] with row 0 at the top.</summary>
    public static Figure ImageGrid(IReadOnlyList<float[,]> images, IReadOnlyList<float[,]?>? masks = null, int columns = 4,
        IReadOnlyList<string>? titles = null, string? title = null)
    {
        if (images.Count == 0) throw new ArgumentException("ImageGrid needs at least one image", nameof(images));
        if (masks is not null && masks.Count != images.Count)
            throw new ArgumentException($"ImageGrid got {images.Count} images but {masks.Count} masks", nameof(masks));
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "columns must be at least 1");
        columns = Math.Min(columns, images.Count);
        var rows = (images.Count + columns - 1) / columns;
        var figure = new Figure(title) { Height = 60 + 220 * rows };
        figure.Layout["grid"] = new JsonObject { ["rows"] = rows, ["columns"] = columns, ["pattern"] = "independent" };
        figure.Layout["showlegend"] = false;
        var annotations = new JsonArray();
        for (var k = 0; k < images.Count; k++)
        {
            var suffix = k == 0 ? "" : (k + 1).ToString(CultureInfo.InvariantCulture);
            var image = images[k];
            figure.AddTrace(ImageTrace(image, "Greys", reverse: true, suffix));
            if (masks?[k] is { } mask)
            {
                if (mask.GetLength(0) != image.GetLength(0) || mask.GetLength(1) != image.GetLength(1))
                    throw new ArgumentException($"mask {k} is {mask.GetLength(0)}x{mask.GetLength(1)} but image {k} is {image.GetLength(0)}x{image.GetLength(1)}", nameof(masks));
                var overlay = ImageTrace(mask, null, reverse: false, suffix);
                overlay["colorscale"] = new JsonArray(new JsonArray(0, "rgba(0,0,0,0)"), new JsonArray(1, "rgba(255,40,40,0.45)"));
                overlay["zmin"] = 0;
                overlay["zmax"] = 1;
                overlay["zauto"] = false;
                figure.AddTrace(overlay);
            }
            figure.Layout["xaxis" + suffix] = new JsonObject { ["visible"] = false, ["constrain"] = "domain" };
            figure.Layout["yaxis" + suffix] = new JsonObject
            {
                ["visible"] = false, ["autorange"] = "reversed", ["scaleanchor"] = "x" + suffix, ["constrain"] = "domain",
            };
            if (titles is not null && k < titles.Count)
            {
                annotations.Add(new JsonObject
                {
                    ["text"] = titles[k], ["showarrow"] = false, ["xref"] = $"x{suffix} domain", ["yref"] = $"y{suffix} domain",
                    ["x"] = 0.5, ["y"] = 1.08, ["xanchor"] = "center",
                });
            }
        }
        if (annotations.Count > 0) figure.Layout["annotations"] = annotations;
        return figure;
    }

    private static JsonObject ImageTrace(float[,] values, string? colorscale, bool reverse, string axisSuffix)
    {
        var rows = new JsonArray();
        for (var i = 0; i < values.GetLength(0); i++)
        {
            var row = new JsonArray();
            for (var j = 0; j < values.GetLength(1); j++) row.Add(Number(values[i, j]));
            rows.Add(row);
        }
        var trace = new JsonObject
        {
            ["type"] = "heatmap", ["z"] = rows, ["showscale"] = false, ["hoverinfo"] = "z",
            ["xaxis"] = "x" + axisSuffix, ["yaxis"] = "y" + axisSuffix,
        };
        if (colorscale is not null)
        {
            trace["colorscale"] = colorscale;
            trace["reversescale"] = reverse;
        }
        return trace;
    }

    private static Figure Grid(string type, double[,] z, IReadOnlyList<double> x, IReadOnlyList<double> y, string? title, string colorscale)
    {
        if (z.GetLength(0) != y.Count || z.GetLength(1) != x.Count)
            throw new ArgumentException($"{type}: z is {z.GetLength(0)}x{z.GetLength(1)} but y has {y.Count} and x has {x.Count} values", nameof(z));
        var rows = new JsonArray();
        for (var i = 0; i < z.GetLength(0); i++)
        {
            var row = new JsonArray();
            for (var j = 0; j < z.GetLength(1); j++) row.Add(Number(z[i, j]));
            rows.Add(row);
        }
        return new Figure(title).AddTrace(new JsonObject
        {
            ["type"] = type, ["z"] = rows, ["x"] = Numbers(x), ["y"] = Numbers(y), ["colorscale"] = colorscale,
        });
    }

    /// <summary>JSON has no NaN or infinity; plotly treats null as a gap, which is what a missing value is.</summary>
    private static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static JsonArray Numbers(IEnumerable<double> values) => new(values.Select(Number).ToArray());

    private static void CheckSameLength(params (string Name, int Count)[] arrays)
    {
        if (arrays.Any(a => a.Count != arrays[0].Count))
            throw new ArgumentException("plot inputs differ in length: " + string.Join(", ", arrays.Select(a => $"{a.Name} has {a.Count}")));
    }
}

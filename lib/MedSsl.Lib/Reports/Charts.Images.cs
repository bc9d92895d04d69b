using System.Globalization;
using DynamicObj;
using Plotly.NET;
using Plotly.NET.LayoutObjects;

namespace MedSsl.Reports;

public static partial class Charts
{
    private const int ImageCellPixels = 220;

    /// <summary>An image tensor ([H, W], or any leading dimensions of size 1) as the [row, column] array the image
    /// charts draw.</summary>
    public static float[,] Plane(TorchSharp.torch.Tensor image)
    {
        var (height, width) = ((int)image.size(-2), (int)image.size(-1));
        if (image.numel() != (long)height * width)
            throw new ArgumentException($"Plane takes one image, not a tensor of shape [{string.Join(", ", image.shape)}]", nameof(image));
        var values = image.to(TorchSharp.torch.ScalarType.Float32).contiguous().data<float>().ToArray();
        var plane = new float[height, width];
        Buffer.BlockCopy(values, 0, plane, 0, values.Length * sizeof(float));
        return plane;
    }

    /// <summary>Grey images ([row, column], row 0 at the top, values in [0, 1]) in a grid of subplots, each optionally
    /// with an integer class mask drawn over it half-transparently: class 0 is left clear, classes 1, 2, … get distinct
    /// colours.</summary>
    public static GenericChart ImageGrid(IReadOnlyList<float[,]> images, IReadOnlyList<float[,]?>? masks = null,
        IReadOnlyList<string>? titles = null, int columns = 4)
    {
        if (images.Count == 0) throw new ArgumentException("ImageGrid needs at least one image", nameof(images));
        if (masks is not null && masks.Count != images.Count)
            throw new ArgumentException($"ImageGrid got {images.Count} images but {masks.Count} masks", nameof(masks));
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "columns must be at least 1");
        columns = Math.Min(columns, images.Count);
        var rows = (images.Count + columns - 1) / columns;
        var classes = masks?.Where(m => m is not null).SelectMany(m => m!.Cast<float>()).DefaultIfEmpty(0f).Max() ?? 0;
        var traces = new List<Trace>();
        var layout = new Layout();
        var annotations = new List<Annotation>();
        for (var k = 0; k < images.Count; k++)
        {
            var suffix = k == 0 ? "" : (k + 1).ToString(CultureInfo.InvariantCulture);
            var image = images[k];
            traces.Add(NewTrace("heatmap", ("z", Rows(image.GetLength(0), image.GetLength(1), (i, j) => image[i, j])),
                ("colorscale", "Greys"), ("reversescale", true), ("zmin", 0.0), ("zmax", 1.0), ("showscale", false),
                ("xaxis", "x" + suffix), ("yaxis", "y" + suffix), ("name", titles is not null && k < titles.Count ? titles[k] : $"image {k}")));
            if (masks?[k] is { } mask)
            {
                if (mask.GetLength(0) != image.GetLength(0) || mask.GetLength(1) != image.GetLength(1))
                    throw new ArgumentException($"mask {k} is {mask.GetLength(0)}x{mask.GetLength(1)} but image {k} is {image.GetLength(0)}x{image.GetLength(1)}", nameof(masks));
                // Class 0 becomes a gap (null), which a heatmap leaves transparent.
                traces.Add(NewTrace("heatmap", ("z", Rows(mask.GetLength(0), mask.GetLength(1), (i, j) => mask[i, j] == 0 ? double.NaN : mask[i, j])),
                    ("colorscale", ClassColours((int)Math.Round(classes))), ("zmin", 0.5), ("zmax", Math.Round(classes) + 0.5),
                    ("opacity", 0.45), ("showscale", false), ("hoverinfo", "z"), ("xaxis", "x" + suffix), ("yaxis", "y" + suffix),
                    ("name", $"mask {k}")));
            }
            var xAxis = new LinearAxis();
            xAxis.SetProperty("visible", false);
            xAxis.SetProperty("constrain", "domain");
            var yAxis = new LinearAxis();
            yAxis.SetProperty("visible", false);
            yAxis.SetProperty("autorange", "reversed");
            yAxis.SetProperty("scaleanchor", "x" + suffix);
            yAxis.SetProperty("constrain", "domain");
            layout.SetProperty("xaxis" + suffix, xAxis);
            layout.SetProperty("yaxis" + suffix, yAxis);
            if (titles is not null && k < titles.Count)
            {
                var annotation = new Annotation();
                foreach (var (name, value) in new (string, object)[] { ("text", titles[k]), ("showarrow", false), ("xref", $"x{suffix} domain"),
                             ("yref", $"y{suffix} domain"), ("x", 0.5), ("y", 1.0), ("xanchor", "center"), ("yanchor", "bottom") })
                    annotation.SetProperty(name, value);
                annotations.Add(annotation);
            }
        }
        layout.SetProperty("grid", Attributes(("rows", rows), ("columns", columns), ("pattern", "independent")));
        layout.SetProperty("showlegend", false);
        layout.SetProperty("width", 80 + ImageCellPixels * columns);
        layout.SetProperty("height", 80 + ImageCellPixels * rows);
        if (annotations.Count > 0) layout.SetProperty("annotations", annotations);
        return Plotly.NET.Chart.withLayout(layout).Invoke(ChartOf(traces));
    }

    /// <summary>A stepped colour scale giving class c (1 … classes, on zmin 0.5 … zmax classes + 0.5) its own
    /// palette colour.</summary>
    private static object[][] ClassColours(int classes)
    {
        classes = Math.Max(classes, 1);
        var stops = new List<object[]>();
        for (var c = 1; c <= classes; c++)
        {
            var colour = Palette[(c - 1) % Palette.Length];
            stops.Add([(c - 1) / (double)classes, colour]);
            stops.Add([c / (double)classes, colour]);
        }
        return [.. stops];
    }
}

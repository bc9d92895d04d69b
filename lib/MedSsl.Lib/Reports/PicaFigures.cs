using MedSsl.Data;
using MedSsl.Experiments;
using MedSsl.Metrics;
using Microsoft.Data.Analysis;
using Plotly.NET;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Reports;

/// <summary>Notebook 01's figures and tables, drawn from a <see cref="PicaStudyResult"/>'s rows and example runs.</summary>
public static class PicaFigures
{
    public static string DisplayName(string loss) => loss == "pica" ? "PICA" : "PICA + L_SD";

    /// <summary>A row's setting as the figures label it.</summary>
    public static string Label(PicaRow row) => new PicaSetting(row.Loss, row.Lambda, row.Epsilon).ToString();

    /// <summary>Table 1's layout at the default λ: rows (measure, loss), per class and for the weighted average the best
    /// and the mean over seeds (each cell's best on its own, as Table 1 reports), in percent; the test labels per class last.</summary>
    public static DataFrame Table1(this PicaStudyResult study)
    {
        var classNames = study.Data.LabelNames;
        var cells = classNames.Append("weighted avg").SelectMany(n => new[] { ($"{n} best", new List<double>()), ($"{n} mean", new List<double>()) }).ToList();
        var measures = new (string Name, Func<PicaClassRow, double> Class, Func<PicaRow, double> Weighted)[]
        {
            ("F1", c => c.F1, r => r.F1Weighted), ("precision", c => c.Precision, r => r.PrecisionWeighted), ("recall", c => c.Recall, r => r.RecallWeighted),
        };
        var labels = new List<(string Measure, string Loss)>();
        foreach (var (measure, ofClass, weighted) in measures)
            foreach (var loss in PicaStudy.Losses)
            {
                labels.Add((measure, DisplayName(loss)));
                var values = classNames.Select(name => study.Classes.Rows.Where(c => PicaStudy.AtDefault(loss).Matches(c.Loss, c.Lambda, c.Epsilon) && c.Class == name).Select(ofClass).ToList())
                    .Append(study.AtDefault(loss).Select(weighted).ToList()).ToList();
                for (var j = 0; j < values.Count; j++)
                {
                    cells[2 * j].Item2.Add(100 * values[j].Max());
                    cells[2 * j + 1].Item2.Add(100 * values[j].Average());
                }
            }
        labels.Add(("n_labels", ""));
        var support = study.Data.Where(DataSplit.Test).LabelCounts();
        for (var j = 0; j <= classNames.Count; j++)
        {
            var n = j < classNames.Count ? support[j] : support.Sum();
            cells[2 * j].Item2.Add(n);
            cells[2 * j + 1].Item2.Add(n);
        }
        return new DataFrame([new StringDataFrameColumn("measure", labels.Select(l => l.Measure)), new StringDataFrameColumn("loss", labels.Select(l => l.Loss)),
            .. cells.Select(c => (DataFrameColumn)new DoubleDataFrameColumn(c.Item1, c.Item2.Select(v => Math.Round(v, 2))))]);
    }

    /// <summary>Per loss at the default λ, the mean over seeds of the sorted cluster sizes: the hard partition of the
    /// unlabelled training images, or the soft batch mass z (mean over the batches of one epoch).</summary>
    public static double[] MeanSortedSizes(this PicaStudyResult study, string loss, bool soft)
    {
        var runs = study.Sizes.Where(p => p.Key.Item1 == PicaStudy.AtDefault(loss)).Select(p => soft ? p.Value.Soft : p.Value.Hard).ToList();
        return [.. Enumerable.Range(0, runs.Max(r => r.Length)).Select(k => runs.Average(r => k < r.Length ? r[k] : 0))];
    }

    /// <summary>The sorted sizes of both losses at λ = 2 (mean over seeds) against the true label-combination
    /// frequencies and against uniform sizes: the soft batch mass z, or the hard partition of the training images.</summary>
    public static GenericChart SizesChart(this PicaStudyResult study, bool soft)
    {
        double[] Ranks(int n) => [.. Enumerable.Range(1, n).Select(r => (double)r)];
        var what = soft ? "soft cluster mass z per batch (mean over batches and seeds)" : "hard partition of the unlabelled training images (mean over seeds)";
        var k = study.Clusters;
        return Plotly.NET.CSharp.Chart.Combine([
            Charts.Line(Ranks(study.TrueFrequencies.Length), study.TrueFrequencies, "true label combinations", $"Sorted cluster sizes at λ = 2: {what}", "rank (largest first)", "fraction"),
            Charts.Line(Ranks(k), [.. Enumerable.Repeat(1.0 / k, k)], $"uniform over K = {k}"),
            .. PicaStudy.Losses.Select(l => Charts.Line(Ranks(study.MeanSortedSizes(l, soft).Length), study.MeanSortedSizes(l, soft), DisplayName(l)))]);
    }

    /// <summary>"What this run shows": the claims' sentences, then the mechanism's numbers at λ = 2 computed from the rows.</summary>
    public static string WhatThisRunShows(this PicaStudyResult study)
    {
        string Mean(string loss, Func<PicaRow, double> value) => study.AtDefault(loss).Average(value).ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
        var uniform = ClusterSizes.SortedDistance(Enumerable.Repeat(1.0, study.Clusters).ToArray(), study.TrueFrequencies);
        return $"{study.Seeds.Description}.{Environment.NewLine}{study.Claims.Summary}{Environment.NewLine}" +
            $"- At λ = 2 the largest cluster holds {Mean("pica", r => r.LargestCluster)} of the training images with PICA and {Mean("lsd", r => r.LargestCluster)} with PICA + L_SD " +
            $"(the commonest true combination: {study.TrueFrequencies[0]:0.000}; equal sizes: {1.0 / study.Clusters:0.000}).{Environment.NewLine}" +
            $"- Total variation to uniform sizes, soft batch mass / hard partition: PICA {Mean("pica", r => r.SoftToUniform)} / {Mean("pica", r => r.HardToUniform)}, " +
            $"PICA + L_SD {Mean("lsd", r => r.SoftToUniform)} / {Mean("lsd", r => r.HardToUniform)}; to the true frequencies: PICA {Mean("pica", r => r.SoftToTrue)} / {Mean("pica", r => r.HardToTrue)}, " +
            $"PICA + L_SD {Mean("lsd", r => r.SoftToTrue)} / {Mean("lsd", r => r.HardToTrue)} (uniform sizes would be {uniform:0.000} from the true frequencies).{Environment.NewLine}" +
            $"- Weighted F1 with the development set's thresholds instead of 0.5: PICA {Mean("pica", r => r.F1WeightedAtHalf)} → {Mean("pica", r => r.F1Weighted)}, " +
            $"PICA + L_SD {Mean("lsd", r => r.F1WeightedAtHalf)} → {Mean("lsd", r => r.F1Weighted)}.";
    }

    /// <summary>The matched clusters of an example run: cluster, its size on the unlabelled training and development
    /// images, the organs its v̂ holds at ≥ 0.5, v̂ itself, and the most common true combination among its training images.</summary>
    public static DataFrame MatchedClusters(this PicaStudyResult study, string loss)
    {
        var run = study.Example(loss);
        var combinations = LabelCombinations.Of(study.Data.Where(DataSplit.Unlabelled));
        var names = study.Data.LabelNames;
        var order = Enumerable.Range(0, run.Matching.Clusters).OrderByDescending(c => run.TrainClusters.Count(t => t == c)).ToArray();
        string Organs(int c) => string.Join('+', names.Where((_, j) => run.Matching.ClusterLabels[c, j] >= 0.5)) is { Length: > 0 } s ? s : "(none)";
        string Vector(int c) => string.Join(", ", names.Select((n, j) => (n, v: run.Matching.ClusterLabels[c, j])).Where(p => p.v > 0).Select(p => $"{p.n} {p.v:0.00}"));
        string Majority(int c)
        {
            var members = Enumerable.Range(0, run.TrainClusters.Length).Where(i => run.TrainClusters[i] == c).ToList();
            return members.Count == 0 ? "" : combinations.Name(members.GroupBy(i => combinations.Assignments[i]).MaxBy(g => g.Count())!.Key);
        }
        return new DataFrame(
            new Int32DataFrameColumn("cluster", order),
            new Int32DataFrameColumn("train_size", order.Select(c => run.TrainClusters.Count(t => t == c))),
            new Int32DataFrameColumn("dev_size", order.Select(c => run.Matching.ClusterSizes[c])),
            new StringDataFrameColumn("organs", order.Select(Organs)),
            new StringDataFrameColumn("mean_label_vector", order.Select(Vector)),
            new StringDataFrameColumn("majority_true_combination", order.Select(Majority)));
    }

    /// <summary>t-SNE of the backbone features f(x) of an example run on up to <see cref="PicaSettings.TsnePoints"/> unlabelled
    /// training images spread evenly over the split, with each image's cluster and true label combination.</summary>
    public static (double[,] Points, string[] Clusters, string[] Combinations) Embedding(this PicaStudyResult study, string loss)
    {
        var run = study.Example(loss);
        var train = study.Data.Where(DataSplit.Unlabelled);
        var n = Math.Min(study.Settings.TsnePoints, train.Count);
        int[] chosen = [.. Enumerable.Range(0, n).Select(i => (int)((long)i * train.Count / n))];
        double[,] features;
        using (torch.NewDisposeScope())
        {
            var (images, _) = train.Batch(chosen);
            var f = run.Model.Features(images).to(ScalarType.Float64);
            features = new double[n, f.size(1)];
            var flat = f.data<double>().ToArray();
            Buffer.BlockCopy(flat, 0, features, 0, flat.Length * sizeof(double));
        }
        var combinations = LabelCombinations.Of(train);
        return (new MedSsl.Embedding.Tsne { Seed = run.Seed }.FitTransform(features),
            [.. chosen.Select(i => $"cluster {run.TrainClusters[i]:D2}")], [.. chosen.Select(i => combinations.Name(combinations.Assignments[i]))]);
    }
}

using MedSsl.Metrics;

namespace MedSsl.Tests.Metrics;

/// <summary>Every metric against the sklearn / scipy values in Fixtures/reference.json (≤ 1e-6).</summary>
public class MetricsTests
{
    private static readonly System.Text.Json.JsonElement Ref = Reference.Root;

    [Fact]
    public void MultiLabelReportMatchesSklearnAtHalf()
    {
        var ml = Ref.GetProperty("multilabel");
        var predicted = MultiLabelReport.Binarize(ml.GetProperty("s_test").Matrix(), Enumerable.Repeat(0.5, 7).ToArray());
        var report = MultiLabelReport.Compute(ml.GetProperty("y_test").BoolMatrix(), predicted);
        var e = ml.GetProperty("at_half");
        Reference.Close(e.GetProperty("precision").Doubles(), report.Precision, "precision");
        Reference.Close(e.GetProperty("recall").Doubles(), report.Recall, "recall");
        Reference.Close(e.GetProperty("f1").Doubles(), report.F1, "f1");
        Assert.Equal(e.GetProperty("support").Ints(), report.Support);
        Reference.Close(e.GetProperty("weighted_precision").GetDouble(), report.WeightedPrecision, "weighted precision");
        Reference.Close(e.GetProperty("weighted_recall").GetDouble(), report.WeightedRecall, "weighted recall");
        Reference.Close(e.GetProperty("weighted_f1").GetDouble(), report.WeightedF1, "weighted f1");
    }

    [Fact]
    public void ThresholdsChosenOnValidationMatchBruteForceAndScoreTheTestSet()
    {
        var ml = Ref.GetProperty("multilabel");
        var thresholds = new F1Thresholds().Fit(ml.GetProperty("y_val").BoolMatrix(), ml.GetProperty("s_val").Matrix());
        Reference.Close(ml.GetProperty("thresholds").Doubles(), thresholds.Thresholds, "threshold");
        var report = MultiLabelReport.Compute(ml.GetProperty("y_test").BoolMatrix(), thresholds.Predict(ml.GetProperty("s_test").Matrix()));
        var e = ml.GetProperty("at_thresholds");
        Reference.Close(e.GetProperty("f1").Doubles(), report.F1, "f1");
        Reference.Close(e.GetProperty("precision").Doubles(), report.Precision, "precision");
        Reference.Close(e.GetProperty("recall").Doubles(), report.Recall, "recall");
        Reference.Close(e.GetProperty("weighted_f1").GetDouble(), report.WeightedF1, "weighted f1");
    }

    [Fact]
    public void AClassWithoutPositivesInTheFittingSetKeepsOneHalfAndIsFlagged()
    {
        // Class 0 has positives (best cut 0.6: F1 = 1); class 1 has none, so every cut scores F1 = 0 and the old tie
        // rule chose its lowest score (0.1), predicting it for every image.
        bool[,] truth = { { true, false }, { true, false }, { false, false } };
        double[,] scores = { { 0.9, 0.7 }, { 0.6, 0.3 }, { 0.2, 0.1 } };
        var thresholds = new F1Thresholds().Fit(truth, scores);
        Assert.Equal([0.6, 0.5], thresholds.Thresholds);
        Assert.Equal([false, true], thresholds.Unfitted);
        Assert.Equal(new bool[,] { { true, true }, { true, false }, { false, false } }, thresholds.Predict(scores));
    }

    [Fact]
    public void PredictBeforeFitIsRefused() =>
        Assert.Throws<InvalidOperationException>(() => new F1Thresholds().Predict(new double[1, 1]));

    [Fact]
    public void RocAucAndAveragePrecisionMatchSklearn()
    {
        var b = Ref.GetProperty("binary");
        var y = b.GetProperty("y").Bools();
        var s = b.GetProperty("score").Doubles();
        Reference.Close(b.GetProperty("roc_auc").GetDouble(), Ranking.RocAuc(y, s), "roc auc");
        Reference.Close(b.GetProperty("average_precision").GetDouble(), Ranking.AveragePrecision(y, s), "ap");
    }

    [Fact]
    public void RocCurveMatchesSklearnWithTiedScores()
    {
        // sklearn.metrics.roc_curve(y, s, drop_intermediate=False) for these values: the tie at 0.8 (one positive, one
        // negative) is one threshold, and so is the tie at 0.3 (two negatives).
        bool[] y = [true, false, true, true, false, false, true];
        double[] s = [0.9, 0.8, 0.8, 0.4, 0.3, 0.3, 0.1];
        var (fpr, tpr) = Ranking.RocCurve(y, s);
        Assert.Equal([0, 0, 1.0 / 3, 1.0 / 3, 1, 1], fpr, (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal([0, 0.25, 0.5, 0.75, 0.75, 1], tpr, (a, b) => Math.Abs(a - b) < 1e-12);
        // Trapezoids under those points: 1/3 · (0.25 + 0.5) / 2 + 2/3 · 0.75 + 0 = 0.625, sklearn's roc_auc_score.
        Assert.Equal(0.625, Ranking.RocAuc(y, s), 12);
    }

    [Fact]
    public void RocAucNeedsBothClasses() =>
        Assert.Throws<ArgumentException>(() => Ranking.RocAuc([true, true], [0.1, 0.2]));

    [Fact]
    public void FailurePredictionAndAccuracyMatchSklearn()
    {
        var f = Ref.GetProperty("failure");
        var probs = f.GetProperty("probs").Matrix();
        var labels = f.GetProperty("labels").Ints();
        var fp = FailurePrediction.FromProbabilities(probs, labels);
        Reference.Close(f.GetProperty("auc").GetDouble(), fp.Auc, "auc");
        Reference.Close(f.GetProperty("ap_success").GetDouble(), fp.ApSuccess, "ap success");
        Reference.Close(f.GetProperty("ap_error").GetDouble(), fp.ApError, "ap error");
        Reference.Close(f.GetProperty("accuracy").GetDouble(), Classification.Accuracy(labels, Classification.ArgMax(probs)), "accuracy");
    }

    [Fact]
    public void SegmentationMetricsMatchSklearnAndScipy()
    {
        foreach (var c in Ref.GetProperty("segmentation").EnumerateArray())
        {
            var a = c.GetProperty("a").BoolMatrix();
            var b = c.GetProperty("b").BoolMatrix();
            Reference.Close(c.GetProperty("dice_sklearn").GetDouble(), Segmentation.Dice(a, b), "dice");
            Reference.Close(c.GetProperty("iou_sklearn").GetDouble(), Segmentation.Iou(a, b), "iou");
            Reference.Close(c.GetProperty("avg_hausdorff").GetDouble(), Segmentation.AverageHausdorff(a, b), "average Hausdorff");
        }
    }

    [Fact]
    public void AverageHausdorffByHand()
    {
        // A = {(0,0)}, B = {(0,3), (4,0)}: A→B averages min(3, 4) = 3; B→A averages (3 + 4)/2 = 3.5.
        var a = new bool[5, 5];
        var b = new bool[5, 5];
        a[0, 0] = true;
        b[0, 3] = b[4, 0] = true;
        Assert.Equal(0.5 * (3 + 3.5), Segmentation.AverageHausdorff(a, b), 12);
        Assert.Equal(0, Segmentation.AverageHausdorff(a, a));
        Assert.Throws<ArgumentException>(() => Segmentation.AverageHausdorff(a, new bool[5, 5]));
        Assert.Throws<ArgumentException>(() => Segmentation.Dice(a, new bool[4, 5]));
    }

    [Fact]
    public void ClassIouOfLabelMapsByHand()
    {
        byte[] predicted = [0, 1, 1, 2, 2, 0], reference = [0, 1, 2, 2, 0, 0];
        Assert.Equal(1 / 2.0, Segmentation.Iou(predicted, reference, 1), 12);   // {1, 2} ∩ {1} over {1, 2}
        Assert.Equal(1 / 3.0, Segmentation.Iou(predicted, reference, 2), 12);   // {3, 4} ∩ {2, 3} over {2, 3, 4}
        Assert.Equal(2 / 3.0, Segmentation.Iou(predicted, reference, 0), 12);   // {0, 5} ∩ {0, 4, 5} over {0, 4, 5}
        Assert.Equal(1, Segmentation.Iou(predicted, reference, 3));             // in neither map
        var e = Assert.Throws<ArgumentException>(() => Segmentation.Iou(predicted, reference[..5], 1));
        Assert.Equal("label maps differ in size: 6 predicted vs 5 reference voxels", e.Message);
    }

    [Fact]
    public void ClusteringMetricsMatchSklearnAndScipy()
    {
        var c = Ref.GetProperty("clustering");
        var truth = c.GetProperty("truth").Ints();
        var clusters = c.GetProperty("clusters").Ints();
        Reference.Close(c.GetProperty("accuracy").GetDouble(), Clustering.Accuracy(truth, clusters), "hungarian accuracy");
        Reference.Close(c.GetProperty("nmi").GetDouble(), Clustering.Nmi(truth, clusters), "nmi");
        Reference.Close(c.GetProperty("ari").GetDouble(), Clustering.Ari(truth, clusters), "ari");
        Reference.Close(c.GetProperty("purity").GetDouble(), Clustering.Purity(truth, clusters), "purity");
    }

    [Fact]
    public void RelabelledClustersArePerfect()
    {
        int[] truth = [0, 0, 1, 1, 2, 2, 2];
        int[] clusters = [7, 7, 3, 3, 5, 5, 5];
        Assert.Equal(1, Clustering.Accuracy(truth, clusters), 12);
        Assert.Equal(1, Clustering.Nmi(truth, clusters), 12);
        Assert.Equal(1, Clustering.Ari(truth, clusters), 12);
        Assert.Equal(1, Clustering.Purity(truth, clusters), 12);
    }

    [Fact]
    public void LinearAssignmentFindsTheOptimumOfSmallMatricesByBruteForce()
    {
        var rng = new Random(7);
        foreach (var (rows, cols) in new[] { (4, 4), (3, 5), (5, 3), (6, 6) })
        {
            var cost = new double[rows, cols];
            for (var i = 0; i < rows; i++) for (var j = 0; j < cols; j++) cost[i, j] = rng.Next(0, 20);
            var match = LinearAssignment.Solve(cost);
            Assert.Equal(Math.Min(rows, cols), match.Count(m => m >= 0));
            Assert.Equal(match.Where(m => m >= 0).Distinct().Count(), match.Count(m => m >= 0));
            var total = match.Select((m, r) => m < 0 ? 0 : cost[r, m]).Sum();
            Assert.Equal(BruteForceMinimum(cost), total);
        }
    }

    private static double BruteForceMinimum(double[,] cost)
    {
        int rows = cost.GetLength(0), cols = cost.GetLength(1);
        var best = double.PositiveInfinity;
        void Search(int r, bool[] usedCols, int skipped, double sum)
        {
            if (r == rows) { best = Math.Min(best, sum); return; }
            if (skipped < rows - Math.Min(rows, cols)) Search(r + 1, usedCols, skipped + 1, sum);
            for (var c = 0; c < cols; c++)
            {
                if (usedCols[c]) continue;
                usedCols[c] = true;
                Search(r + 1, usedCols, skipped, sum + cost[r, c]);
                usedCols[c] = false;
            }
        }
        Search(0, new bool[cols], 0, 0);
        return best;
    }

    [Fact]
    public void MeanConfidenceIntervalMatchesScipyStudentT()
    {
        foreach (var c in Ref.GetProperty("confidence_interval").EnumerateArray())
        {
            var ci = MeanConfidenceInterval.Of(c.GetProperty("values").Doubles());
            Reference.Close(c.GetProperty("mean").GetDouble(), ci.Mean, "mean");
            Reference.Close(c.GetProperty("half_width").GetDouble(), ci.HalfWidth, "half width");
        }
        Assert.True(double.IsNaN(MeanConfidenceInterval.Of([0.5]).HalfWidth)); // one run says nothing about spread
    }

    [Fact]
    public void TrustworthinessMatchesSklearn()
    {
        var t = Ref.GetProperty("tsne");
        var x = t.GetProperty("continuous_X").Matrix();
        var e = t.GetProperty("continuous_embedding").Matrix();
        foreach (var c in t.GetProperty("continuous_trustworthiness").EnumerateArray())
        {
            var k = c.GetProperty("k").GetInt32();
            Reference.Close(c.GetProperty("value").GetDouble(), EmbeddingQuality.Trustworthiness(x, e, k), $"trustworthiness k={k}");
        }
        // Digits have tied input distances; sklearn orders ties arbitrarily, so allow a few rank swaps.
        var digits = t.GetProperty("X").Matrix();
        var sk = t.GetProperty("sklearn_exact")[0];
        Assert.Equal(sk.GetProperty("trustworthiness").GetDouble(),
            EmbeddingQuality.Trustworthiness(digits, sk.GetProperty("embedding").Matrix(), 5), 4);
    }

    [Fact]
    public void Per_image_overlap_of_label_maps_equals_the_mask_functions_image_by_image()
    {
        var random = new Random(4);
        var maps = Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, 3 * 5 * 6).Select(_ => (long)random.Next(2)).ToArray()).ToArray();
        Array.Clear(maps[0], 0, 30);   // image 0: empty in the prediction …
        Array.Clear(maps[1], 0, 30);   // … and in the reference (IoU = Dice = 1)
        using var predicted = TorchSharp.torch.tensor(maps[0]).view(3, 5, 6);
        using var reference = TorchSharp.torch.tensor(maps[1]).view(3, 5, 6);
        bool[,] Mask(long[] flat, int image)
        {
            var mask = new bool[5, 6];
            for (var y = 0; y < 5; y++)
                for (var x = 0; x < 6; x++) mask[y, x] = flat[image * 30 + y * 6 + x] != 0;
            return mask;
        }
        var overlap = Segmentation.PerImage(predicted, reference);
        Assert.Equal(3, overlap.Length);
        Assert.Equal((1.0, 1.0), overlap[0]);
        for (var k = 0; k < 3; k++)
        {
            Assert.Equal(Segmentation.Iou(Mask(maps[0], k), Mask(maps[1], k)), overlap[k].Iou, 12);
            Assert.Equal(Segmentation.Dice(Mask(maps[0], k), Mask(maps[1], k)), overlap[k].Dice, 12);
        }
        Assert.Throws<ArgumentException>(() => Segmentation.PerImage(predicted, reference.view(3, 30)));
    }
}

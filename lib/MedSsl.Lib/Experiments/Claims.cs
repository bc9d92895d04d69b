using System.Globalization;
using MedSsl.Metrics;
using MedSsl.Reports;

namespace MedSsl.Experiments;

/// <summary>A row of a protocol: one evaluated run, tagged with the seed that drew its data, labelled subset and
/// initial weights. Rows of two settings that share a seed are the pairs a claim compares.</summary>
public interface ISeededRow
{
    int Seed { get; }
}

/// <summary>Which way the paper says the difference (treatment − control) goes.</summary>
public enum ClaimDirection { Higher, Lower }

/// <summary>What the seeds say of a claim: <see cref="Supported"/> when the 95 % interval of the paired difference
/// excludes 0 in the claimed direction, <see cref="Contradicted"/> when it excludes 0 the other way, otherwise
/// <see cref="Inconclusive"/>.</summary>
public enum Verdict { Supported, Contradicted, Inconclusive }

/// <summary>A claim of a paper, declared once: its text and source, the measure compared, which rows are the
/// treatment and which the control, and the direction the paper reports. <see cref="Evaluate"/> pairs each treatment
/// row with the control row of the same seed (and of the same <see cref="PairBy"/> key, e.g. a labelled fraction when
/// both sides range over it) and computes the verdict from the differences.</summary>
/// <param name="Text">The claim as the paper makes it, e.g. "L_SD's weighted F1 ≥ PICA's".</param>
/// <param name="Source">Authors, year and section/table, e.g. "Dadoun et al. 2022, §3.3.1, Table 1".</param>
/// <param name="Measure">What is compared, e.g. "weighted F1 (test)".</param>
public sealed record Claim<TRow>(string Text, string Source, string Measure, Func<TRow, double> Value,
    Func<TRow, bool> Treatment, Func<TRow, bool> Control, ClaimDirection Direction = ClaimDirection.Higher) where TRow : ISeededRow
{
    /// <summary>A key besides the seed that both sides of a pair share (default: none).</summary>
    public Func<TRow, object>? PairBy { get; init; }

    /// <summary>The difference (treatment − control) the paper reports, in the measure's units, where it gives one.</summary>
    public double? PaperDifference { get; init; }

    public ClaimResult Evaluate(IEnumerable<TRow> rows)
    {
        var list = rows.ToList();
        object Key(TRow r) => (r.Seed, PairBy?.Invoke(r));
        Dictionary<object, TRow> Side(Func<TRow, bool> select, string side)
        {
            var byKey = new Dictionary<object, TRow>();
            foreach (var row in list.Where(select))
                if (!byKey.TryAdd(Key(row), row))
                    throw new InvalidOperationException($"claim \"{Text}\": two {side} rows share the pairing key {Key(row)}; " +
                        "narrow the selector or pair by the setting that tells them apart (PairBy)");
            return byKey;
        }
        var treatment = Side(Treatment, "treatment");
        var control = Side(Control, "control");
        var pairs = treatment.Keys.Where(control.ContainsKey)
            .Select(k => (Seed: treatment[k].Seed, Treatment: Value(treatment[k]), Control: Value(control[k])))
            .OrderBy(p => p.Seed).ToList();
        return ClaimResult.FromPairs(Text, Source, Measure, Direction, pairs, PaperDifference);
    }
}

/// <summary>One paired difference of a claim (treatment − control for one seed).</summary>
public sealed record ClaimPair(
    int Seed,
    double Treatment,
    double Control)
{
    public double Difference => Treatment - Control;
}

/// <summary>A claim evaluated on a run's rows: the mean paired difference with its 95 % t-interval over the n pairs,
/// the verdict, and the smallest true difference that n pairs detect with 80 % power in a two-sided 5 % paired t-test
/// ((t₀.₉₇₅ + t₀.₈₀) · s_d / √n, Cohen 1988 §2.3) — the size below which "inconclusive" means "too few seeds" rather
/// than "no effect".</summary>
public sealed record ClaimResult(
    string Text,
    string Source,
    string Measure,
    string Direction,
    int Count,
    double Difference,
    double[] Interval,
    double Detectable,
    Verdict Verdict,
    double? PaperDifference,
    IReadOnlyList<ClaimPair> Pairs)
{
    public const double Level = 0.95;
    public const double Power = 0.8;

    public static ClaimResult FromPairs(string text, string source, string measure, ClaimDirection direction,
        IReadOnlyList<(int Seed, double Treatment, double Control)> pairs, double? paperDifference = null)
    {
        var list = pairs.Select(p => new ClaimPair(p.Seed, p.Treatment, p.Control)).ToList();
        if (list.Any(p => double.IsNaN(p.Difference)))
            throw new ArgumentException($"claim \"{text}\": a paired value is NaN (seed {list.First(p => double.IsNaN(p.Difference)).Seed})");
        var n = list.Count;
        if (n < 2)
            return new(text, source, measure, Name(direction), n, n == 1 ? list[0].Difference : double.NaN, [double.NaN, double.NaN],
                double.NaN, Verdict.Inconclusive, paperDifference, list);
        var interval = MeanConfidenceInterval.Of(list.Select(p => p.Difference).ToList(), Level);
        var sd = interval.HalfWidth / MeanConfidenceInterval.TQuantile(1 - (1 - Level) / 2, n - 1) * Math.Sqrt(n);
        var detectable = (MeanConfidenceInterval.TQuantile(1 - (1 - Level) / 2, n - 1) + MeanConfidenceInterval.TQuantile(Power, n - 1)) * sd / Math.Sqrt(n);
        var sign = direction == ClaimDirection.Higher ? 1 : -1;
        var verdict = sign * interval.Lower > 0 && sign * interval.Upper > 0 ? Verdict.Supported
            : sign * interval.Lower < 0 && sign * interval.Upper < 0 ? Verdict.Contradicted
            : Verdict.Inconclusive;
        return new(text, source, measure, Name(direction), n, interval.Mean, [interval.Lower, interval.Upper], detectable, verdict, paperDifference, list);
    }

    private static string Name(ClaimDirection direction) => direction == ClaimDirection.Higher ? "higher" : "lower";

    /// <summary>One sentence: "L_SD's weighted F1 ≥ PICA's (Dadoun et al. 2022, §3.3.1): +0.012 [−0.004, +0.028] over
    /// 5 seeds — inconclusive; 5 seeds detect a difference of 0.021 or more."</summary>
    public string Sentence(int digits = 3)
    {
        string F(double v) => v.ToString((v >= 0 ? "+" : "") + "0." + new string('0', digits), CultureInfo.InvariantCulture);
        var seeds = Count == 1 ? "1 seed" : $"{Count} seeds";
        if (Count < 2)
            return $"{Text} ({Source}): {(Count == 0 ? "no paired runs" : $"{F(Difference)} from {seeds}")} — inconclusive; a verdict needs at least 2 seeds.";
        var tail = Verdict switch
        {
            Verdict.Supported => "supported",
            Verdict.Contradicted => "contradicted: the difference goes the other way",
            _ => $"inconclusive; {seeds} detect a difference of {Math.Abs(Detectable).ToString("0." + new string('0', digits), CultureInfo.InvariantCulture)} or more",
        };
        var paper = PaperDifference is { } p ? $" (paper: {F(p)})" : "";
        return $"{Text} ({Source}): {F(Difference)} [{F(Interval[0])}, {F(Interval[1])}] over {seeds}{paper} — {tail}.";
    }
}

/// <summary>The claims of a run, evaluated: shown as one table by every host (the display registry knows this type),
/// written to results.json as its <c>claims</c> array, and drawn by <see cref="Reports.Charts.PairedDifferences"/>.</summary>
public sealed class ClaimTable(IReadOnlyList<ClaimResult> results)
{
    public IReadOnlyList<ClaimResult> Results { get; } = results;

    public static ClaimTable Evaluate<TRow>(IEnumerable<Claim<TRow>> claims, IReadOnlyList<TRow> rows) where TRow : ISeededRow =>
        new([.. claims.Select(c => c.Evaluate(rows))]);

    /// <summary>One generated sentence per claim, as "- " lines.</summary>
    public string Summary => string.Join(Environment.NewLine, Results.Select(r => "- " + r.Sentence()));

    /// <summary>"What this run shows": a sentence per claim, then <paramref name="more"/> (mechanism numbers computed
    /// from the rows), displayed as a list.</summary>
    public Findings Findings(params IEnumerable<string> more) => new([.. Results.Select(r => r.Sentence()), .. more]);

    public override string ToString() => Summary;
}

using System.Globalization;
using System.Reflection;
using MedSsl.Metrics;
using Microsoft.Data.Analysis;

namespace MedSsl.Reports;

/// <summary>The rows of an experiment protocol (seeds × settings × baselines), one typed record per run, with its
/// table as a Microsoft.Data.Analysis <see cref="DataFrame"/> (one column per property) and summaries of mean and
/// 95 % confidence interval per group.</summary>
public sealed class Study<TRow>(string name, IReadOnlyList<TRow> rows) where TRow : notnull
{
    private static readonly PropertyInfo[] Properties = typeof(TRow).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    /// <summary>Names the CSV of all rows written beside results.json (<c>&lt;stem&gt;.&lt;name&gt;.csv</c>).</summary>
    public string Name { get; } = name;
    public IReadOnlyList<TRow> Rows { get; } = rows;

    /// <summary>All rows, one column per public property of <typeparamref name="TRow"/>.</summary>
    public DataFrame Table => ToDataFrame(Rows);

    /// <summary>Per group: n, and mean with the t-based <paramref name="level"/> confidence interval of each measure
    /// (columns <c>&lt;measure&gt;_mean</c>, <c>_ci_low</c>, <c>_ci_high</c>). Groups appear in first-seen order.</summary>
    public DataFrame Summarize<TKey>(Func<TRow, TKey> groupBy, IReadOnlyList<(string Name, Func<TRow, double> Value)> measures, double level = 0.95)
        where TKey : notnull
    {
        var groups = Rows.GroupBy(groupBy).ToList();
        var keyProperties = typeof(TKey).IsPrimitive || typeof(TKey) == typeof(string) || typeof(TKey).IsEnum
            ? null : typeof(TKey).GetProperties(BindingFlags.Public | BindingFlags.Instance);
        var frame = new DataFrame();
        if (keyProperties is null) frame.Columns.Add(Column("group", typeof(TKey), groups.Select(g => (object?)g.Key)));
        else foreach (var p in keyProperties) frame.Columns.Add(Column(p.Name, p.PropertyType, groups.Select(g => p.GetValue(g.Key))));
        frame.Columns.Add(new Int32DataFrameColumn("n", groups.Select(g => g.Count())));
        foreach (var (measure, value) in measures)
        {
            var intervals = groups.Select(g => MeanConfidenceInterval.Of(g.Select(value).ToList(), level)).ToList();
            frame.Columns.Add(new DoubleDataFrameColumn($"{measure}_mean", intervals.Select(i => i.Mean)));
            frame.Columns.Add(new DoubleDataFrameColumn($"{measure}_ci_low", intervals.Select(i => i.Lower)));
            frame.Columns.Add(new DoubleDataFrameColumn($"{measure}_ci_high", intervals.Select(i => i.Upper)));
        }
        return frame;
    }

    /// <summary>A DataFrame of any records: numbers as numeric columns, everything else as text.</summary>
    public static DataFrame ToDataFrame(IEnumerable<TRow> rows)
    {
        var list = rows.ToList();
        return new DataFrame(Properties.Select(p => Column(p.Name, p.PropertyType, list.Select(r => p.GetValue(r)))));
    }

    private static DataFrameColumn Column(string name, Type type, IEnumerable<object?> values)
    {
        var items = values.ToList();
        return type switch
        {
            _ when type == typeof(int) => new Int32DataFrameColumn(name, items.Select(v => (int)v!)),
            _ when type == typeof(long) => new Int64DataFrameColumn(name, items.Select(v => (long)v!)),
            _ when type == typeof(double) => new DoubleDataFrameColumn(name, items.Select(v => (double)v!)),
            _ when type == typeof(float) => new SingleDataFrameColumn(name, items.Select(v => (float)v!)),
            _ when type == typeof(bool) => new BooleanDataFrameColumn(name, items.Select(v => (bool)v!)),
            _ => new StringDataFrameColumn(name, items.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))),
        };
    }
}

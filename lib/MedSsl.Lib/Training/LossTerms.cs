using System.Collections;
using System.Globalization;

namespace MedSsl.Training;

/// <summary>The named loss terms of one training step, as USB's <c>train_step</c> returns them
/// (e.g. <c>{"total": 0.9, "supervised": 0.6, "unsupervised": 0.3, "mask_rate": 0.4}</c>). Keys keep their order.</summary>
public sealed class LossTerms : IReadOnlyDictionary<string, double>
{
    private readonly List<KeyValuePair<string, double>> terms = [];

    public LossTerms(params (string Name, double Value)[] terms)
    {
        foreach (var (name, value) in terms) Add(name, value);
    }

    public LossTerms Add(string name, double value)
    {
        if (ContainsKey(name)) throw new ArgumentException($"loss term '{name}' is already set", nameof(name));
        terms.Add(KeyValuePair.Create(name, value));
        return this;
    }

    public double this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no loss term '{key}' (terms: {string.Join(", ", Keys)})");
    public IEnumerable<string> Keys => terms.Select(t => t.Key);
    public IEnumerable<double> Values => terms.Select(t => t.Value);
    public int Count => terms.Count;
    public bool ContainsKey(string key) => terms.Any(t => t.Key == key);

    public bool TryGetValue(string key, out double value)
    {
        foreach (var t in terms)
            if (t.Key == key) { value = t.Value; return true; }
        value = double.NaN;
        return false;
    }

    public IEnumerator<KeyValuePair<string, double>> GetEnumerator() => terms.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join(", ", terms.Select(t => $"{t.Key} {t.Value.ToString("G4", CultureInfo.InvariantCulture)}"));
}

namespace MedSsl.Reports;

/// <summary>"What this run shows": sentences generated from a run's numbers, shown as a bulleted list (HTML in reports
/// and front ends, "- " lines as text). Notebooks end with one instead of typing results into markdown.</summary>
public sealed record Findings(IReadOnlyList<string> Points)
{
    public override string ToString() => string.Join(Environment.NewLine, Points.Select(p => "- " + p));
}

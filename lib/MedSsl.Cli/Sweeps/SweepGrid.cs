using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MedSsl.Cli.Sweeps;

/// <summary>A grid point: one notebook run. <see cref="Task"/> is its row in the points file and, under Slurm, its
/// array task id; <see cref="Folder"/> (e.g. <c>Seed=3,Lambda=0.1</c>) is where its outputs live.</summary>
internal sealed record SweepPoint(int Task, string Folder, IReadOnlyList<(string Name, string Value)> Parameters)
{
    public string Describe() => string.Join(", ", Parameters.Select(p => $"{p.Name}={p.Value}"));
}

/// <summary>The swept parameters in command-line order, each with its values in the order given. Points are the
/// Cartesian product with the last parameter varying fastest.</summary>
internal sealed partial class SweepGrid
{
    /// <summary>Keeps a range from flooding a scheduler by a typo (<c>Seed=0..100000</c>).</summary>
    public const int MaxPoints = 10_000;

    /// <summary>Filesystems allow 255 bytes; the temporary folder adds a prefix and a suffix.</summary>
    private const int MaxFolderName = 180;

    public IReadOnlyList<(string Name, IReadOnlyList<string> Values)> Parameters { get; }
    public IReadOnlyList<SweepPoint> Points { get; }

    private SweepGrid(IReadOnlyList<(string, IReadOnlyList<string>)> parameters)
    {
        Parameters = parameters;
        var combinations = new List<List<(string, string)>> { new() };
        foreach (var (name, values) in parameters)
            combinations = combinations.SelectMany(c => values.Select(v => new List<(string, string)>(c) { (name, v) })).ToList();
        Points = combinations.Select((c, k) => new SweepPoint(k, FolderName(c), c)).ToList();
    }

    /// <summary>Parses <c>--grid NAME=V1,V2,…</c> options; an item <c>A..B</c> stands for the integers A to B.
    /// Throws <see cref="FormatException"/> naming the option and what is wrong.</summary>
    public static SweepGrid Parse(IReadOnlyList<string> specs)
    {
        if (specs.Count == 0) throw new FormatException("give at least one --grid NAME=V1,V2,… (or NAME=A..B)");
        var parameters = new List<(string, IReadOnlyList<string>)>();
        long count = 1;
        foreach (var spec in specs)
        {
            var equals = spec.IndexOf('=');
            if (equals < 0) throw new FormatException($"--grid {spec}: expected NAME=V1,V2,… or NAME=A..B");
            var name = spec[..equals];
            if (!Identifier().IsMatch(name))
                throw new FormatException($"--grid {spec}: '{name}' is not a parameter name (a C# identifier: letters, digits, _)");
            if (parameters.Any(p => p.Item1 == name)) throw new FormatException($"--grid {name} is given twice; list all its values in one --grid");
            var values = new List<string>();
            foreach (var item in spec[(equals + 1)..].Split(','))
            {
                if (item.Trim().Length == 0) throw new FormatException($"--grid {spec}: empty value (two commas in a row, or none after '=')");
                values.AddRange(item.Contains("..", StringComparison.Ordinal) ? Range(spec, item) : [item]);
                if (values.Count > MaxPoints) throw new FormatException($"--grid {name}: more than {MaxPoints} values; split the sweep");
            }
            if (values.FirstOrDefault(v => v.Any(char.IsControl)) is { } control)
                throw new FormatException($"--grid {name}: value '{control}' contains a control character (tab, newline)");
            if (values.GroupBy(v => v).FirstOrDefault(g => g.Count() > 1) is { } repeated)
                throw new FormatException($"--grid {name}: value '{repeated.Key}' is listed twice");
            count *= values.Count;
            if (count > MaxPoints) throw new FormatException($"--grid: the grid has more than {MaxPoints} points; split the sweep");
            parameters.Add((name, values));
        }
        var grid = new SweepGrid(parameters);
        if (grid.Points.FirstOrDefault(p => p.Folder.Length > MaxFolderName) is { } tooLong)
            throw new FormatException($"--grid: point {tooLong.Describe()} would need a folder name longer than {MaxFolderName} characters; use shorter values");
        foreach (var clash in grid.Points.GroupBy(p => p.Folder).Where(g => g.Count() > 1))
            throw new FormatException($"--grid: points {string.Join(" and ", clash.Select(p => p.Describe()))} would share the folder {clash.Key} " +
                "(characters other than letters, digits and . _ + - become _); use distinct values");
        return grid;
    }

    private static List<string> Range(string spec, string item)
    {
        var parts = item.Split("..");
        var invariant = CultureInfo.InvariantCulture;
        if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.AllowLeadingSign, invariant, out var first)
            || !long.TryParse(parts[1], NumberStyles.AllowLeadingSign, invariant, out var last))
            throw new FormatException($"--grid {spec}: range '{item}' must be two integers A..B (e.g. 0..19)");
        if (last < first) throw new FormatException($"--grid {spec}: range '{item}' is empty (its end is below its start)");
        // In 128 bits: last − first overflows a long for ranges spanning more than half of it.
        var size = (Int128)last - first + 1;
        if (size > MaxPoints) throw new FormatException($"--grid {spec}: range '{item}' has {size} values, more than {MaxPoints}");
        var values = new List<string>((int)size);
        for (var k = 0L; k < (long)size; k++) values.Add((first + k).ToString(invariant));
        return values;
    }

    /// <summary><c>Seed=3,Lambda=0.1</c>: readable in a listing and free of characters shells and URLs need quoted.</summary>
    private static string FolderName(IEnumerable<(string Name, string Value)> parameters)
    {
        var name = new StringBuilder();
        foreach (var (parameter, value) in parameters)
        {
            if (name.Length > 0) name.Append(',');
            name.Append(parameter).Append('=');
            foreach (var c in value) name.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '+' or '-' ? c : '_');
        }
        return name.ToString();
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();
}

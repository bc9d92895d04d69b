using System.Globalization;
using MedSsl.Data;

namespace MedSsl.Cli.Sweeps;

/// <summary>
/// DIR/points.tsv: one row per grid point — task id, point folder, then one column per swept parameter. The Slurm
/// script's array task id is the row's task id; <c>medssl sweep-point</c> reads its parameters from here, so a task
/// needs nothing from the submitting process but this file.
/// </summary>
internal static class PointsFile
{
    public static void Write(string path, SweepGrid grid)
    {
        var lines = new List<string> { string.Join('\t', new[] { "task", "point" }.Concat(grid.Parameters.Select(p => p.Name))) };
        lines.AddRange(grid.Points.Select(p =>
            string.Join('\t', new[] { p.Task.ToString(CultureInfo.InvariantCulture), p.Folder }.Concat(p.Parameters.Select(q => q.Value)))));
        AtomicFile.WriteAllText(path, string.Join('\n', lines) + "\n");
    }

    /// <summary>The point of <paramref name="task"/>; <see cref="InvalidDataException"/> names the file and the problem.</summary>
    public static SweepPoint Read(string path, int task)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: no points file (medssl sweep writes it before running any point)");
        var lines = File.ReadAllLines(path);
        var header = lines.FirstOrDefault()?.Split('\t') ?? [];
        if (header.Length < 3 || header[0] != "task" || header[1] != "point")
            throw new InvalidDataException($"{path}: the first line must be the header 'task<TAB>point<TAB>NAME…'");
        var key = task.ToString(CultureInfo.InvariantCulture);
        var row = lines.Skip(1).Select(l => l.Split('\t')).FirstOrDefault(f => f[0] == key)
            ?? throw new InvalidDataException($"{path}: no row for task {task} (it has {lines.Length - 1} points)");
        if (row.Length != header.Length) throw new InvalidDataException($"{path}: the row of task {task} has {row.Length} fields, the header {header.Length}");
        return new SweepPoint(task, row[1], header.Skip(2).Zip(row.Skip(2)).ToList());
    }
}

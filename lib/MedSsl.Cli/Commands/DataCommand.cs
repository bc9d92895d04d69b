using System.CommandLine;
using System.Text.Json;
using MedSsl.Data;

namespace MedSsl.Cli.Commands;

/// <summary><c>medssl data inspect PATH [--json]</c> and <c>medssl data synth KIND --out DIR [--seed S] [--n N]</c>.
/// Bad data exits 2 with the loader's message (file and problem) on stderr.</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "inspect datasets on disk, write synthetic ones in the real formats");
        command.Subcommands.Add(Inspect());
        command.Subcommands.Add(Synth());
        return command;
    }

    private static Command Inspect()
    {
        var path = new Argument<string>("PATH") { Description = "a dataset folder (manifest, IDX pair or one DICOM series), manifest, PNG, JPEG, DICOM, NIfTI or IDX file" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("inspect", "format, item count, shapes, label counts and masks of a dataset") { path, json };
        command.SetAction(r =>
        {
            DataSummary summary;
            try { summary = DataInspector.Inspect(r.GetValue(path)!); }
            catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            if (r.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    path = summary.Path, format = summary.Format, count = summary.Count,
                    shapes = summary.Shapes, label_counts = summary.LabelCounts,
                    masks = summary.Masks is { } m ? new
                    {
                        annotated = m.Annotated,
                        classes = m.ClassNames.Select((name, k) => new { value = k, name, pixel_share = m.PixelShares[k] }),
                    } : null,
                }));
                return 0;
            }
            Console.WriteLine(summary);
            return 0;
        });
        return command;
    }

    private static Command Synth()
    {
        var kind = new Argument<string>("KIND") { Description = "moons, ultrasound, lesions (RGB images with lesion masks), chest-xray (grey images with a class and a lung mask each: a MultiMix folder), ct, or ultrasound-idx (the single-label view in MNIST format)" };
        kind.AcceptOnlyFromAmong([.. SyntheticWriter.Kinds]);
        var output = new Option<string>("--out") { Description = "new folder to write (must not exist or be empty)", Required = true };
        var seed = new Option<int>("--seed") { Description = "random seed", DefaultValueFactory = _ => 0 };
        var n = new Option<int?>("--n") { Description = "points, images or volumes (default: the quick profile)" };
        var command = new Command("synth", "write a synthetic dataset in the real formats") { kind, output, seed, n };
        command.SetAction(r =>
        {
            var dir = r.GetValue(output)!;
            try { SyntheticWriter.Write(r.GetValue(kind)!, dir, r.GetValue(seed), r.GetValue(n)); }
            catch (Exception e) when (e is IOException or ArgumentException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            var summary = DataInspector.Inspect(dir);
            Console.WriteLine($"wrote {summary.Format} with {summary.Count} items to {dir}");
            return 0;
        });
        return command;
    }
}

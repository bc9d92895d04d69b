using MedSsl.Data.Loaders;
using MedSsl.Data.Synthetic;

namespace MedSsl.Data;

/// <summary>Writes a synthetic dataset in the real formats the loaders read (what <c>medssl data synth</c> does),
/// so users see the layout their own data needs.</summary>
public static class SyntheticWriter
{
    public static readonly IReadOnlyList<string> Kinds = ["moons", "ultrasound", "ct"];

    /// <param name="n">points (moons), images (ultrasound) or volumes (ct); null: the Quick profile's size</param>
    public static void Write(string kind, string directory, int seed = 0, int? n = null)
    {
        switch (kind)
        {
            case "moons":
                var moons = Moons.Make(n ?? Moons.DefaultCount(DataProfile.Quick), noise: 0.1, seed: seed);
                AtomicFile.WriteDirectory(directory, temp => PointsCsv.Write(moons, System.IO.Path.Combine(temp, "moons.csv")));
                break;
            case "ultrasound":
                ImageFolder.Write(SyntheticUltrasound.Make(n ?? SyntheticUltrasound.DefaultCount(DataProfile.Quick), seed), directory);
                break;
            case "ct":
                VolumeFolder.Write(n is { } volumes ? SyntheticCt.Make(volumes, seed) : SyntheticCt.Make(DataProfile.Quick, seed), directory, seed: seed);
                break;
            default:
                throw new ArgumentException($"unknown kind '{kind}' (one of {string.Join(", ", Kinds)})");
        }
    }
}

using System.Text;
using MedSsl.Data.Formats;

namespace MedSsl.Data.Loaders;

/// <summary>NIfTI volumes and label masks listed in a CSV manifest:
/// <code>
/// id,image,mask,liver,spleen,...      (organ columns in mask-value order: the first is value 1)
/// case000,images/case000.nii.gz,masks/case000.nii.gz,1,0,...   (1: the organ is annotated in this mask)
/// </code>
/// Paths are relative to the manifest. Masks hold integer labels 0 … K; each image and its mask must have the
/// same size, and all volumes the same in-plane size; an organ marked annotated (1) must have voxels in its mask.</summary>
public static class VolumeFolder
{
    public const string ManifestName = "volumes.csv";
    private static readonly string[] Reserved = ["id", "image", "mask"];

    /// <param name="budget">memory this load may allocate (default: <see cref="LoadBudget.DefaultBytes"/>).</param>
    public static VolumeDataset Load(string path, LoadBudget? budget = null)
    {
        budget ??= new LoadBudget();
        var manifest = Directory.Exists(path) ? Path.Combine(path, ManifestName) : path;
        var (header, rows) = Csv.Read(manifest);
        foreach (var required in Reserved)
            if (!header.Contains(required)) throw new DataFormatException(manifest, $"missing column '{required}'");
        var organs = header.Where(h => !Reserved.Contains(h)).ToArray();
        if (organs.Length == 0) throw new DataFormatException(manifest, "no organ columns");
        if (rows.Count == 0) throw new DataFormatException(manifest, "manifest lists no volumes");
        var folder = Path.GetDirectoryName(Path.GetFullPath(manifest))!;
        var annotated = new bool[rows.Count, organs.Length];
        var volumes = new CtVolume[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            for (var k = 0; k < organs.Length; k++)
                annotated[r, k] = row[Array.IndexOf(header, organs[k])].Trim() switch
                {
                    "1" => true,
                    "0" => false,
                    var v => throw new DataFormatException(manifest, $"row {r + 1}, column '{organs[k]}': must be 0 or 1, found '{v}'"),
                };
            var imagePath = Path.Combine(folder, row[Array.IndexOf(header, "image")]);
            var maskPath = Path.Combine(folder, row[Array.IndexOf(header, "mask")]);
            var image = Nifti.Read(imagePath, budget);
            var mask = Nifti.Read(maskPath, budget);
            if ((image.SizeX, image.SizeY, image.SizeZ) != (mask.SizeX, mask.SizeY, mask.SizeZ))
                throw new DataFormatException(maskPath, $"mask is {mask.SizeX}×{mask.SizeY}×{mask.SizeZ}, its image {imagePath} is {image.SizeX}×{image.SizeY}×{image.SizeZ}");
            if (r > 0 && (image.SizeX, image.SizeY) != (volumes[0].Width, volumes[0].Height))
                throw new DataFormatException(imagePath, $"slices are {image.SizeX}×{image.SizeY}, the first volume's are {volumes[0].Width}×{volumes[0].Height}: resample to one in-plane size");
            budget.Charge(maskPath, mask.VoxelCount, "the mask's labels");
            var labels = new byte[mask.VoxelCount];
            for (var i = 0; i < labels.Length; i++)
            {
                var value = mask.Data[i];
                if (value < 0 || value > organs.Length || value != MathF.Floor(value))
                    throw new DataFormatException(maskPath, $"mask value {value} is not a label in 0..{organs.Length} ({string.Join(", ", organs)})");
                labels[i] = (byte)value;
            }
            // Every organ is present in every volume (Petit et al. 2021, §1): an organ marked annotated must appear in its
            // mask, or training would read the whole organ as background for it.
            var present = new bool[organs.Length + 1];
            foreach (var label in labels) present[label] = true;
            var absent = Enumerable.Range(0, organs.Length).Where(k => annotated[r, k] && !present[k + 1]).Select(k => $"'{organs[k]}' (value {k + 1})").ToArray();
            if (absent.Length > 0)
                throw new DataFormatException(maskPath, $"{manifest} row {r + 1} marks {string.Join(", ", absent)} annotated but the mask has no voxel of {(absent.Length == 1 ? "it" : "them")}");
            volumes[r] = new CtVolume(row[Array.IndexOf(header, "id")], image.SizeZ, image.SizeY, image.SizeX, image.Data, labels, image.Spacing, image.Affine);
        }
        return new VolumeDataset(organs, volumes, annotated);
    }

    /// <summary>Writes <c>images/ID.nii.gz</c> (int16 HU), <c>masks/ID.nii.gz</c> (uint8, complete),
    /// <c>volumes.csv</c> (all organs annotated) and, for each α in <paramref name="alphas"/>, <c>volumes_alphaNN.csv</c>
    /// with Petit et al.'s nested partial annotation, into a new folder built in a temporary sibling.</summary>
    public static void Write(VolumeDataset data, string directory, double[]? alphas = null, int seed = 0)
    {
        alphas ??= [0.1, 0.3, 0.5, 0.7];
        AtomicFile.WriteDirectory(directory, temp =>
        {
            Directory.CreateDirectory(Path.Combine(temp, "images"));
            Directory.CreateDirectory(Path.Combine(temp, "masks"));
            Parallel.For(0, data.Count, i =>
            {
                var v = data[i];
                Nifti.Write(Path.Combine(temp, "images", v.Id + ".nii.gz"), v.Width, v.Height, v.Depth, v.Intensities, NiftiDataType.Int16, v.Spacing, v.Affine);
                Nifti.Write(Path.Combine(temp, "masks", v.Id + ".nii.gz"), v.Width, v.Height, v.Depth, Array.ConvertAll(v.Mask, m => (float)m), NiftiDataType.UInt8, v.Spacing, v.Affine);
            });
            WriteManifest(Path.Combine(temp, ManifestName), data);
            foreach (var alpha in alphas)
                WriteManifest(Path.Combine(temp, $"volumes_alpha{Math.Round(alpha * 100):00}.csv"), data.WithLabelledProportion(alpha, seed));
        });
    }

    private static void WriteManifest(string path, VolumeDataset data)
    {
        var text = new StringBuilder();
        text.AppendLine(Csv.Line(Reserved.Concat(data.OrganNames)));
        for (var i = 0; i < data.Count; i++)
            text.AppendLine(Csv.Line(new[] { data[i].Id, $"images/{data[i].Id}.nii.gz", $"masks/{data[i].Id}.nii.gz" }
                .Concat(Enumerable.Range(0, data.OrganNames.Count).Select(k => data.IsAnnotated(i, k) ? "1" : "0"))));
        File.WriteAllText(path, text.ToString());
    }
}

using MedSsl.Data;
using MedSsl.Data.Formats;
using MedSsl.Data.Loaders;
using MedSsl.Data.Synthetic;

namespace MedSsl.Tests.Data;

public class SyntheticCtTests
{
    private static readonly VolumeDataset Quick = SyntheticCt.Make(RunProfile.Quick, seed: 1);

    [Fact]
    public void EveryOrganIsPresentOnceAsOneConnectedObject()
    {
        for (var v = 0; v < Quick.Count; v++)
        {
            var vol = Quick[v];
            for (var k = 1; k <= Quick.OrganNames.Count; k++)
                Assert.Equal(1, Components(vol.Mask, (byte)k, vol.Depth, vol.Height, vol.Width));
        }
    }

    // 6-connected components of one label, by flood fill.
    private static int Components(byte[] mask, byte label, int d, int h, int w)
    {
        var seen = new bool[mask.Length];
        var count = 0;
        for (var start = 0; start < mask.Length; start++)
        {
            if (mask[start] != label || seen[start]) continue;
            count++;
            var stack = new Stack<int>([start]);
            seen[start] = true;
            while (stack.Count > 0)
            {
                var i = stack.Pop();
                int x = i % w, y = i / w % h, z = i / (w * h);
                foreach (var (dx, dy, dz) in new[] { (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1) })
                {
                    int nx = x + dx, ny = y + dy, nz = z + dz;
                    if (nx < 0 || ny < 0 || nz < 0 || nx >= w || ny >= h || nz >= d) continue;
                    var j = (nz * h + ny) * w + nx;
                    if (mask[j] == label && !seen[j]) { seen[j] = true; stack.Push(j); }
                }
            }
        }
        return count;
    }

    [Fact]
    public void PartialLabelsAreNestedAndHaveTheRequestedProportion()
    {
        double[] alphas = [0.1, 0.3, 0.5, 0.7];
        var tables = alphas.Select(a => PartialLabels.Nested(40, 7, a, seed: 3)).ToArray();
        for (var t = 0; t < alphas.Length; t++)
            for (var k = 0; k < 7; k++)
            {
                Assert.Equal((int)Math.Round(alphas[t] * 40, MidpointRounding.AwayFromZero), Enumerable.Range(0, 40).Count(v => tables[t][v, k]));
                if (t > 0)
                    for (var v = 0; v < 40; v++) Assert.True(!tables[t - 1][v, k] || tables[t][v, k]); // D(α_{t−1}) ⊂ D(α_t)
            }
        // organs are chosen independently: not the same volumes for every organ
        Assert.Contains(Enumerable.Range(1, 6), k => Enumerable.Range(0, 40).Any(v => tables[1][v, 0] != tables[1][v, k]));
    }

    [Fact]
    public void TrainingMaskHidesOnlyUnannotatedOrgansAndTheCompleteMaskStays()
    {
        var partial = Quick.WithLabelledProportion(0.5, seed: 2);
        for (var v = 0; v < partial.Count; v++)
        {
            var full = partial[v].Mask;
            var train = partial.TrainingMask(v);
            for (var i = 0; i < full.Length; i++)
                Assert.Equal(full[i] != 0 && partial.IsAnnotated(v, full[i] - 1) ? full[i] : 0, train[i]);
        }
        Assert.Contains(Enumerable.Range(0, Quick[0].Mask.Length), i => Quick[0].Mask[i] != 0); // original untouched
    }

    [Fact]
    public void AllSlicesAndCompleteMasksFollowVolumeOrderAndKeepMissingOrgans()
    {
        static CtVolume Volume(string id, int depth, byte[] mask) =>
            new(id, depth, 1, 2, new float[mask.Length], mask, [1, 1, 1], new double[4, 4]);
        var data = new VolumeDataset(["liver", "spleen"], [Volume("a", 2, [1, 0, 2, 2]), Volume("b", 1, [0, 1])], new[,] { { true, false }, { false, true } });

        Assert.Equal([(0, 0), (0, 1), (1, 0)], data.AllSlices());
        // Complete: the spleen of "a" and the liver of "b" are not annotated, and stay.
        Assert.Equal(new byte[] { 1, 0, 2, 2, 0, 1 }, data.CompleteMasks());
        Assert.Equal(new byte[] { 1, 0, 0, 0 }, data.TrainingMask(0));
    }

    [Fact]
    public void OrgansHaveDistinctIntensities()
    {
        var v = Quick[0];
        var means = Enumerable.Range(1, 7).Select(k => Enumerable.Range(0, v.Mask.Length).Where(i => v.Mask[i] == k).Average(i => v.Intensities[i])).ToArray();
        Assert.True(means[0] - means[5] > 30); // liver brighter than bile
        Assert.True(means[2] - means[0] > 40); // enhanced kidney brighter than liver
    }

    [Fact]
    public void SlicesBatchHasMasksAndAnnotationFlags()
    {
        var partial = Quick.WithLabelledProportion(0.3, seed: 0);
        var (images, masks, annotated) = partial.Slices([(0, 10), (2, 12)]);
        using (images)
        using (masks)
        using (annotated)
        {
            Assert.Equal(new long[] { 2, 1, 48, 48 }, images.shape);
            Assert.Equal(new long[] { 2, 48, 48 }, masks.shape);
            Assert.Equal(new long[] { 2, 7 }, annotated.shape);
            var m = masks.data<long>().ToArray();
            var train = partial.TrainingMask(2);
            Assert.Equal(train[12 * 48 * 48 + 1000], m[48 * 48 + 1000]);
            Assert.Equal(partial.IsAnnotated(2, 4) ? 1f : 0f, annotated.data<float>().ToArray()[7 + 4]);
        }
    }

    [Fact]
    public void NiftiFolderRoundTripsVolumesMasksAndPartialManifests()
    {
        var dir = Path.Combine(Fixture.TempDir(), "ct");
        var data = SyntheticCt.Make(3, seed: 4, depth: 10, size: 20);
        VolumeFolder.Write(data, dir, seed: 4);
        var back = VolumeFolder.Load(dir);
        Assert.Equal(data.OrganNames, back.OrganNames);
        for (var v = 0; v < 3; v++)
        {
            Assert.Equal(data[v].Mask, back[v].Mask);
            for (var i = 0; i < data[v].Intensities.Length; i++) Assert.Equal(Math.Round(data[v].Intensities[i]), back[v].Intensities[i]); // int16 HU
        }
        var partial = VolumeFolder.Load(Path.Combine(dir, "volumes_alpha30.csv"));
        var expected = data.WithLabelledProportion(0.3, seed: 4);
        for (var v = 0; v < 3; v++)
            for (var k = 0; k < 7; k++) Assert.Equal(expected.IsAnnotated(v, k), partial.IsAnnotated(v, k));
    }

    [Fact]
    public void MaskWithALabelBeyondTheOrgansIsAnError()
    {
        var dir = Path.Combine(Fixture.TempDir(), "ct");
        VolumeFolder.Write(SyntheticCt.Make(1, depth: 8, size: 16), dir);
        var manifest = Path.Combine(dir, "volumes.csv");
        var lines = File.ReadAllLines(manifest);
        File.WriteAllLines(manifest, [lines[0].Replace(",stomach", ""), lines[1][..lines[1].LastIndexOf(',')]]);
        var e = Assert.Throws<DataFormatException>(() => VolumeFolder.Load(dir));
        Assert.EndsWith("case000.nii.gz", e.Path);
        Assert.Contains("mask value 7", e.Problem);
    }

    [Fact]
    public void AnOrganMarkedAnnotatedButAbsentFromItsMaskIsAnError()
    {
        // A real folder whose second mask lost the pancreas (value 5): the α = 100 % manifest marks it annotated.
        var dir = Path.Combine(Fixture.TempDir(), "ct");
        var data = SyntheticCt.Make(2, seed: 3, depth: 8, size: 16);
        VolumeFolder.Write(data, dir);
        var v = data[1];
        var mask = Array.ConvertAll(v.Mask, m => m == 5 ? 0f : m);
        Nifti.Write(Path.Combine(dir, "masks", "case001.nii.gz"), v.Width, v.Height, v.Depth, mask, NiftiDataType.UInt8, v.Spacing, v.Affine);
        var e = Assert.Throws<DataFormatException>(() => VolumeFolder.Load(dir));
        Assert.EndsWith(Path.Combine("masks", "case001.nii.gz"), e.Path);
        Assert.Contains("row 2 marks 'pancreas' (value 5) annotated but the mask has no voxel of it", e.Problem);
        Assert.Contains("volumes.csv", e.Problem);

        // Marked missing (0) instead, the same mask is a valid partial annotation.
        var manifest = Path.Combine(dir, "volumes.csv");
        var lines = File.ReadAllLines(manifest);
        var cells = lines[2].Split(',');
        cells[Array.IndexOf(lines[0].Split(','), "pancreas")] = "0";
        lines[2] = string.Join(',', cells);
        File.WriteAllLines(manifest, lines);
        var partial = VolumeFolder.Load(dir);
        Assert.False(partial.IsAnnotated(1, 4));
        Assert.True(partial.IsAnnotated(0, 4));
    }

    [Fact]
    public void APartialManifestWithAMaskValueBeyondTheOrgansNamesTheFileAndTheValue()
    {
        // Partially annotated set: value 9 in a mask of 7 organs.
        var dir = Path.Combine(Fixture.TempDir(), "ct");
        var data = SyntheticCt.Make(2, seed: 5, depth: 8, size: 16);
        VolumeFolder.Write(data, dir, alphas: [0.5], seed: 5);
        var v = data[0];
        var mask = Array.ConvertAll(v.Mask, m => (float)m);
        mask[17] = 9;
        Nifti.Write(Path.Combine(dir, "masks", "case000.nii.gz"), v.Width, v.Height, v.Depth, mask, NiftiDataType.UInt8, v.Spacing, v.Affine);
        var e = Assert.Throws<DataFormatException>(() => VolumeFolder.Load(Path.Combine(dir, "volumes_alpha50.csv")));
        Assert.EndsWith(Path.Combine("masks", "case000.nii.gz"), e.Path);
        Assert.Contains("mask value 9 is not a label in 0..7", e.Problem);
    }
}

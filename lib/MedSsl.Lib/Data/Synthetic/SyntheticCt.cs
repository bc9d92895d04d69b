namespace MedSsl.Data.Synthetic;

/// <summary>CT-like abdominal volumes shaped like Petit et al.'s multi-organ data set: each volume holds every organ
/// exactly once (liver, spleen, right and left kidney, pancreas, gallbladder, stomach) as a jittered ellipsoid with
/// its own attenuation (Hounsfield-like units) inside a body of fat, plus acquisition noise. Smaller organs win
/// overlaps and cut-off fragments are dropped, so each organ is exactly one connected object. Masks are complete;
/// partial labels come from <see cref="VolumeDataset.WithLabelledProportion"/>.</summary>
public static class SyntheticCt
{
    public static readonly IReadOnlyList<string> OrganNames =
        ["liver", "spleen", "right_kidney", "left_kidney", "pancreas", "gallbladder", "stomach"];

    // Centre (x, y, z in [0, 1]; x = image left = patient right), radii, mean HU, noise HU.
    private static readonly (double X, double Y, double Z, double Rx, double Ry, double Rz, double Hu)[] Organs =
    [
        (0.32, 0.42, 0.45, 0.20, 0.17, 0.30, 60),   // liver
        (0.74, 0.45, 0.45, 0.09, 0.11, 0.20, 45),   // spleen
        (0.33, 0.66, 0.62, 0.07, 0.08, 0.16, 150),  // right kidney (contrast-enhanced cortex)
        (0.67, 0.66, 0.58, 0.07, 0.08, 0.16, 150),  // left kidney
        (0.52, 0.55, 0.55, 0.14, 0.04, 0.10, 100),  // pancreas
        (0.40, 0.38, 0.62, 0.045, 0.05, 0.09, 10),  // gallbladder (bile)
        (0.60, 0.33, 0.35, 0.11, 0.09, 0.16, -20),  // stomach (fluid, a gas cap added below)
    ];

    /// <summary>Volumes for a profile: Quick 6 of 24×48×48, Full 40 of 48×96×96.</summary>
    public static VolumeDataset Make(RunProfile profile, int seed = 0) => profile == RunProfile.Quick
        ? Make(6, seed, depth: 24, size: 48)
        : Make(40, seed, depth: 48, size: 96);

    public static VolumeDataset Make(int volumes, int seed = 0, int depth = 24, int size = 48)
    {
        if (volumes < 1) throw new ArgumentOutOfRangeException(nameof(volumes));
        if (depth < 8 || size < 16) throw new ArgumentOutOfRangeException(nameof(size), "volumes of at least 8 slices of 16×16");
        var rng = new SeededRandom(seed);
        var seeds = Enumerable.Range(0, volumes).Select(_ => rng.Next(int.MaxValue)).ToArray();
        var result = new CtVolume[volumes];
        Parallel.For(0, volumes, v => result[v] = MakeVolume($"case{v:D3}", seeds[v], depth, size));
        return new VolumeDataset(OrganNames, result);
    }

    private static void KeepLargestComponent(byte[] mask, byte label, int d, int h, int w)
    {
        var component = new int[mask.Length]; // 0: unvisited, c: component id
        var sizes = new List<int> { 0 };
        var stack = new Stack<int>();
        for (var start = 0; start < mask.Length; start++)
        {
            if (mask[start] != label || component[start] != 0) continue;
            var id = sizes.Count;
            var count = 0;
            component[start] = id;
            stack.Push(start);
            while (stack.Count > 0)
            {
                var i = stack.Pop();
                count++;
                int x = i % w, y = i / w % h, z = i / (w * h);
                void Visit(int nx, int ny, int nz)
                {
                    if (nx < 0 || ny < 0 || nz < 0 || nx >= w || ny >= h || nz >= d) return;
                    var j = (nz * h + ny) * w + nx;
                    if (mask[j] == label && component[j] == 0) { component[j] = id; stack.Push(j); }
                }
                Visit(x + 1, y, z); Visit(x - 1, y, z); Visit(x, y + 1, z); Visit(x, y - 1, z); Visit(x, y, z + 1); Visit(x, y, z - 1);
            }
            sizes.Add(count);
        }
        var keep = sizes.IndexOf(sizes.Max());
        for (var i = 0; i < mask.Length; i++)
            if (mask[i] == label && component[i] != keep) mask[i] = 0;
    }

    private static CtVolume MakeVolume(string id, int seed, int depth, int size)
    {
        var rng = new SeededRandom(seed);
        var voxels = depth * size * size;
        var hu = new float[voxels];
        var mask = new byte[voxels];
        double bodyRx = 0.44 + 0.04 * rng.NextDouble(), bodyRy = 0.36 + 0.04 * rng.NextDouble();
        var scale = 0.9 + 0.2 * rng.NextDouble(); // patient size
        var organs = Organs.Select(o => (
            X: 0.5 + (o.X - 0.5) * scale + 0.03 * rng.Normal(), Y: 0.5 + (o.Y - 0.5) * scale + 0.03 * rng.Normal(), Z: o.Z + 0.04 * rng.Normal(),
            Rx: o.Rx * scale * (1 + 0.1 * rng.Normal()), Ry: o.Ry * scale * (1 + 0.1 * rng.Normal()), Rz: o.Rz * (1 + 0.1 * rng.Normal()),
            o.Hu)).ToArray();
        // Labels first: smaller organs win overlaps (painted in this order, never overwritten) ...
        int[] priority = [5, 4, 2, 3, 1, 6, 0]; // gallbladder, pancreas, kidneys, spleen, stomach, liver
        var r2 = new float[voxels]; // normalised squared radius inside the owning organ, for internal structure
        for (var z = 0; z < depth; z++)
            for (var y = 0; y < size; y++)
                for (var x = 0; x < size; x++)
                {
                    double xc = (x + 0.5) / size, yc = (y + 0.5) / size, zc = (z + 0.5) / depth;
                    var at = (z * size + y) * size + x;
                    foreach (var k in priority)
                    {
                        var o = organs[k];
                        double ux = (xc - o.X) / o.Rx, uy = (yc - o.Y) / o.Ry, uz = (zc - o.Z) / o.Rz;
                        var d2 = ux * ux + uy * uy + uz * uz;
                        if (d2 > 1) continue;
                        mask[at] = (byte)(k + 1);
                        r2[at] = (float)(k == 6 ? uy : d2); // the stomach keeps its vertical coordinate for the gas cap
                        break;
                    }
                }
        // ... and a fragment cut off by another organ goes back to background, so each organ is one object.
        for (var k = 1; k <= organs.Length; k++) KeepLargestComponent(mask, (byte)k, depth, size, size);
        for (var z = 0; z < depth; z++)
            for (var y = 0; y < size; y++)
                for (var x = 0; x < size; x++)
                {
                    var at = (z * size + y) * size + x;
                    double dx = ((x + 0.5) / size - 0.5) / bodyRx, dy = ((y + 0.5) / size - 0.5) / bodyRy;
                    var body = dx * dx + dy * dy;
                    double value = body > 1 ? -1000 : body > 0.8 ? 40 : -90; // air, muscle wall, fat
                    if (mask[at] != 0)
                    {
                        var k = mask[at] - 1;
                        value = organs[k].Hu;
                        if (k is 2 or 3 && r2[at] < 0.3) value = 20; // renal pelvis: darker core
                        if (k == 6 && r2[at] < -0.55) value = -700; // gas cap on top of gastric fluid
                    }
                    hu[at] = (float)(value + 12 * rng.Normal());
                }
        double[] spacing = [0.8, 0.8, 2.5];
        var affine = new double[4, 4];
        for (var i = 0; i < 3; i++) affine[i, i] = spacing[i];
        affine[3, 3] = 1;
        return new CtVolume(id, depth, size, size, hu, mask, spacing, affine);
    }
}

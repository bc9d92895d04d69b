using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Data;

/// <summary>Partially labelled CT volumes (Petit et al.): every organ is present once in every volume, but only some
/// organs are annotated in each. <see cref="CtVolume.Mask"/> keeps the complete labels for evaluation;
/// <see cref="TrainingMask"/> is what a method may train on (organs not annotated read as background, as the
/// naive baseline sees them), and <see cref="IsAnnotated"/> tells which classes are missing, as INERRANT needs.</summary>
public sealed class VolumeDataset
{
    private readonly CtVolume[] _volumes;
    private readonly bool[,] _annotated;

    /// <summary>Organ names; mask value k + 1 is organ k.</summary>
    public IReadOnlyList<string> OrganNames { get; }
    public int Count => _volumes.Length;
    public CtVolume this[int index] => _volumes[index];

    public VolumeDataset(IReadOnlyList<string> organNames, IReadOnlyList<CtVolume> volumes, bool[,]? annotated = null)
    {
        if (organNames.Count is 0 or > 255) throw new ArgumentException("between 1 and 255 organs");
        annotated ??= All(volumes.Count, organNames.Count);
        if (annotated.GetLength(0) != volumes.Count || annotated.GetLength(1) != organNames.Count)
            throw new ArgumentException("annotated must be [volumes, organs]");
        foreach (var v in volumes)
        {
            var voxels = v.Depth * v.Height * v.Width;
            if (v.Intensities.Length != voxels || v.Mask.Length != voxels) throw new ArgumentException($"volume {v.Id}: arrays do not match its size");
        }
        OrganNames = organNames.ToArray();
        _volumes = volumes.ToArray();
        _annotated = annotated;
    }

    private static bool[,] All(int volumes, int organs)
    {
        var a = new bool[volumes, organs];
        for (var v = 0; v < volumes; v++)
            for (var k = 0; k < organs; k++) a[v, k] = true;
        return a;
    }

    public bool IsAnnotated(int volume, int organ) => _annotated[volume, organ];

    /// <summary>The same volumes with Petit et al.'s nested partial labels at proportion α (see <see cref="PartialLabels"/>).</summary>
    public VolumeDataset WithLabelledProportion(double alpha, int seed = 0) =>
        new(OrganNames, _volumes, PartialLabels.Nested(Count, OrganNames.Count, alpha, seed));

    /// <summary>The same volumes with the given annotation table [volumes, organs].</summary>
    public VolumeDataset WithAnnotations(bool[,] annotated) => new(OrganNames, _volumes, annotated);

    /// <summary>Every slice of every volume, in volume order (the order of <see cref="CompleteMasks"/>).</summary>
    public IReadOnlyList<(int Volume, int Slice)> AllSlices() =>
        [.. Enumerable.Range(0, Count).SelectMany(v => Enumerable.Range(0, _volumes[v].Depth).Select(s => (v, s)))];

    /// <summary>Every volume's complete label map, slice-major in volume order (for evaluation: missing organs included).</summary>
    public byte[] CompleteMasks() => [.. _volumes.SelectMany(v => v.Mask)];

    /// <summary>The complete mask with organs not annotated in this volume set to background (0).</summary>
    public byte[] TrainingMask(int volume)
    {
        var v = _volumes[volume];
        var mask = (byte[])v.Mask.Clone();
        for (var i = 0; i < mask.Length; i++)
            if (mask[i] != 0 && !_annotated[volume, mask[i] - 1]) mask[i] = 0;
        return mask;
    }

    /// <summary>Slices as a batch: (images [B, 1, H, W] float32 in [0, 1] after the intensity window, training masks
    /// [B, H, W] int64, annotated [B, K] float32 0/1 per organ). All chosen volumes must share H×W.</summary>
    public (Tensor Images, Tensor Masks, Tensor Annotated) Slices(IReadOnlyList<(int Volume, int Slice)> slices,
        float windowLow = -160, float windowHigh = 240)
    {
        if (slices.Count == 0) throw new ArgumentException("no slices requested");
        var first = _volumes[slices[0].Volume];
        int h = first.Height, w = first.Width, plane = h * w, k = OrganNames.Count;
        var images = new float[slices.Count * plane];
        var masks = new long[slices.Count * plane];
        var annotated = new float[slices.Count * k];
        var trainingMasks = new Dictionary<int, byte[]>();
        for (var b = 0; b < slices.Count; b++)
        {
            var (vi, s) = slices[b];
            var v = _volumes[vi];
            if (v.Height != h || v.Width != w) throw new ArgumentException($"volume {v.Id} is {v.Height}×{v.Width}, not {h}×{w}");
            if (s < 0 || s >= v.Depth) throw new ArgumentOutOfRangeException(nameof(slices), $"slice {s} of volume {v.Id} with {v.Depth} slices");
            if (!trainingMasks.TryGetValue(vi, out var mask)) trainingMasks[vi] = mask = TrainingMask(vi);
            for (var p = 0; p < plane; p++)
            {
                images[b * plane + p] = Math.Clamp((v.Intensities[s * plane + p] - windowLow) / (windowHigh - windowLow), 0f, 1f);
                masks[b * plane + p] = mask[s * plane + p];
            }
            for (var o = 0; o < k; o++) annotated[b * k + o] = _annotated[vi, o] ? 1f : 0f;
        }
        return (torch.tensor(images, slices.Count, 1, h, w), torch.tensor(masks, slices.Count, h, w), torch.tensor(annotated, slices.Count, k));
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Data;

/// <summary>Images with (possibly several) labels each, grouped into exams of patients — what the classification,
/// clustering and semi-supervised methods consume. A single-label dataset (MNIST) is the case of exactly one label
/// per item. Images are C×H×W, all the same size; pixel values lie in [0, 1].</summary>
public interface IImageDataset
{
    int Count { get; }
    int Channels { get; }
    int Height { get; }
    int Width { get; }

    /// <summary>One name per label column, e.g. liver … other.</summary>
    IReadOnlyList<string> LabelNames { get; }

    /// <summary>Whether item <paramref name="index"/> carries label <paramref name="label"/>.</summary>
    bool HasLabel(int index, int label);

    string ExamId(int index);
    string PatientId(int index);
    DataSplit Split(int index);

    /// <summary>Copies item <paramref name="index"/>'s C·H·W pixels, channel-major, into <paramref name="destination"/>.</summary>
    void CopyImage(int index, Span<float> destination);

    /// <summary>(images [B, C, H, W] float32 in [0, 1], labels [B, L] float32 0/1) for the given items, in order.</summary>
    (Tensor Images, Tensor Labels) Batch(IReadOnlyList<int> indices);
}

/// <summary>Reading single-label data through <see cref="IImageDataset"/>'s label columns.</summary>
public static class ImageLabels
{
    /// <summary>The class of item <paramref name="index"/> when it carries exactly one label; null with none or several.</summary>
    public static int? SingleClass(this IImageDataset data, int index)
    {
        int? found = null;
        for (var l = 0; l < data.LabelNames.Count; l++)
            if (data.HasLabel(index, l))
            {
                if (found is not null) return null;
                found = l;
            }
        return found;
    }
}

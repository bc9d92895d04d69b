using MedSsl.Data;
using MedSsl.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Methods.OnYourData;

/// <summary>The shape of a backbone: it makes fresh networks (DINO's teacher, the start of a run) and copies of trained
/// ones (TorchSharp cannot deep-copy a module), and tells whether images fit it.</summary>
public abstract record BackboneArchitecture(int Channels)
{
    /// <summary>Width of the feature vector the backbone gives each image.</summary>
    public abstract long FeatureDim { get; }

    /// <summary>A network of this shape, its weights drawn from libtorch's global generator (<c>torch.manual_seed</c>).</summary>
    public abstract nn.Module<Tensor, Tensor> Create();

    /// <summary>A fresh network of this shape with <paramref name="source"/>'s weights and buffers, every weight
    /// trainable, so one start (pre-trained or random) serves several runs without any of them changing it.</summary>
    public nn.Module<Tensor, Tensor> Copy(nn.Module<Tensor, Tensor> source) => Copy(source, nameof(source));

    /// <summary>As <see cref="Copy(nn.Module{Tensor, Tensor})"/>; a source of another shape is an error naming <paramref name="argument"/>.</summary>
    internal nn.Module<Tensor, Tensor> Copy(nn.Module<Tensor, Tensor> source, string argument)
    {
        var copy = Create();
        try
        {
            var weights = source.state_dict();
            using (torch.no_grad())
                foreach (var (name, value) in copy.state_dict())
                {
                    if (!weights.TryGetValue(name, out var from) || !from.shape.SequenceEqual(value.shape))
                        throw new ArgumentException($"the {source.GetType().Name} given is not a {this}: its weight '{name}' is " +
                            (from is null ? "missing" : $"[{string.Join(", ", from.shape)}], not [{string.Join(", ", value.shape)}]"), argument);
                    value.copy_(from);
                }
            foreach (var p in copy.parameters()) p.requires_grad = true;
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <summary>Throws, naming <paramref name="argument"/>, unless images [N, <paramref name="channels"/>,
    /// <paramref name="height"/>, <paramref name="width"/>] fit this backbone.</summary>
    public virtual void CheckImages(long channels, long height, long width, string argument)
    {
        if (channels != Channels)
            throw new ArgumentException($"the images have {channels} channel(s) but the backbone ({this}) takes {Channels}", argument);
    }

    internal void CheckImages(IImageDataset data, string argument) => CheckImages(data.Channels, data.Height, data.Width, argument);

    internal void CheckImages(Tensor images, string argument)
    {
        if (images.dim() != 4)
            throw new ArgumentException($"images must be [N, C, H, W], got [{string.Join(", ", images.shape)}]", argument);
        CheckImages(images.size(1), images.size(2), images.size(3), argument);
    }
}

/// <summary>A <see cref="ResNet"/> with one basic block per stage of <paramref name="Widths"/> channels: the CNN of
/// DINO's and CASS's CNN runs (ResNet-50 in Singh et al. 2024, scaled down for CPUs). Any image size fits it.</summary>
public sealed record ResNetArchitecture(int Channels, IReadOnlyList<long> Widths) : BackboneArchitecture(Channels)
{
    public override long FeatureDim => Widths[^1];

    public override nn.Module<Tensor, Tensor> Create() => new ResNet(Channels, Widths);

    public override string ToString() => $"ResNet of {Channels} channel(s) in, widths {string.Join("/", Widths)}";
}

/// <summary>A <see cref="VisionTransformer"/> on square images of <paramref name="ImageSize"/> pixels cut into
/// <paramref name="PatchSize"/>² patches, tokens of width <paramref name="Dim"/>, <paramref name="Depth"/> blocks of
/// <paramref name="Heads"/> heads (ViT-B/16 in Singh et al. 2024, scaled down for CPUs). Its position embeddings are
/// made for that image size, so the images must have it.</summary>
public sealed record VitArchitecture(int Channels, int ImageSize, int PatchSize, long Dim, int Depth, int Heads) : BackboneArchitecture(Channels)
{
    public override long FeatureDim => Dim;

    public override nn.Module<Tensor, Tensor> Create() => new VisionTransformer(Channels, ImageSize, PatchSize, Dim, Depth, Heads);

    public override void CheckImages(long channels, long height, long width, string argument)
    {
        base.CheckImages(channels, height, width, argument);
        if (height != ImageSize || width != ImageSize)
            throw new ArgumentException($"the images are {height}×{width} but the backbone ({this}) is made for {ImageSize}×{ImageSize}", argument);
    }

    public override string ToString() => $"ViT of {Channels} channel(s) in, {ImageSize}² images, {PatchSize}² patches, D {Dim}, {Depth} blocks, {Heads} heads";
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedSsl.Models;

/// <summary>A Vision Transformer (Dosovitskiy et al. 2021, §3.1, eqs. 1–4) scaled to small images on 2 CPU cores:
/// the image is cut into P×P patches, each patch is projected linearly (a convolution with stride P), a learned CLS
/// token is prepended and learned position embeddings added (eq. 1); then <c>depth</c> pre-norm encoder blocks
/// (eqs. 2–3) and a final LayerNorm, whose CLS token is the feature vector [N, <see cref="FeatureDim"/>] (eq. 4).
/// The paper's ViT-B/16 has D = 768, 12 blocks, 12 heads on 224² images; the default here (D = 64, 4 blocks, 4 heads,
/// 4×4 patches of 32² images, 64 tokens) keeps the shape. Images of another size (DINO's local crops) get the
/// position embeddings bicubically interpolated to their patch grid, as DINO does (Caron et al. 2021, App. D).
/// The transformer of CASS (Singh et al. 2022) and of DINO's ViT runs.</summary>
public sealed class VisionTransformer : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d patchEmbedding;
    private readonly Parameter clsToken;
    private readonly Parameter positionEmbedding;
    private readonly ModuleList<EncoderBlock> blocks;
    private readonly LayerNorm norm;

    /// <param name="inChannels">channels of the input images</param>
    /// <param name="imageSize">side of the square training images (a multiple of <paramref name="patchSize"/>)</param>
    /// <param name="patchSize">side P of the square patches</param>
    /// <param name="dim">token width D</param>
    /// <param name="depth">encoder blocks</param>
    /// <param name="heads">attention heads (D must divide by it)</param>
    /// <param name="mlpRatio">hidden width of each block's MLP as a multiple of D (the paper: 4)</param>
    public VisionTransformer(long inChannels = 3, int imageSize = 32, int patchSize = 4, long dim = 64, int depth = 4, int heads = 4,
        double mlpRatio = 4) : base(nameof(VisionTransformer))
    {
        if (patchSize < 1 || imageSize % patchSize != 0)
            throw new ArgumentException($"VisionTransformer: the image side {imageSize} must be a multiple of the patch side {patchSize}");
        if (depth < 1 || heads < 1 || dim % heads != 0)
            throw new ArgumentException($"VisionTransformer: needs at least one block and a width divisible by the heads, not dim {dim}, depth {depth}, heads {heads}");
        PatchSize = patchSize;
        GridSize = imageSize / patchSize;
        FeatureDim = dim;
        patchEmbedding = nn.Conv2d(inChannels, dim, patchSize, stride: patchSize);
        // timm/DINO initialise the CLS token and the position embeddings with a (truncated) normal of σ = 0.02.
        clsToken = nn.Parameter(torch.randn(1, 1, dim) * 0.02);
        positionEmbedding = nn.Parameter(torch.randn(1, GridSize * GridSize + 1, dim) * 0.02);
        blocks = nn.ModuleList([.. Enumerable.Range(0, depth).Select(_ => new EncoderBlock(dim, heads, (long)Math.Round(dim * mlpRatio)))]);
        norm = nn.LayerNorm(dim);
        RegisterComponents();
    }

    /// <summary>Width D of the CLS feature vector.</summary>
    public long FeatureDim { get; }
    public int PatchSize { get; }
    /// <summary>Patches per side of the training image size (the grid the position embeddings were made for).</summary>
    public int GridSize { get; }

    /// <summary>Images [N, C, H, W] (H, W multiples of the patch side) → CLS features [N, D].</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4 || x.size(2) % PatchSize != 0 || x.size(3) % PatchSize != 0)
            throw new ArgumentException($"VisionTransformer takes images [N, C, H, W] with H and W multiples of {PatchSize}, got [{string.Join(", ", x.shape)}]");
        using var scope = NewDisposeScope();
        var tokens = Tokens(x);
        foreach (var block in blocks) tokens = block.call(tokens);
        return norm.call(tokens)[.., 0].MoveToOuterDisposeScope();
    }

    /// <summary>Eq. 1: z₀ = [x_class; x_p¹E; …; x_pᴺE] + E_pos, for the patch grid of <paramref name="x"/>.</summary>
    private Tensor Tokens(Tensor x)
    {
        var patches = patchEmbedding.call(x);                         // [N, D, H/P, W/P]
        long n = x.size(0), gh = patches.size(2), gw = patches.size(3);
        var sequence = patches.flatten(2).transpose(1, 2);            // [N, gh·gw, D]
        var cls = clsToken.expand(n, 1, FeatureDim);
        return torch.cat([cls, sequence], 1) + PositionEmbedding(gh, gw);
    }

    private Tensor PositionEmbedding(long gh, long gw)
    {
        if (gh == GridSize && gw == GridSize) return positionEmbedding;
        var grid = positionEmbedding[.., 1..].reshape(1, GridSize, GridSize, FeatureDim).permute(0, 3, 1, 2);
        var resized = nn.functional.interpolate(grid, [gh, gw], mode: InterpolationMode.Bicubic, align_corners: false);
        return torch.cat([positionEmbedding[.., ..1], resized.permute(0, 2, 3, 1).reshape(1, gh * gw, FeatureDim)], 1);
    }

    /// <summary>A pre-norm Transformer encoder block (Dosovitskiy et al. 2021, eqs. 2–3):
    /// z′ = MSA(LN(z)) + z, then z″ = MLP(LN(z′)) + z′, the MLP two layers with a GELU.</summary>
    private sealed class EncoderBlock : nn.Module<Tensor, Tensor>
    {
        private readonly LayerNorm norm1;
        private readonly MultiHeadSelfAttention attention;
        private readonly LayerNorm norm2;
        private readonly Sequential mlp;

        public EncoderBlock(long dim, int heads, long hidden) : base(nameof(EncoderBlock))
        {
            norm1 = nn.LayerNorm(dim);
            attention = new MultiHeadSelfAttention(dim, heads);
            norm2 = nn.LayerNorm(dim);
            mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim));
            RegisterComponents();
        }

        public override Tensor forward(Tensor z)
        {
            using var scope = NewDisposeScope();
            var afterAttention = z + attention.call(norm1.call(z));
            return (afterAttention + mlp.call(norm2.call(afterAttention))).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Multi-head self-attention (Vaswani et al. 2017, §3.2.2; Dosovitskiy et al. 2021, App. A): one linear
    /// map to queries, keys and values of every head, softmax(QKᵀ/√d_h)V per head, the heads concatenated and projected.</summary>
    private sealed class MultiHeadSelfAttention : nn.Module<Tensor, Tensor>
    {
        private readonly Linear qkv;
        private readonly Linear projection;
        private readonly int heads;

        public MultiHeadSelfAttention(long dim, int heads) : base(nameof(MultiHeadSelfAttention))
        {
            this.heads = heads;
            qkv = nn.Linear(dim, 3 * dim);
            projection = nn.Linear(dim, dim);
            RegisterComponents();
        }

        public override Tensor forward(Tensor z)
        {
            using var scope = NewDisposeScope();
            long n = z.size(0), t = z.size(1), d = z.size(2), dh = d / heads;
            var qkvHeads = qkv.call(z).view(n, t, 3, heads, dh).permute(2, 0, 3, 1, 4);   // [3, N, heads, T, d_h]
            var (q, k, v) = (qkvHeads[0], qkvHeads[1], qkvHeads[2]);
            var weights = (q.matmul(k.transpose(-2, -1)) / Math.Sqrt(dh)).softmax(-1);
            var mixed = weights.matmul(v).transpose(1, 2).reshape(n, t, d);
            return projection.call(mixed).MoveToOuterDisposeScope();
        }
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedSsl.Models;

/// <summary>A Swin-UNet (Cao et al. 2021, "Swin-Unet: Unet-like pure Transformer for medical image segmentation") scaled
/// to 32×32 images on 2 CPU cores: a convolutional patch embedding, encoder stages of Swin Transformer blocks (Liu et al.
/// 2021: window self-attention with a relative position bias, shifted windows with their attention mask in every second
/// block) joined by patch merging, a symmetric decoder of patch expanding, skip connections (concatenate, then a linear
/// map back to the stage's width) and Swin blocks, and a final patch expanding to the input resolution followed by a 1×1
/// convolution to per-pixel logits. Tokens are kept channels-last, [B, H, W, C]. The original runs 224² images with
/// patch 4, width 96, depths [2, 2, 2, 2], heads [3, 6, 12, 24] and window 7; the defaults here (patch 2, width 24,
/// depths [2, 2], heads [3, 6], window 4) keep its structure at 1/4 of the width and half the stages. No stochastic depth
/// and no dropout (the original's 0.1 drop path is a regulariser for ImageNet-sized training).</summary>
public sealed class SwinUNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d patchEmbed;
    private readonly LayerNorm patchNorm;
    private readonly ModuleList<SwinStage> encoder = new();
    private readonly ModuleList<PatchMerging> merging = new();
    private readonly LayerNorm norm;
    private readonly ModuleList<PatchExpand> expanding = new();
    private readonly ModuleList<Linear> concatBack = new();
    private readonly ModuleList<SwinStage> decoder = new();
    private readonly LayerNorm normUp;
    private readonly PatchExpand finalExpand;
    private readonly Conv2d head;

    /// <param name="inChannels">channels of the input images</param>
    /// <param name="classes">output maps, one logit per class</param>
    /// <param name="imageSize">side of the (square) images the model takes</param>
    /// <param name="patchSize">side of a patch; tokens form an (imageSize / patchSize)² grid</param>
    /// <param name="embedDim">width of the first stage; it doubles at every patch merging</param>
    /// <param name="depths">Swin blocks per stage (the last stage is the bottleneck)</param>
    /// <param name="heads">attention heads per stage</param>
    /// <param name="windowSize">side of the attention windows</param>
    /// <param name="mlpRatio">hidden width of a block's MLP relative to its width</param>
    public SwinUNet(long inChannels, long classes, int imageSize = 32, int patchSize = 2, long embedDim = 24,
        IReadOnlyList<int>? depths = null, IReadOnlyList<int>? heads = null, int windowSize = 4, double mlpRatio = 4) : base(nameof(SwinUNet))
    {
        depths ??= [2, 2];
        heads ??= [3, 6];
        if (depths.Count != heads.Count || depths.Count < 2)
            throw new ArgumentException($"A Swin-UNet needs at least two stages and one head count per stage (depths {depths.Count}, heads {heads.Count})");
        var grid = imageSize / patchSize;
        if (imageSize % patchSize != 0 || grid % (1 << (depths.Count - 1)) != 0)
            throw new ArgumentException($"image size {imageSize} must be divisible by patch size {patchSize}, and its {grid}×{grid} token grid by 2^{depths.Count - 1}");
        ImageSize = imageSize;
        Stages = depths.Count;

        patchEmbed = nn.Conv2d(inChannels, embedDim, patchSize, stride: patchSize);
        patchNorm = nn.LayerNorm(embedDim);
        for (var s = 0; s < Stages; s++)
        {
            var dim = embedDim << s;
            encoder.Add(new SwinStage(dim, grid >> s, depths[s], heads[s], windowSize, mlpRatio));
            if (s < Stages - 1) merging.Add(new PatchMerging(dim));
        }
        norm = nn.LayerNorm(embedDim << (Stages - 1));
        // Decoder, bottom-up: expand from stage s + 1 to stage s, concatenate the skip, map 2·dim → dim, then blocks.
        for (var s = Stages - 2; s >= 0; s--)
        {
            var dim = embedDim << s;
            expanding.Add(new PatchExpand(2 * dim, 2, dim));
            concatBack.Add(nn.Linear(2 * dim, dim));
            decoder.Add(new SwinStage(dim, grid >> s, depths[s], heads[s], windowSize, mlpRatio));
        }
        normUp = nn.LayerNorm(embedDim);
        finalExpand = new PatchExpand(embedDim, patchSize, embedDim);
        head = nn.Conv2d(embedDim, classes, 1, bias: false);
        RegisterComponents();
        foreach (var p in parameters())
            if (p.dim() == 2)
                // Swin's trunc_normal_(std = .02) truncates at ±2 (absolute), i.e. ±100σ: a plain normal. (TorchSharp
                // 0.107's trunc_normal_ returned weights of σ ≈ 1e-9 for some shapes, which silenced whole layers.)
                using (torch.no_grad()) p.normal_(0, 0.02);
    }

    public int ImageSize { get; }
    public int Stages { get; }

    /// <summary>Images [N, C, S, S] (S = the image size it was built for) → logits [N, classes, S, S].</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4 || x.size(2) != ImageSize || x.size(3) != ImageSize)
            throw new ArgumentException($"This Swin-UNet takes images [N, C, {ImageSize}, {ImageSize}], got [{string.Join(", ", x.shape)}]", nameof(x));
        using var scope = NewDisposeScope();
        var h = patchNorm.call(patchEmbed.call(x).permute(0, 2, 3, 1));
        var skips = new List<Tensor>();
        for (var s = 0; s < Stages; s++)
        {
            skips.Add(h);   // Swin-Unet keeps each stage's input as the skip
            h = encoder[s].call(h);
            if (s < Stages - 1) h = merging[s].call(h);
        }
        h = norm.call(h);
        for (var i = 0; i < decoder.Count; i++)
        {
            h = expanding[i].call(h);
            h = concatBack[i].call(torch.cat([h, skips[Stages - 2 - i]], -1));
            h = decoder[i].call(h);
        }
        h = finalExpand.call(normUp.call(h));
        return head.call(h.permute(0, 3, 1, 2)).MoveToOuterDisposeScope();
    }

    /// <summary>Windows of a token map: [B, H, W, C] → [B·(H/w)·(W/w), w·w, C], windows in row-major order, tokens
    /// row-major inside each window (Liu et al. 2021, §3.2; window_partition of the reference code).</summary>
    public static Tensor WindowPartition(Tensor x, int window)
    {
        long b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
        if (h % window != 0 || w % window != 0)
            throw new ArgumentException($"a {h}×{w} token map cannot be split into {window}×{window} windows", nameof(x));
        return x.view(b, h / window, window, w / window, window, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, c);
    }

    /// <summary>The inverse of <see cref="WindowPartition"/>: [B·(H/w)·(W/w), w·w, C] → [B, H, W, C].</summary>
    public static Tensor WindowReverse(Tensor windows, int window, long height, long width)
    {
        var c = windows.size(2);
        var b = windows.size(0) / (height / window * (width / window));
        return windows.view(b, height / window, width / window, window, window, c).permute(0, 1, 3, 2, 4, 5).reshape(b, height, width, c);
    }

    /// <summary>The attention mask of shifted windows (Liu et al. 2021, §3.2, "efficient batch computation for shifted
    /// configuration"): after the cyclic shift by <paramref name="shift"/>, a window can hold tokens from up to four
    /// regions that were not neighbours in the image; pairs of tokens from different regions get −100 (a zero weight
    /// after the softmax), pairs from the same region 0. [nW, w·w, w·w], windows in row-major order.</summary>
    public static Tensor ShiftedWindowMask(int height, int width, int window, int shift)
    {
        var regions = new long[height * width];
        int[] Bounds(int size) => [0, size - window, size - shift, size];
        var (rows, cols) = (Bounds(height), Bounds(width));
        var label = 0L;
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++, label++)
                for (var y = rows[i]; y < rows[i + 1]; y++)
                    for (var x = cols[j]; x < cols[j + 1]; x++) regions[y * width + x] = label;
        using var scope = NewDisposeScope();
        var map = torch.tensor(regions, 1, height, width, 1);
        var windows = WindowPartition(map, window).squeeze(-1);   // [nW, w·w]
        var differs = windows.unsqueeze(1).ne(windows.unsqueeze(2));
        return torch.where(differs, -100f, 0f).MoveToOuterDisposeScope();
    }

    /// <summary>Index into the relative position bias table for each pair of tokens in a window: (2w − 1)² relative
    /// offsets, row offset major (Liu et al. 2021, §3.2, "relative position bias").</summary>
    public static Tensor RelativePositionIndex(int window)
    {
        var n = window * window;
        var index = new long[n * n];
        for (var p = 0; p < n; p++)
            for (var q = 0; q < n; q++)
            {
                var dy = p / window - q / window + window - 1;
                var dx = p % window - q % window + window - 1;
                index[p * n + q] = dy * (2 * window - 1) + dx;
            }
        return torch.tensor(index, n, n);
    }
}

/// <summary>Blocks of one Swin stage at one resolution, alternating regular and shifted windows.</summary>
internal sealed class SwinStage : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<SwinBlock> blocks = new();

    public SwinStage(long dim, int resolution, int depth, int heads, int window, double mlpRatio) : base(nameof(SwinStage))
    {
        for (var i = 0; i < depth; i++) blocks.Add(new SwinBlock(dim, resolution, heads, window, shifted: i % 2 == 1, mlpRatio));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x;
        foreach (var block in blocks) h = block.call(h);
        return h.MoveToOuterDisposeScope();
    }
}

/// <summary>A Swin Transformer block (Liu et al. 2021, §3.2, eq. 3): x + (S)W-MSA(LN(x)), then + MLP(LN(·)). A
/// resolution no larger than the window gets one window and no shift, as the reference code does.</summary>
internal sealed class SwinBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly WindowAttention attn;
    private readonly LayerNorm norm2;
    private readonly Sequential mlp;
    private readonly Tensor? mask;
    private readonly int window;
    private readonly int shift;

    public SwinBlock(long dim, int resolution, int heads, int window, bool shifted, double mlpRatio) : base(nameof(SwinBlock))
    {
        this.window = Math.Min(window, resolution);
        shift = shifted && resolution > window ? window / 2 : 0;
        norm1 = nn.LayerNorm(dim);
        attn = new WindowAttention(dim, this.window, heads);
        norm2 = nn.LayerNorm(dim);
        var hidden = (long)(dim * mlpRatio);
        mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim));
        if (shift > 0) mask = SwinUNet.ShiftedWindowMask(resolution, resolution, this.window, shift);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long h = x.size(1), w = x.size(2);
        using var scope = NewDisposeScope();
        var y = norm1.call(x);
        if (shift > 0) y = y.roll([-shift, -shift], [1, 2]);
        var windows = attn.Attend(SwinUNet.WindowPartition(y, window), mask);
        y = SwinUNet.WindowReverse(windows, window, h, w);
        if (shift > 0) y = y.roll([shift, shift], [1, 2]);
        var z = x + y;
        return (z + mlp.call(norm2.call(z))).MoveToOuterDisposeScope();
    }
}

/// <summary>Multi-head self-attention inside windows with a learnt relative position bias (Liu et al. 2021, eq. 4):
/// softmax(QKᵀ/√d + B + mask)V.</summary>
internal sealed class WindowAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly Parameter relative_position_bias_table;
    private readonly Tensor relativeIndex;
    private readonly long heads;
    private readonly double scale;

    public WindowAttention(long dim, int window, long heads) : base(nameof(WindowAttention))
    {
        if (dim % heads != 0) throw new ArgumentException($"width {dim} is not divisible by {heads} heads");
        this.heads = heads;
        scale = 1 / Math.Sqrt(dim / heads);
        qkv = nn.Linear(dim, 3 * dim);
        proj = nn.Linear(dim, dim);
        relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) * (2 * window - 1), heads));
        relativeIndex = SwinUNet.RelativePositionIndex(window);
        RegisterComponents();
    }

    public override Tensor forward(Tensor windows) => Attend(windows, null);

    /// <summary>Windows [B·nW, N, C] → [B·nW, N, C]; <paramref name="mask"/> [nW, N, N] is added to every image's windows.</summary>
    public Tensor Attend(Tensor windows, Tensor? mask)
    {
        long bw = windows.size(0), n = windows.size(1), c = windows.size(2);
        using var scope = NewDisposeScope();
        var qkvs = qkv.call(windows).reshape(bw, n, 3, heads, c / heads).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (qkvs[0] * scale, qkvs[1], qkvs[2]);
        var bias = relative_position_bias_table.index_select(0, relativeIndex.view(-1)).view(n, n, heads).permute(2, 0, 1);
        var logits = q.matmul(k.transpose(-2, -1)) + bias.unsqueeze(0);
        if (mask is not null)
        {
            var nw = mask.size(0);
            logits = (logits.view(bw / nw, nw, heads, n, n) + mask.unsqueeze(1).unsqueeze(0)).view(bw, heads, n, n);
        }
        var attended = logits.softmax(-1).matmul(v).transpose(1, 2).reshape(bw, n, c);
        return proj.call(attended).MoveToOuterDisposeScope();
    }
}

/// <summary>Patch merging (Liu et al. 2021, §3.1): each 2×2 group of tokens concatenated (4C), layer-normed and mapped
/// to 2C; the resolution halves.</summary>
internal sealed class PatchMerging : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm;
    private readonly Linear reduction;

    public PatchMerging(long dim) : base(nameof(PatchMerging))
    {
        norm = nn.LayerNorm(4 * dim);
        reduction = nn.Linear(4 * dim, 2 * dim, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
        using var scope = NewDisposeScope();
        // The reference concatenates x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]: column offset major.
        var grouped = x.view(b, h / 2, 2, w / 2, 2, c).permute(0, 1, 3, 4, 2, 5).reshape(b, h / 2, w / 2, 4 * c);
        return reduction.call(norm.call(grouped)).MoveToOuterDisposeScope();
    }
}

/// <summary>Patch expanding (Cao et al. 2021, §3.4): a linear map C → f²·C′, each token's vector rearranged into an f×f
/// block of C′-wide tokens, then layer norm. f = 2, C′ = C/2 between decoder stages; f = the patch size, C′ = C at the
/// end (the "final patch expanding").</summary>
internal sealed class PatchExpand : nn.Module<Tensor, Tensor>
{
    private readonly Linear expand;
    private readonly LayerNorm norm;
    private readonly long factor;
    private readonly long outDim;

    public PatchExpand(long dim, long factor, long outDim) : base(nameof(PatchExpand))
    {
        this.factor = factor;
        this.outDim = outDim;
        expand = nn.Linear(dim, factor * factor * outDim, hasBias: false);
        norm = nn.LayerNorm(outDim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long b = x.size(0), h = x.size(1), w = x.size(2);
        using var scope = NewDisposeScope();
        var e = expand.call(x).view(b, h, w, factor, factor, outDim).permute(0, 1, 3, 2, 4, 5).reshape(b, h * factor, w * factor, outDim);
        return norm.call(e).MoveToOuterDisposeScope();
    }
}

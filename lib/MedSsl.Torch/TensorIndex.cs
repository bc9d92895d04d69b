namespace MedSsl.Torch;

/// <summary>One index of <c>t[...]</c>, with Python's meaning: an integer selects (and drops the dim),
/// a range slices (<c>1..3</c>, <c>..</c>, <c>^2..</c>), <see cref="Slice"/> adds a step,
/// <see cref="NewAxis"/> inserts a dim, <see cref="Ellipsis"/> stands for the remaining dims, and a
/// tensor indexes advanced-style (int64 positions or a bool mask).</summary>
public readonly struct TensorIndex
{
    internal enum Kind { Single, Slice, NewAxis, Ellipsis, Tensor }

    internal readonly Kind kind;
    internal readonly long index;
    internal readonly long? start, stop;
    internal readonly long step;
    internal readonly Tensor? tensor;

    private TensorIndex(Kind kind, long index = 0, long? start = null, long? stop = null, long step = 1, Tensor? tensor = null)
    {
        this.kind = kind; this.index = index; this.start = start; this.stop = stop; this.step = step; this.tensor = tensor;
    }

    public static readonly TensorIndex Colon = new(Kind.Slice);
    public static readonly TensorIndex NewAxis = new(Kind.NewAxis);
    public static readonly TensorIndex Ellipsis = new(Kind.Ellipsis);

    public static TensorIndex Slice(long? start = null, long? stop = null, long step = 1) =>
        step < 1 ? throw new ArgumentOutOfRangeException(nameof(step), step, "slice step must be positive (as in PyTorch)") : new(Kind.Slice, start: start, stop: stop, step: step);

    public static implicit operator TensorIndex(long i) => new(Kind.Single, index: i);
    public static implicit operator TensorIndex(int i) => new(Kind.Single, index: i);
    public static implicit operator TensorIndex(Index i) => new(Kind.Single, index: i.IsFromEnd ? -i.Value : i.Value);
    public static implicit operator TensorIndex(Tensor t) => new(Kind.Tensor, tensor: t);

    public static implicit operator TensorIndex(Range r)
    {
        long? start = r.Start.IsFromEnd ? -r.Start.Value : r.Start.Value;
        long? stop = r.End.IsFromEnd ? (r.End.Value == 0 ? null : -r.End.Value) : r.End.Value;
        return new(Kind.Slice, start: start == 0 ? null : start, stop: stop);
    }

    internal bool ConsumesDim => kind is Kind.Single or Kind.Slice or Kind.Tensor;
}

public sealed partial class Tensor
{
    /// <summary>Python-style indexing. Integers and ranges give views; tensor indices gather (a copy).
    /// Setting writes into this tensor in place.</summary>
    public Tensor this[params TensorIndex[] indices]
    {
        get
        {
            var (view, advanced) = BasicIndex(indices);
            if (advanced is null) return view;
            var result = Ops.index.Call(view, Arg.OptionalTensors(advanced));
            view.Dispose();
            return result;
        }
        set
        {
            var (view, advanced) = BasicIndex(indices);
            if (advanced is null) view.copy_(value);
            else Ops.index_put_.CallVoid(view, Arg.OptionalTensors(advanced), value);
            view.Dispose();
        }
    }

    /// <summary>Fills the indexed region with a number.</summary>
    public void index_fill_(double value, params TensorIndex[] indices)
    {
        var (view, advanced) = BasicIndex(indices);
        if (advanced is null) view.fill_(value);
        else
        {
            using var v = torch.scalar_tensor(value, dtype).to(device);
            Ops.index_put_.CallVoid(view, Arg.OptionalTensors(advanced), v);
        }
        view.Dispose();
    }

    // Applies the integer, slice, new-axis and ellipsis indices (views); returns the per-dim
    // tensor indices left for one aten::index / index_put_ call, or null when there are none.
    private (Tensor view, Tensor?[]? advanced) BasicIndex(TensorIndex[] indices)
    {
        var ndim = dim();
        var consumed = indices.Count(i => i.ConsumesDim);
        if (indices.Count(i => i.kind == TensorIndex.Kind.Ellipsis) > 1) throw new ArgumentException("an index can hold only one Ellipsis");
        if (consumed > ndim) throw new ArgumentException($"too many indices ({consumed}) for a tensor of {ndim} dims");
        var result = alias();
        var advanced = new List<Tensor?>();
        var anyAdvanced = false;
        long d = 0;
        foreach (var i in indices)
        {
            Tensor next;
            switch (i.kind)
            {
                case TensorIndex.Kind.Single:
                    next = result.select(d, i.index);
                    break;
                case TensorIndex.Kind.Slice:
                    next = result.slice(d, i.start, i.stop, i.step);
                    advanced.Add(null);
                    d++;
                    break;
                case TensorIndex.Kind.NewAxis:
                    next = result.unsqueeze(d);
                    advanced.Add(null);
                    d++;
                    break;
                case TensorIndex.Kind.Ellipsis:
                    var skip = ndim - consumed;
                    for (var k = 0; k < skip; k++) advanced.Add(null);
                    d += skip;
                    continue;
                default:
                    advanced.Add(i.tensor);
                    anyAdvanced = true;
                    // One entry, but a bool mask covers as many dims as it has.
                    d += i.tensor!.dtype == DType.Bool ? i.tensor.dim() : 1;
                    continue;
            }
            result.Dispose();
            result = next;
        }
        if (!anyAdvanced) return (result, null);
        // aten::index takes one entry per leading dim; trailing untouched dims may be left out.
        while (advanced.Count > 0 && advanced[^1] is null) advanced.RemoveAt(advanced.Count - 1);
        return (result, advanced.ToArray());
    }
}

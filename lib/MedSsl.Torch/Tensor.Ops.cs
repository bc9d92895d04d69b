namespace MedSsl.Torch;

// Tensor methods and operators, each a one-line boxed call of the ATen operator of the same name.
public sealed partial class Tensor
{
    // ---- arithmetic (broadcasting) ---------------------------------------------------------
    public static Tensor operator +(Tensor a, Tensor b) => Ops.add.Call(a, b);
    public static Tensor operator +(Tensor a, double b) => Ops.add_scalar.Call(a, b);
    public static Tensor operator +(double a, Tensor b) => Ops.add_scalar.Call(b, a);
    public static Tensor operator -(Tensor a, Tensor b) => Ops.sub.Call(a, b);
    public static Tensor operator -(Tensor a, double b) => Ops.sub_scalar.Call(a, b);
    public static Tensor operator -(double a, Tensor b) => Ops.rsub_scalar.Call(b, a);
    public static Tensor operator *(Tensor a, Tensor b) => Ops.mul.Call(a, b);
    public static Tensor operator *(Tensor a, double b) => Ops.mul_scalar.Call(a, b);
    public static Tensor operator *(double a, Tensor b) => Ops.mul_scalar.Call(b, a);
    public static Tensor operator /(Tensor a, Tensor b) => Ops.div.Call(a, b);
    public static Tensor operator /(Tensor a, double b) => Ops.div_scalar.Call(a, b);
    public static Tensor operator /(double a, Tensor b) => Ops.mul_scalar.Call(Ops.reciprocal.Call(b), a);
    public static Tensor operator -(Tensor a) => Ops.neg.Call(a);

    // Comparisons return bool tensors; == and != keep .NET reference semantics (use eq/ne).
    public static Tensor operator >(Tensor a, Tensor b) => Ops.gt.Call(a, b);
    public static Tensor operator <(Tensor a, Tensor b) => Ops.lt.Call(a, b);
    public static Tensor operator >=(Tensor a, Tensor b) => Ops.ge.Call(a, b);
    public static Tensor operator <=(Tensor a, Tensor b) => Ops.le.Call(a, b);
    public static Tensor operator >(Tensor a, double b) => Ops.gt_scalar.Call(a, b);
    public static Tensor operator <(Tensor a, double b) => Ops.lt_scalar.Call(a, b);
    public static Tensor operator >=(Tensor a, double b) => Ops.ge_scalar.Call(a, b);
    public static Tensor operator <=(Tensor a, double b) => Ops.le_scalar.Call(a, b);
    public static Tensor operator &(Tensor a, Tensor b) => Ops.logical_and.Call(a, b);
    public static Tensor operator |(Tensor a, Tensor b) => Ops.logical_or.Call(a, b);
    public static Tensor operator !(Tensor a) => Ops.logical_not.Call(a);

    public Tensor eq(Tensor other) => Ops.eq.Call(this, other);
    public Tensor eq(double other) => Ops.eq_scalar.Call(this, other);
    public Tensor ne(Tensor other) => Ops.ne.Call(this, other);
    public Tensor ne(double other) => Ops.ne_scalar.Call(this, other);
    public Tensor gt(Tensor other) => this > other;
    public Tensor lt(Tensor other) => this < other;
    public Tensor ge(Tensor other) => this >= other;
    public Tensor le(Tensor other) => this <= other;
    public bool allclose(Tensor other, double rtol = 1e-5, double atol = 1e-8) => Ops.allclose.CallScalar(this, other, rtol, atol) != 0;
    public bool equal(Tensor other) => Ops.equal.CallScalar(this, other) != 0;

    public Tensor add(Tensor other, double alpha = 1) => Ops.add.Call(this, other, alpha);
    public Tensor sub(Tensor other, double alpha = 1) => Ops.sub.Call(this, other, alpha);
    public Tensor mul(Tensor other) => Ops.mul.Call(this, other);
    public Tensor div(Tensor other) => Ops.div.Call(this, other);
    public Tensor pow(double exponent) => Ops.pow.Call(this, exponent);
    public Tensor pow(Tensor exponent) => Ops.pow_tensor.Call(this, exponent);
    public Tensor maximum(Tensor other) => Ops.maximum.Call(this, other);
    public Tensor minimum(Tensor other) => Ops.minimum.Call(this, other);

    // ---- element-wise ------------------------------------------------------------------
    public Tensor abs() => Ops.abs.Call(this);
    public Tensor neg() => Ops.neg.Call(this);
    public Tensor exp() => Ops.exp.Call(this);
    public Tensor log() => Ops.log.Call(this);
    public Tensor log1p() => Ops.log1p.Call(this);
    public Tensor sqrt() => Ops.sqrt.Call(this);
    public Tensor rsqrt() => Ops.rsqrt.Call(this);
    public Tensor square() => Ops.square.Call(this);
    public Tensor reciprocal() => Ops.reciprocal.Call(this);
    public Tensor sign() => Ops.sign.Call(this);
    public Tensor floor() => Ops.floor.Call(this);
    public Tensor ceil() => Ops.ceil.Call(this);
    public Tensor round() => Ops.round.Call(this);
    public Tensor sin() => Ops.sin.Call(this);
    public Tensor cos() => Ops.cos.Call(this);
    public Tensor sigmoid() => Ops.sigmoid.Call(this);
    public Tensor tanh() => Ops.tanh.Call(this);
    public Tensor relu() => Ops.relu.Call(this);
    public Tensor softmax(long dim) => Ops.softmax.Call(this, dim);
    public Tensor log_softmax(long dim) => Ops.log_softmax.Call(this, dim);
    public Tensor clamp(double? min = null, double? max = null) => Ops.clamp.Call(this, min, max);
    public Tensor clamp_min(double min) => Ops.clamp.Call(this, min);
    public Tensor isnan() => Ops.isnan.Call(this);
    public Tensor isfinite() => Ops.isfinite.Call(this);
    public Tensor masked_fill(Tensor mask, double value) => Ops.masked_fill.Call(this, mask, value);
    public Tensor lerp(Tensor end, double weight) => Ops.lerp.Call(this, end, weight);

    // ---- reductions ----------------------------------------------------------------------
    // No dtype overload: a literal 0 converts to any enum, so sum(0) would silently pick it.
    public Tensor sum() => Ops.sum.Call(this);
    public Tensor sum(long dim, bool keepdim = false) => Ops.sum_dim.Call(this, new[] { dim }, keepdim);
    public Tensor sum(long[] dims, bool keepdim = false) => Ops.sum_dim.Call(this, dims, keepdim);
    public Tensor mean() => Ops.mean.Call(this);
    public Tensor mean(long dim, bool keepdim = false) => Ops.mean_dim.Call(this, new[] { dim }, keepdim);
    public Tensor mean(long[] dims, bool keepdim = false) => Ops.mean_dim.Call(this, dims, keepdim);
    public Tensor prod() => Ops.prod.Call(this);
    public Tensor max() => Ops.max.Call(this);
    public Tensor min() => Ops.min.Call(this);
    public (Tensor values, Tensor indices) max(long dim, bool keepdim = false) { var r = Ops.max_dim.CallMany(this, dim, keepdim); return (r[0], r[1]); }
    public (Tensor values, Tensor indices) min(long dim, bool keepdim = false) { var r = Ops.min_dim.CallMany(this, dim, keepdim); return (r[0], r[1]); }
    public Tensor argmax(long? dim = null, bool keepdim = false) => Ops.argmax.Call(this, dim, keepdim);
    public Tensor argmin(long? dim = null, bool keepdim = false) => Ops.argmin.Call(this, dim, keepdim);
    public Tensor std(bool unbiased = true) => Ops.std.Call(this, unbiased);
    public Tensor std(long dim, bool unbiased = true, bool keepdim = false) => Ops.std_dim.Call(this, new[] { dim }, unbiased, keepdim);
    public Tensor var(bool unbiased = true) => Ops.var.Call(this, unbiased);
    public Tensor var(long dim, bool unbiased = true, bool keepdim = false) => Ops.var_dim.Call(this, new[] { dim }, unbiased, keepdim);
    public Tensor logsumexp(long dim, bool keepdim = false) => Ops.logsumexp.Call(this, new[] { dim }, keepdim);
    public Tensor norm(double p = 2) => Ops.norm.Call(this, p);
    public Tensor norm(long dim, double p = 2, bool keepdim = false) => Ops.norm_dim.Call(this, p, new[] { dim }, keepdim);
    public Tensor cumsum(long dim) => Ops.cumsum.Call(this, dim);
    public Tensor all() => Ops.all.Call(this);
    public Tensor any() => Ops.any.Call(this);
    public (Tensor values, Tensor indices) sort(long dim = -1, bool descending = false) { var r = Ops.sort.CallMany(this, dim, descending); return (r[0], r[1]); }
    public Tensor argsort(long dim = -1, bool descending = false) => Ops.argsort.Call(this, dim, descending);
    public (Tensor values, Tensor indices) topk(long k, long dim = -1, bool largest = true, bool sorted = true) { var r = Ops.topk.CallMany(this, k, dim, largest, sorted); return (r[0], r[1]); }

    // ---- shape -----------------------------------------------------------------------------
    public Tensor reshape(params long[] shape) => Ops.reshape.Call(this, shape);
    public Tensor view(params long[] shape) => Ops.view.Call(this, shape);
    /// <summary>Reinterprets the bytes as another dtype (the last dim rescales when element sizes differ).</summary>
    public Tensor view(DType dtype) => Ops.view_dtype.Call(this, dtype);
    public Tensor permute(params long[] dims) => Ops.permute.Call(this, dims);
    public Tensor transpose(long dim0, long dim1) => Ops.transpose.Call(this, dim0, dim1);
    public Tensor t() => Ops.t.Call(this);
    public Tensor T => Ops.numpy_T.Call(this);
    public Tensor flatten(long start_dim = 0, long end_dim = -1) => Ops.flatten.Call(this, start_dim, end_dim);
    public Tensor unsqueeze(long dim) => Ops.unsqueeze.Call(this, dim);
    public Tensor squeeze() => Ops.squeeze.Call(this);
    public Tensor squeeze(long dim) => Ops.squeeze_dim.Call(this, dim);
    public Tensor expand(params long[] size) => Ops.expand.Call(this, size);
    public Tensor expand_as(Tensor other) => Ops.expand_as.Call(this, other);
    public Tensor repeat(params long[] repeats) => Ops.repeat.Call(this, repeats);
    public Tensor contiguous() => Ops.contiguous.Call(this);
    public Tensor clone() => Ops.clone.Call(this);
    public Tensor narrow(long dim, long start, long length) => Ops.narrow.Call(this, dim, start, length);
    public Tensor select(long dim, long index) => Ops.select.Call(this, dim, index);
    public Tensor slice(long dim, long? start, long? end, long step = 1) => Ops.slice.Call(this, dim, start, end, step);
    public Tensor[] chunk(long chunks, long dim = 0) => Ops.chunk.CallMany(this, chunks, dim);
    public Tensor[] split(long split_size, long dim = 0) => Ops.split.CallMany(this, split_size, dim);
    public Tensor[] split(long[] split_sizes, long dim = 0) => Ops.split_sizes.CallMany(this, split_sizes, dim);
    public Tensor[] unbind(long dim = 0) => Ops.unbind.CallMany(this, dim);
    public Tensor flip(params long[] dims) => Ops.flip.Call(this, dims);
    public Tensor roll(long shift, long dim) => Ops.roll.Call(this, new[] { shift }, new[] { dim });

    // ---- indexing ------------------------------------------------------------------------
    public Tensor index_select(long dim, Tensor index) => Ops.index_select.Call(this, dim, index);
    public Tensor gather(long dim, Tensor index) => Ops.gather.Call(this, dim, index);
    public Tensor scatter(long dim, Tensor index, Tensor src) => Ops.scatter.Call(this, dim, index, src);
    public Tensor scatter(long dim, Tensor index, double value) => Ops.scatter_value.Call(this, dim, index, value);
    public Tensor scatter_add(long dim, Tensor index, Tensor src) => Ops.scatter_add.Call(this, dim, index, src);
    public Tensor masked_select(Tensor mask) => Ops.masked_select.Call(this, mask);
    public Tensor nonzero() => Ops.nonzero.Call(this);

    // ---- linear algebra ------------------------------------------------------------------
    public Tensor matmul(Tensor other) => Ops.matmul.Call(this, other);
    public Tensor mm(Tensor other) => Ops.mm.Call(this, other);
    public Tensor bmm(Tensor other) => Ops.bmm.Call(this, other);

    // ---- conversion ----------------------------------------------------------------------
    public Tensor to(DType dtype) => Ops.to_options.Call(this, dtype);
    public Tensor to(Device device) => Ops.to_options.Call(this, Arg.Default, Arg.Default, device);
    public Tensor to(Device device, DType dtype) => Ops.to_options.Call(this, dtype, Arg.Default, device);
    public Tensor to_type_of(Tensor other) => Ops.to_other.Call(this, other);
    public Tensor @float() => to(DType.Float32);
    public Tensor @double() => to(DType.Float64);
    public Tensor @long() => to(DType.Int64);
    public Tensor @bool() => to(DType.Bool);
    public Tensor cpu() => to(Device.CPU);
    public Tensor cuda(int index = 0) => to(new Device(DeviceType.CUDA, index));

    // ---- in place (optimizers, initialisers); return this ---------------------------------
    public Tensor add_(Tensor other, double alpha = 1) { Ops.add_.CallVoid(this, other, alpha); return this; }
    public Tensor add_(double other) { Ops.add_scalar_.CallVoid(this, other); return this; }
    public Tensor add_(long other) { Ops.add_scalar_.CallVoid(this, other); return this; }
    public Tensor sub_(Tensor other, double alpha = 1) { Ops.sub_.CallVoid(this, other, alpha); return this; }
    public Tensor mul_(Tensor other) { Ops.mul_.CallVoid(this, other); return this; }
    public Tensor mul_(double other) { Ops.mul_scalar_.CallVoid(this, other); return this; }
    public Tensor div_(Tensor other) { Ops.div_.CallVoid(this, other); return this; }
    public Tensor div_(double other) { Ops.div_scalar_.CallVoid(this, other); return this; }
    public Tensor addcmul_(Tensor t1, Tensor t2, double value = 1) { Ops.addcmul_.CallVoid(this, t1, t2, value); return this; }
    public Tensor addcdiv_(Tensor t1, Tensor t2, double value = 1) { Ops.addcdiv_.CallVoid(this, t1, t2, value); return this; }
    public Tensor lerp_(Tensor end, double weight) { Ops.lerp_.CallVoid(this, end, weight); return this; }
    public Tensor sqrt_() { Ops.sqrt_.CallVoid(this); return this; }
    public Tensor neg_() { Ops.neg_.CallVoid(this); return this; }
    public Tensor reciprocal_() { Ops.reciprocal_.CallVoid(this); return this; }
    /// <summary>Sets the main diagonal of a matrix to value (wrap: continue below it on tall matrices, as NumPy).</summary>
    public Tensor fill_diagonal_(double value, bool wrap = false) { Ops.fill_diagonal_.CallVoid(this, value, wrap); return this; }
    public Tensor clamp_(double? min = null, double? max = null) { Ops.clamp_.CallVoid(this, min, max); return this; }
    public Tensor copy_(Tensor src) { Ops.copy_.CallVoid(this, src); return this; }
    public Tensor fill_(double value) { Ops.fill_.CallVoid(this, value); return this; }
    public Tensor zero_() { Ops.zero_.CallVoid(this); return this; }
    public Tensor masked_fill_(Tensor mask, double value) { Ops.masked_fill_.CallVoid(this, mask, value); return this; }
    public Tensor uniform_(double from = 0, double to = 1, Generator? generator = null) { Ops.uniform_.CallVoid(this, from, to, generator); return this; }
    public Tensor normal_(double mean = 0, double std = 1, Generator? generator = null) { Ops.normal_.CallVoid(this, mean, std, generator); return this; }
    public Tensor bernoulli_(double p, Generator? generator = null) { Ops.bernoulli_.CallVoid(this, p, generator); return this; }
    public Tensor bernoulli(Generator? generator = null) => Ops.bernoulli.Call(this, generator);
}

/// <summary>The ATen operators the binding uses, resolved lazily by name and overload.</summary>
internal static class Ops
{
    internal static readonly Op add = new("aten::add", "Tensor"), add_scalar = new("aten::add", "Scalar");
    internal static readonly Op sub = new("aten::sub", "Tensor"), sub_scalar = new("aten::sub", "Scalar"), rsub_scalar = new("aten::rsub", "Scalar");
    internal static readonly Op mul = new("aten::mul", "Tensor"), mul_scalar = new("aten::mul", "Scalar");
    internal static readonly Op div = new("aten::div", "Tensor"), div_scalar = new("aten::div", "Scalar");
    internal static readonly Op add_ = new("aten::add_", "Tensor"), add_scalar_ = new("aten::add_", "Scalar"), sub_ = new("aten::sub_", "Tensor");
    internal static readonly Op mul_ = new("aten::mul_", "Tensor"), mul_scalar_ = new("aten::mul_", "Scalar");
    internal static readonly Op div_ = new("aten::div_", "Tensor"), div_scalar_ = new("aten::div_", "Scalar");
    internal static readonly Op addcmul_ = new("aten::addcmul_"), addcdiv_ = new("aten::addcdiv_");
    internal static readonly Op lerp = new("aten::lerp", "Scalar"), lerp_ = new("aten::lerp_", "Scalar");
    internal static readonly Op pow = new("aten::pow", "Tensor_Scalar"), pow_tensor = new("aten::pow", "Tensor_Tensor");
    internal static readonly Op maximum = new("aten::maximum"), minimum = new("aten::minimum");
    internal static readonly Op neg = new("aten::neg"), reciprocal = new("aten::reciprocal"), abs = new("aten::abs");
    internal static readonly Op exp = new("aten::exp"), log = new("aten::log"), log1p = new("aten::log1p");
    internal static readonly Op sqrt = new("aten::sqrt"), sqrt_ = new("aten::sqrt_"), rsqrt = new("aten::rsqrt"), square = new("aten::square");
    internal static readonly Op neg_ = new("aten::neg_"), reciprocal_ = new("aten::reciprocal_"), fill_diagonal_ = new("aten::fill_diagonal_");
    internal static readonly Op sign = new("aten::sign"), floor = new("aten::floor"), ceil = new("aten::ceil"), round = new("aten::round");
    internal static readonly Op sin = new("aten::sin"), cos = new("aten::cos");
    internal static readonly Op sigmoid = new("aten::sigmoid"), tanh = new("aten::tanh"), relu = new("aten::relu");
    internal static readonly Op softmax = new("aten::softmax", "int"), log_softmax = new("aten::log_softmax", "int");
    internal static readonly Op clamp = new("aten::clamp"), clamp_ = new("aten::clamp_");
    internal static readonly Op isnan = new("aten::isnan"), isfinite = new("aten::isfinite");
    internal static readonly Op masked_fill = new("aten::masked_fill", "Scalar"), masked_fill_ = new("aten::masked_fill_", "Scalar");
    internal static readonly Op gt = new("aten::gt", "Tensor"), lt = new("aten::lt", "Tensor"), ge = new("aten::ge", "Tensor"), le = new("aten::le", "Tensor");
    internal static readonly Op gt_scalar = new("aten::gt", "Scalar"), lt_scalar = new("aten::lt", "Scalar"), ge_scalar = new("aten::ge", "Scalar"), le_scalar = new("aten::le", "Scalar");
    internal static readonly Op eq = new("aten::eq", "Tensor"), eq_scalar = new("aten::eq", "Scalar"), ne = new("aten::ne", "Tensor"), ne_scalar = new("aten::ne", "Scalar");
    internal static readonly Op logical_and = new("aten::logical_and"), logical_or = new("aten::logical_or"), logical_not = new("aten::logical_not");
    internal static readonly Op allclose = new("aten::allclose"), equal = new("aten::equal");

    internal static readonly Op sum = new("aten::sum"), sum_dim = new("aten::sum", "dim_IntList");
    internal static readonly Op mean = new("aten::mean"), mean_dim = new("aten::mean", "dim"), prod = new("aten::prod");
    internal static readonly Op max = new("aten::max"), min = new("aten::min"), max_dim = new("aten::max", "dim"), min_dim = new("aten::min", "dim");
    internal static readonly Op argmax = new("aten::argmax"), argmin = new("aten::argmin");
    internal static readonly Op std = new("aten::std"), std_dim = new("aten::std", "dim"), var = new("aten::var"), var_dim = new("aten::var", "dim");
    internal static readonly Op logsumexp = new("aten::logsumexp"), cumsum = new("aten::cumsum");
    internal static readonly Op norm = new("aten::norm", "Scalar"), norm_dim = new("aten::norm", "ScalarOpt_dim");
    internal static readonly Op all = new("aten::all"), any = new("aten::any");
    internal static readonly Op sort = new("aten::sort"), argsort = new("aten::argsort"), topk = new("aten::topk");

    internal static readonly Op reshape = new("aten::reshape"), view = new("aten::view"), view_dtype = new("aten::view", "dtype"), permute = new("aten::permute");
    internal static readonly Op transpose = new("aten::transpose", "int"), t = new("aten::t"), numpy_T = new("aten::numpy_T");
    internal static readonly Op flatten = new("aten::flatten", "using_ints"), unsqueeze = new("aten::unsqueeze");
    internal static readonly Op squeeze = new("aten::squeeze"), squeeze_dim = new("aten::squeeze", "dim");
    internal static readonly Op expand = new("aten::expand"), expand_as = new("aten::expand_as"), repeat = new("aten::repeat");
    internal static readonly Op contiguous = new("aten::contiguous"), clone = new("aten::clone"), detach = new("aten::detach"), detach_ = new("aten::detach_");
    internal static readonly Op narrow = new("aten::narrow"), select = new("aten::select", "int"), slice = new("aten::slice", "Tensor");
    internal static readonly Op chunk = new("aten::chunk"), split = new("aten::split", "Tensor"), split_sizes = new("aten::split_with_sizes"), unbind = new("aten::unbind", "int");
    internal static readonly Op flip = new("aten::flip"), roll = new("aten::roll");
    internal static readonly Op cat = new("aten::cat"), stack = new("aten::stack");

    internal static readonly Op index = new("aten::index", "Tensor"), index_put_ = new("aten::index_put_");
    internal static readonly Op index_select = new("aten::index_select"), gather = new("aten::gather");
    internal static readonly Op scatter = new("aten::scatter", "src"), scatter_value = new("aten::scatter", "value"), scatter_add = new("aten::scatter_add");
    internal static readonly Op masked_select = new("aten::masked_select"), nonzero = new("aten::nonzero");
    internal static readonly Op where = new("aten::where", "self"), where_scalar_other = new("aten::where", "ScalarOther");

    internal static readonly Op matmul = new("aten::matmul"), mm = new("aten::mm"), bmm = new("aten::bmm");

    internal static readonly Op to_options = new("aten::to", "dtype_layout"), to_other = new("aten::to", "other");
    internal static readonly Op copy_ = new("aten::copy_"), fill_ = new("aten::fill_", "Scalar"), zero_ = new("aten::zero_");
    internal static readonly Op uniform_ = new("aten::uniform_"), normal_ = new("aten::normal_"), bernoulli_ = new("aten::bernoulli_", "float"), bernoulli = new("aten::bernoulli");
}

// MedSsl.Native: the C ABI between the C# binding (MedSsl.Torch) and libtorch.
//
// Design: no per-op entry points. Every ATen operator is reached through the c10 dispatcher's
// boxed calling convention (msl_op_find + msl_op_call), the same path TorchScript uses, so
// autograd, CPU/CUDA dispatch and every op libtorch has are available without growing this
// file. What is left here is what the dispatcher cannot express: tensor handles and their
// data, autograd's engine entry points, grad mode, generators, threads and device facts.
//
// Every entry point catches every C++ exception into a per-thread last error and returns an
// error value (-1 or null); the C# side turns that into a TorchException. No logic lives here.

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/version.h>

#ifdef MSL_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime_api.h>
#endif

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#define MSL_API extern "C" __attribute__((visibility("default")))

namespace {

thread_local std::string last_error;
std::atomic<int64_t> live_tensors{0};

// Runs body; on any C++ exception records its message and returns on_error instead.
template <class R, class F>
R guarded(R on_error, F&& body) {
  try {
    return body();
  } catch (const c10::Error& e) {
    last_error = e.what_without_backtrace();
  } catch (const std::exception& e) {
    last_error = e.what();
  } catch (...) {
    last_error = "unknown C++ exception";
  }
  return on_error;
}

at::Tensor* box(at::Tensor t) {
  if (!t.defined()) return nullptr;
  live_tensors.fetch_add(1, std::memory_order_relaxed);
  return new at::Tensor(std::move(t));
}

char* copy_string(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

// One argument or result of a boxed call. Mirrors MedSsl.Torch's NativeArg (40 bytes).
struct msl_arg {
  int32_t kind;
  int32_t reserved;
  int64_t i;   // int, bool, device type
  double d;    // float
  void* p;     // tensor, list data, string, generator
  int64_t n;   // list length, device index
};

enum ArgKind : int32_t {
  kDefault = 0,      // use the schema's default value
  kNone = 1,
  kTensor = 2,
  kInt = 3,
  kDouble = 4,
  kBool = 5,
  kInts = 6,
  kTensors = 7,
  kOptionalTensors = 8,  // Tensor?[] (indexing); null pointers are None
  kString = 9,
  kDevice = 10,
  kGenerator = 11,
  kDoubles = 12,
};

c10::TypePtr without_optional(const c10::TypePtr& t) {
  if (t->kind() == c10::TypeKind::OptionalType) return t->castRaw<c10::OptionalType>()->getElementType();
  return t;
}

// Converts one argument, using the formal's type where C# cannot know it: a single int
// for `int[2] stride` is repeated N times (as TorchScript does), an int for a float
// parameter becomes a double.
c10::IValue to_ivalue(const msl_arg& a, const c10::Argument& formal) {
  switch (a.kind) {
    case kNone: return c10::IValue();
    case kTensor: return c10::IValue(*static_cast<const at::Tensor*>(a.p));
    case kInt: {
      auto type = without_optional(formal.type());
      if (type->kind() == c10::TypeKind::ListType) {
        c10::List<int64_t> list;
        const int64_t count = formal.N() ? *formal.N() : 1;
        for (int64_t k = 0; k < count; ++k) list.push_back(a.i);
        return c10::IValue(list);
      }
      if (type->kind() == c10::TypeKind::FloatType) return c10::IValue(static_cast<double>(a.i));
      return c10::IValue(a.i);
    }
    case kDouble: return c10::IValue(a.d);
    case kBool: return c10::IValue(a.i != 0);
    case kInts: {
      const auto* v = static_cast<const int64_t*>(a.p);
      c10::List<int64_t> list;
      list.reserve(a.n);
      for (int64_t k = 0; k < a.n; ++k) list.push_back(v[k]);
      return c10::IValue(list);
    }
    case kDoubles: {
      const auto* v = static_cast<const double*>(a.p);
      c10::List<double> list;
      list.reserve(a.n);
      for (int64_t k = 0; k < a.n; ++k) list.push_back(v[k]);
      return c10::IValue(list);
    }
    case kTensors: {
      auto* const* v = static_cast<at::Tensor* const*>(a.p);
      c10::List<at::Tensor> list;
      list.reserve(a.n);
      for (int64_t k = 0; k < a.n; ++k) list.push_back(*v[k]);
      return c10::IValue(list);
    }
    case kOptionalTensors: {
      auto* const* v = static_cast<at::Tensor* const*>(a.p);
      c10::List<c10::optional<at::Tensor>> list;
      list.reserve(a.n);
      for (int64_t k = 0; k < a.n; ++k)
        list.push_back(v[k] ? c10::optional<at::Tensor>(*v[k]) : c10::nullopt);
      return c10::IValue(list);
    }
    case kString: return c10::IValue(std::string(static_cast<const char*>(a.p)));
    case kDevice:
      return c10::IValue(c10::Device(static_cast<c10::DeviceType>(a.i), static_cast<c10::DeviceIndex>(a.n)));
    case kGenerator: return c10::IValue(*static_cast<const at::Generator*>(a.p));
    default: throw std::invalid_argument("argument '" + formal.name() + "': unknown kind " + std::to_string(a.kind));
  }
}

void to_result(const c10::IValue& v, msl_arg& out) {
  out = msl_arg{};
  if (v.isNone()) {
    out.kind = kNone;
  } else if (v.isTensor()) {
    at::Tensor* t = box(v.toTensor());
    out.kind = t ? kTensor : kNone;
    out.p = t;
  } else if (v.isTensorList()) {
    auto list = v.toTensorVector();
    auto** arr = static_cast<at::Tensor**>(std::malloc(sizeof(at::Tensor*) * std::max<size_t>(list.size(), 1)));
    for (size_t k = 0; k < list.size(); ++k) arr[k] = box(list[k]);
    out.kind = kTensors;
    out.p = arr;
    out.n = static_cast<int64_t>(list.size());
  } else if (v.isInt()) {
    out.kind = kInt;
    out.i = v.toInt();
  } else if (v.isDouble()) {
    out.kind = kDouble;
    out.d = v.toDouble();
  } else if (v.isBool()) {
    out.kind = kBool;
    out.i = v.toBool();
  } else if (v.isIntList()) {
    auto list = v.toIntVector();
    auto* arr = static_cast<int64_t*>(std::malloc(sizeof(int64_t) * std::max<size_t>(list.size(), 1)));
    std::copy(list.begin(), list.end(), arr);
    out.kind = kInts;
    out.p = arr;
    out.n = static_cast<int64_t>(list.size());
  } else {
    throw std::invalid_argument("unsupported result type " + v.tagKind());
  }
}

std::vector<at::Tensor> unbox_list(at::Tensor** v, int n) {
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (int k = 0; k < n; ++k) out.push_back(v[k] ? *v[k] : at::Tensor());
  return out;
}

}  // namespace

// ---- errors and memory -------------------------------------------------------------------

MSL_API const char* msl_last_error() { return last_error.c_str(); }
MSL_API void msl_free(void* p) { std::free(p); }
MSL_API int64_t msl_live_tensors() { return live_tensors.load(); }

// ---- operators through the dispatcher -----------------------------------------------------

MSL_API void* msl_op_find(const char* name, const char* overload) {
  return guarded<void*>(nullptr, [&]() -> void* {
    auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
    if (!handle) throw std::invalid_argument(std::string("libtorch has no operator ") + name +
                                             (overload[0] ? std::string(".") + overload : std::string()));
    return new c10::OperatorHandle(*handle);
  });
}

MSL_API char* msl_op_schema(void* op) {
  return guarded<char*>(nullptr, [&]() -> char* {
    std::ostringstream s;
    s << static_cast<c10::OperatorHandle*>(op)->schema();
    return copy_string(s.str());
  });
}

// Calls op with nargs arguments (the rest take the schema's defaults); writes up to
// max_results results and returns their count, or -1 on error.
MSL_API int msl_op_call(void* op, const msl_arg* args, int nargs, msl_arg* results, int max_results) {
  return guarded<int>(-1, [&]() -> int {
    const auto& handle = *static_cast<c10::OperatorHandle*>(op);
    const auto& schema = handle.schema();
    const auto& formals = schema.arguments();
    if (static_cast<size_t>(nargs) > formals.size())
      throw std::invalid_argument(schema.name() + " takes " + std::to_string(formals.size()) + " arguments, got " +
                                  std::to_string(nargs));
    thread_local std::vector<c10::IValue> stack;
    stack.clear();
    for (size_t k = 0; k < formals.size(); ++k) {
      if (k < static_cast<size_t>(nargs) && args[k].kind != kDefault) {
        stack.push_back(to_ivalue(args[k], formals[k]));
      } else if (formals[k].default_value()) {
        stack.push_back(*formals[k].default_value());
      } else {
        throw std::invalid_argument(schema.name() + ": missing argument '" + formals[k].name() + "'");
      }
    }
    handle.callBoxed(&stack);
    const int count = static_cast<int>(stack.size());
    if (count > max_results) {
      stack.clear();
      throw std::invalid_argument(schema.name() + " returned " + std::to_string(count) + " values, room for " +
                                  std::to_string(max_results));
    }
    for (int k = 0; k < count; ++k) to_result(stack[k], results[k]);
    stack.clear();
    return count;
  });
}

// ---- tensor handles and data --------------------------------------------------------------

MSL_API void msl_tensor_free(at::Tensor* t) {
  if (!t) return;
  live_tensors.fetch_sub(1, std::memory_order_relaxed);
  delete t;
}

// A new handle to the same tensor (shares storage and autograd identity).
MSL_API at::Tensor* msl_tensor_alias(at::Tensor* t) {
  return guarded<at::Tensor*>(nullptr, [&] { return box(*t); });
}

// Copies nbytes from data into a new CPU tensor of the given shape and dtype.
MSL_API at::Tensor* msl_tensor_from_data(const void* data, const int64_t* sizes, int ndim, int dtype) {
  return guarded<at::Tensor*>(nullptr, [&] {
    auto t = at::empty(at::IntArrayRef(sizes, ndim), at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype)));
    if (t.nbytes() > 0) std::memcpy(t.data_ptr(), data, t.nbytes());
    return box(t);
  });
}

// Copies the tensor's values (moved to CPU, made contiguous) into dst of exactly nbytes.
MSL_API int msl_tensor_copy_to(at::Tensor* t, void* dst, int64_t nbytes) {
  return guarded<int>(-1, [&] {
    auto c = t->detach().to(at::kCPU).contiguous();
    if (static_cast<int64_t>(c.nbytes()) != nbytes)
      throw std::invalid_argument("copy_to: tensor has " + std::to_string(c.nbytes()) + " bytes, buffer " +
                                  std::to_string(nbytes));
    if (nbytes > 0) std::memcpy(dst, c.data_ptr(), nbytes);
    return 0;
  });
}

MSL_API int msl_tensor_ndim(at::Tensor* t) { return static_cast<int>(t->dim()); }
MSL_API int msl_tensor_sizes(at::Tensor* t, int64_t* out, int max) {
  const auto sizes = t->sizes();
  const int n = static_cast<int>(sizes.size());
  for (int k = 0; k < n && k < max; ++k) out[k] = sizes[k];
  return n;
}
MSL_API int msl_tensor_dtype(at::Tensor* t) { return static_cast<int>(t->scalar_type()); }
MSL_API int msl_tensor_device_type(at::Tensor* t) { return static_cast<int>(t->device().type()); }
MSL_API int msl_tensor_device_index(at::Tensor* t) { return t->device().index(); }
MSL_API int64_t msl_tensor_numel(at::Tensor* t) { return t->numel(); }
MSL_API int msl_tensor_is_leaf(at::Tensor* t) { return t->is_leaf() ? 1 : 0; }
MSL_API int msl_tensor_requires_grad(at::Tensor* t) { return t->requires_grad() ? 1 : 0; }

MSL_API int msl_tensor_set_requires_grad(at::Tensor* t, int value) {
  return guarded<int>(-1, [&] {
    t->set_requires_grad(value != 0);
    return 0;
  });
}

// Writes the accumulated gradient (or null when there is none) to *out.
MSL_API int msl_tensor_grad(at::Tensor* t, at::Tensor** out) {
  return guarded<int>(-1, [&] {
    *out = box(t->grad());
    return 0;
  });
}

// Replaces the accumulated gradient; null clears it (zero_grad with set_to_none).
MSL_API int msl_tensor_set_grad(at::Tensor* t, at::Tensor* grad) {
  return guarded<int>(-1, [&] {
    t->mutable_grad() = grad ? *grad : at::Tensor();
    return 0;
  });
}

MSL_API double msl_tensor_item(at::Tensor* t, int* ok) {
  return guarded<double>(0.0, [&] {
    double v = t->item<double>();
    *ok = 1;
    return v;
  });
}

MSL_API char* msl_tensor_repr(at::Tensor* t) {
  return guarded<char*>(nullptr, [&] {
    std::ostringstream s;
    s << *t;
    return copy_string(s.str());
  });
}

// ---- autograd ----------------------------------------------------------------------------

// retain_graph: -1 = default (same as create_graph), 0 or 1.
MSL_API int msl_backward(at::Tensor** tensors, int n, at::Tensor** grads, int retain_graph, int create_graph) {
  return guarded<int>(-1, [&] {
    std::vector<at::Tensor> grad_tensors = grads ? unbox_list(grads, n) : std::vector<at::Tensor>{};
    c10::optional<bool> retain = retain_graph < 0 ? c10::nullopt : c10::optional<bool>(retain_graph != 0);
    torch::autograd::backward(unbox_list(tensors, n), grad_tensors, retain, create_graph != 0);
    return 0;
  });
}

// Gradients of outputs w.r.t. inputs (torch.autograd.grad); results[k] is null for an
// unused input when allow_unused is set.
MSL_API int msl_autograd_grad(at::Tensor** outputs, int n_out, at::Tensor** inputs, int n_in,
                              at::Tensor** grad_outputs, int retain_graph, int create_graph, int allow_unused,
                              at::Tensor** results) {
  return guarded<int>(-1, [&] {
    std::vector<at::Tensor> go = grad_outputs ? unbox_list(grad_outputs, n_out) : std::vector<at::Tensor>{};
    c10::optional<bool> retain = retain_graph < 0 ? c10::nullopt : c10::optional<bool>(retain_graph != 0);
    auto grads = torch::autograd::grad(unbox_list(outputs, n_out), unbox_list(inputs, n_in), go, retain,
                                       create_graph != 0, allow_unused != 0);
    for (int k = 0; k < n_in; ++k) results[k] = box(grads[k]);
    return 0;
  });
}

MSL_API int msl_grad_enabled() { return c10::GradMode::is_enabled() ? 1 : 0; }
MSL_API void msl_set_grad_enabled(int enabled) { c10::GradMode::set_enabled(enabled != 0); }

// ---- random generators -------------------------------------------------------------------

MSL_API int msl_manual_seed(uint64_t seed) {
  return guarded<int>(-1, [&] {
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
    const auto& cuda = at::detail::getCUDAHooks();
    for (int k = 0; k < static_cast<int>(cuda.getNumGPUs()); ++k) {
      auto gen = cuda.getDefaultCUDAGenerator(k);
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
    return 0;
  });
}

MSL_API at::Generator* msl_generator_new(uint64_t seed, int device_type) {
  return guarded<at::Generator*>(nullptr, [&] {
    if (static_cast<c10::DeviceType>(device_type) == c10::DeviceType::CPU)
      return new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed));
    // CUDA generators are cloned from the device's default and reseeded.
    auto gen = at::detail::getCUDAHooks().getDefaultCUDAGenerator(0).clone();
    gen.set_current_seed(seed);
    return new at::Generator(gen);
  });
}
MSL_API void msl_generator_free(at::Generator* g) { delete g; }
MSL_API int msl_generator_set_seed(at::Generator* g, uint64_t seed) {
  return guarded<int>(-1, [&] {
    std::lock_guard<std::mutex> lock(g->mutex());
    g->set_current_seed(seed);
    return 0;
  });
}

// ---- runtime facts -----------------------------------------------------------------------

MSL_API void msl_set_num_threads(int n) { at::set_num_threads(n); }
MSL_API int msl_get_num_threads() { return at::get_num_threads(); }
MSL_API const char* msl_torch_version() { return TORCH_VERSION; }
MSL_API char* msl_show_config() {
  return guarded<char*>(nullptr, [&] { return copy_string(at::show_config()); });
}

MSL_API int msl_cuda_device_count() {
  return guarded<int>(0, [&] { return static_cast<int>(at::detail::getCUDAHooks().getNumGPUs()); });
}

MSL_API char* msl_cuda_device_name(int index) {
  return guarded<char*>(nullptr, [&]() -> char* {
#ifdef MSL_WITH_CUDA
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, index) != cudaSuccess)
      throw std::runtime_error("cudaGetDeviceProperties failed for device " + std::to_string(index));
    return copy_string(prop.name);
#else
    throw std::runtime_error("this libtorch was built without CUDA");
#endif
  });
}

MSL_API int msl_cuda_synchronize() {
  return guarded<int>(-1, [&] {
#ifdef MSL_WITH_CUDA
    c10::cuda::device_synchronize();
#endif
    return 0;
  });
}

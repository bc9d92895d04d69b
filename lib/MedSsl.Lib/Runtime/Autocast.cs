using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Runtime;

/// <summary>libtorch's CPU autocast (PyTorch's <c>torch.autocast("cpu", dtype=torch.bfloat16)</c>), which TorchSharp
/// 0.107 does not expose: inside a scope, convolutions, matrix products and linear layers run in bfloat16 and the
/// precision-sensitive operators (losses, softmax, reductions) in float32; parameters, gradients and optimizer state stay
/// float32. Worth it only on CPUs with bfloat16 arithmetic (AVX512-BF16, AMX). Off by default: it changes results
/// (bfloat16 keeps 8 bits of mantissa). <c>Autocast.TrainingBf16 = true</c> (in a notebook's first cell, or
/// <c>medssl bench step --bf16</c>) turns it on for every forward pass that <see cref="Training.OptimizerSteps.Minimize"/>
/// runs in this process; docs/benchmarks.md has what it saves and what it changes.</summary>
public static unsafe class Autocast
{
    /// <summary>Whether training forward passes run under bfloat16 autocast (off unless set: it changes results).</summary>
    public static bool TrainingBf16 { get; set; }

    /// <summary>A scope in which the current thread autocasts CPU operators to bfloat16 (nested scopes are fine); its end
    /// restores the previous state and, at the outermost scope, drops the cached bfloat16 copies of the weights, so
    /// the next step casts the updated weights afresh (as PyTorch's <c>autocast.__exit__</c>).</summary>
    public static IDisposable CpuBf16() => new Scope();

    private sealed class Scope : IDisposable
    {
        private readonly bool previous;
        private bool disposed;

        public Scope()
        {
            previous = Native.IsEnabled(CpuDevice) != 0;
            Native.SetDtype(CpuDevice, (sbyte)ScalarType.BFloat16);
            Native.SetEnabled(CpuDevice, 1);
            Native.IncrementNesting();
        }

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            if (Native.DecrementNesting() == 0) Native.ClearCache();
            Native.SetEnabled(CpuDevice, previous ? (byte)1 : (byte)0);
        }
    }

    private const sbyte CpuDevice = 0;   // c10::DeviceType::CPU

    // at::autocast's C++ functions, exported by libtorch_cpu.so (libtorch 2.10); enums are int8, bool one byte.
    private static class Native
    {
        private static readonly nint Library = NativeLibrary.Load(Path.Combine(Path.GetDirectoryName(TorchRuntime.LibTorchSharpPath)!, "libtorch_cpu.so"));
        private static nint Export(string name) => NativeLibrary.GetExport(Library, name);

        private static readonly delegate* unmanaged<sbyte, byte, void> setEnabled = (delegate* unmanaged<sbyte, byte, void>)Export("_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb");
        private static readonly delegate* unmanaged<sbyte, byte> isEnabled = (delegate* unmanaged<sbyte, byte>)Export("_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE");
        private static readonly delegate* unmanaged<sbyte, sbyte, void> setDtype = (delegate* unmanaged<sbyte, sbyte, void>)Export("_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE");
        private static readonly delegate* unmanaged<int> increment = (delegate* unmanaged<int>)Export("_ZN2at8autocast17increment_nestingEv");
        private static readonly delegate* unmanaged<int> decrement = (delegate* unmanaged<int>)Export("_ZN2at8autocast17decrement_nestingEv");
        private static readonly delegate* unmanaged<void> clearCache = (delegate* unmanaged<void>)Export("_ZN2at8autocast11clear_cacheEv");

        public static void SetEnabled(sbyte device, byte on) => setEnabled(device, on);
        public static byte IsEnabled(sbyte device) => isEnabled(device);
        public static void SetDtype(sbyte device, sbyte dtype) => setDtype(device, dtype);
        public static int IncrementNesting() => increment();
        public static int DecrementNesting() => decrement();
        public static void ClearCache() => clearCache();
    }
}

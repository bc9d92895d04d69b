using System.Runtime.InteropServices;

namespace MedSsl.Torch;

/// <summary>A random number generator of its own (torch.Generator): random ops given one draw from
/// it instead of the global generator, so one component's randomness does not shift another's.</summary>
public sealed class Generator : IDisposable
{
    private sealed class GeneratorHandle : SafeHandle
    {
        public GeneratorHandle(IntPtr p) : base(IntPtr.Zero, true) => SetHandle(p);
        public override bool IsInvalid => handle == IntPtr.Zero;
        protected override bool ReleaseHandle() { Native.msl_generator_free(handle); return true; }
    }

    private readonly GeneratorHandle handle;

    public Generator(ulong seed, Device? device = null) =>
        handle = new GeneratorHandle(Native.Check(Native.msl_generator_new(seed, (int)(device ?? Device.CPU).Type)));

    internal IntPtr Handle => handle.IsClosed ? throw new ObjectDisposedException(nameof(Generator)) : handle.DangerousGetHandle();

    public void ManualSeed(ulong seed) => Native.Check(Native.msl_generator_set_seed(Handle, seed));

    public void Dispose() => handle.Dispose();
}

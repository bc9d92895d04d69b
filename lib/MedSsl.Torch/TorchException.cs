using System.Runtime.InteropServices;

namespace MedSsl.Torch;

/// <summary>An error raised by libtorch (shape, dtype, device, autograd...), with libtorch's own message.</summary>
public sealed class TorchException : Exception
{
    public TorchException(string message) : base(message) { }

    internal static TorchException FromNative()
    {
        var message = Marshal.PtrToStringUTF8(Native.msl_last_error());
        return new TorchException(string.IsNullOrEmpty(message) ? "libtorch call failed without a message" : message.Trim());
    }
}

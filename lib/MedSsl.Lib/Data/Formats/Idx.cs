using System.Buffers.Binary;
using System.IO.Compression;

namespace MedSsl.Data.Formats;

/// <summary>An IDX array (LeCun's MNIST format): its dimensions, type code and raw big-endian element bytes
/// (kept raw so 70 000 MNIST images stay 55 MB, not eight times that as doubles).</summary>
public sealed record IdxArray(int[] Shape, byte TypeCode, byte[] Raw)
{
    public long Count => Shape.Aggregate(1L, (a, s) => a * s);

    /// <summary>Element <paramref name="index"/> (flat, last dimension fastest) as a double.</summary>
    public double this[long index]
    {
        get
        {
            var size = Idx.ElementSize(TypeCode)!.Value;
            var at = Raw.AsSpan((int)(index * size), size);
            return TypeCode switch
            {
                0x08 => at[0],
                0x09 => (sbyte)at[0],
                0x0B => BinaryPrimitives.ReadInt16BigEndian(at),
                0x0C => BinaryPrimitives.ReadInt32BigEndian(at),
                0x0D => BinaryPrimitives.ReadSingleBigEndian(at),
                _ => BinaryPrimitives.ReadDoubleBigEndian(at),
            };
        }
    }
}

/// <summary>IDX files, raw or gzipped: magic 0x00 0x00, a type code (0x08 ubyte, 0x09 sbyte, 0x0B int16,
/// 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions, each dimension as a big-endian int32,
/// then the values big-endian, last dimension fastest.</summary>
public static class Idx
{
    /// <summary>Largest element count accepted (2^28): a header claiming more is refused before any allocation.</summary>
    public const long MaxElements = 1L << 28;

    /// <summary>Largest value data accepted (2^30 bytes: 2^28 float32, 2^27 float64), whatever the element count.</summary>
    public const long MaxBytes = 1L << 30;

    /// <summary>Reads an IDX file, charging its bytes to <paramref name="budget"/> (a fresh <see cref="LoadBudget"/>
    /// when none is given) before allocating them.</summary>
    public static IdxArray Read(string path, LoadBudget? budget = null)
    {
        budget ??= new LoadBudget();
        using var stream = CompressedFile.Open(path);
        var head = CompressedFile.ReadExactly(stream, 4, path, "the IDX magic number");
        if (head[0] != 0 || head[1] != 0) throw new DataFormatException(path, "not an IDX file (magic does not start with two zero bytes)");
        var type = head[2];
        var size = ElementSize(type) ?? throw new DataFormatException(path, $"unknown IDX type code 0x{type:X2}");
        var rank = head[3];
        if (rank == 0) throw new DataFormatException(path, "corrupt: IDX array with 0 dimensions");
        var dimBytes = CompressedFile.ReadExactly(stream, 4L * rank, path, "the IDX dimensions");
        var shape = new int[rank];
        long count = 1;
        for (var d = 0; d < rank; d++)
        {
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(dimBytes.AsSpan(4 * d));
            if (shape[d] < 0) throw new DataFormatException(path, $"corrupt: dimension {d} is {shape[d]}");
            count *= shape[d];
            if (count > MaxElements)
                throw new DataFormatException(path, $"header declares [{string.Join(", ", shape.Take(d + 1))}…] elements, beyond the bound of {MaxElements}");
        }
        var what = $"[{string.Join(", ", shape)}] values";
        if (count * size > MaxBytes)
            throw new DataFormatException(path, $"header declares {what} of {size} bytes each = {count * size} bytes, beyond the bound of {MaxBytes} bytes");
        budget.Charge(path, count * size, what);
        var raw = CompressedFile.ReadExactly(stream, count * size, path, what);
        CompressedFile.Finish(stream, path);
        return new IdxArray(shape, type, raw);
    }

    internal static int? ElementSize(byte type) => type switch
    {
        0x08 or 0x09 => 1,
        0x0B => 2,
        0x0C or 0x0D => 4,
        0x0E => 8,
        _ => null,
    };

    /// <summary>Writes unsigned bytes (type 0x08), gzipped when the path ends in <c>.gz</c>, through a temporary file.</summary>
    public static void WriteBytes(string path, int[] shape, ReadOnlySpan<byte> values)
    {
        var count = shape.Aggregate(1L, (a, s) => a * s);
        if (count != values.Length) throw new ArgumentException($"shape holds {count} values, {values.Length} given");
        var bytes = new byte[4 + 4 * shape.Length + values.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)shape.Length;
        for (var d = 0; d < shape.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), shape[d]);
        values.CopyTo(bytes.AsSpan(4 + 4 * shape.Length));
        AtomicFile.Write(path, stream =>
        {
            if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
            {
                using var gz = new GZipStream(stream, CompressionLevel.Optimal, leaveOpen: true);
                gz.Write(bytes);
            }
            else stream.Write(bytes);
        });
    }
}

using System.IO.Compression;

namespace MedSsl.Data.Formats;

/// <summary>Opens a file for reading, transparently gunzipping it when it starts with the gzip magic bytes, and
/// reads exact byte counts with a clear error when the file ends early.</summary>
internal static class CompressedFile
{
    public static Stream Open(string path)
    {
        FileStream file;
        try { file = File.OpenRead(path); }
        catch (FileNotFoundException) { throw new DataFormatException(path, "file not found"); }
        catch (DirectoryNotFoundException) { throw new DataFormatException(path, "file not found"); }
        var magic = new byte[2];
        var n = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes or throws naming what was being read.</summary>
    public static byte[] ReadExactly(Stream stream, long count, string path, string what)
    {
        var buffer = new byte[count];
        int read;
        try { read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false); }
        catch (InvalidDataException e) { throw new DataFormatException(path, $"corrupt gzip data while reading {what}", e); }
        if (read < count) throw new DataFormatException(path, $"truncated: {what} needs {count} bytes, the file holds {read}");
        return buffer;
    }

    /// <summary>Skips <paramref name="count"/> bytes in small reads (a corrupt header must not cause a large allocation).</summary>
    public static void Skip(Stream stream, long count, string path, string what)
    {
        var buffer = new byte[65536];
        while (count > 0)
        {
            var chunk = (int)Math.Min(count, buffer.Length);
            ReadInto(stream, buffer.AsSpan(0, chunk), path, what);
            count -= chunk;
        }
    }

    private static void ReadInto(Stream stream, Span<byte> buffer, string path, string what)
    {
        int read;
        try { read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false); }
        catch (InvalidDataException e) { throw new DataFormatException(path, $"corrupt gzip data while reading {what}", e); }
        if (read < buffer.Length) throw new DataFormatException(path, $"truncated: the file ends inside {what}");
    }
}

using System.Buffers.Binary;
using System.IO.Compression;

namespace MedSsl.Data.Formats;

/// <summary>Opens a file for reading, transparently gunzipping it when it starts with the gzip magic bytes, and
/// reads exact byte counts with a clear error when the file ends early. A gzipped file is only accepted once
/// <see cref="Finish"/> has read it to its end and checked gzip's CRC-32 and length against what was decompressed:
/// a reader that stopped at the size its header declares would otherwise accept corrupt data.</summary>
internal static class CompressedFile
{
    /// <summary>Decompressed bytes tolerated after what a header declares (padding some writers add).</summary>
    public const long MaxTrailingBytes = 1L << 20;

    public static Stream Open(string path)
    {
        var length = RegularFileLength(path);
        FileStream file;
        try { file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read); }
        catch (UnauthorizedAccessException e) { throw new DataFormatException(path, "permission denied", e); }
        catch (FileNotFoundException e) { throw new DataFormatException(path, "file not found", e); }
        var magic = new byte[2];
        var n = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new CheckedGzipStream(file, length) : file;
    }

    /// <summary>The size of <paramref name="path"/>, which must be a regular, non-empty file: FIFOs, sockets and
    /// devices (<c>/dev/zero</c>) are refused before they are opened (opening a FIFO blocks; a device never ends).</summary>
    public static long RegularFileLength(string path)
    {
        FileInfo info;
        try
        {
            info = new FileInfo(path);
            if (info.LinkTarget is not null) info = info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info; // a link's own size is its target's name
            if (!info.Exists) throw new DataFormatException(path, Directory.Exists(path) ? "is a folder, not a file" : "file not found");
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException or IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, $"not a usable file path ({e.Message})");
        }
        // .NET reports neither file type nor device nodes on Unix; a FIFO, socket or character device has size 0 in stat.
        if (info.Length == 0) throw new DataFormatException(path, "empty, or not a regular file (a FIFO, socket or device is not read)");
        return info.Length;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes or throws naming what was being read.</summary>
    public static byte[] ReadExactly(Stream stream, long count, string path, string what)
    {
        if (count > Array.MaxLength) throw new DataFormatException(path, $"{what} would need {count} bytes, more than one array holds");
        var buffer = new byte[count];
        ReadInto(stream, buffer, path, what, count);
        return buffer;
    }

    /// <summary>Skips <paramref name="count"/> bytes in small reads (a corrupt header must not cause a large allocation).</summary>
    public static void Skip(Stream stream, long count, string path, string what)
    {
        var buffer = new byte[65536];
        while (count > 0)
        {
            var chunk = (int)Math.Min(count, buffer.Length);
            ReadInto(stream, buffer.AsSpan(0, chunk), path, what, null);
            count -= chunk;
        }
    }

    /// <summary>Ends a read: for a gzipped file, decompresses the rest (at most <see cref="MaxTrailingBytes"/>) and
    /// checks the gzip trailer's CRC-32 and length against every byte decompressed. Plain files are not read further.</summary>
    public static void Finish(Stream stream, string path)
    {
        if (stream is not CheckedGzipStream gzip) return;
        var buffer = new byte[65536];
        long trailing = 0;
        while (true)
        {
            int n;
            try { n = gzip.Read(buffer); }
            catch (InvalidDataException e) { throw new DataFormatException(path, "corrupt gzip data after the declared content", e); }
            if (n == 0) break;
            trailing += n;
            if (trailing > MaxTrailingBytes)
                throw new DataFormatException(path, $"more than {MaxTrailingBytes} decompressed bytes follow the declared content: not this format, or a decompression bomb");
        }
        gzip.CheckTrailer(path);
    }

    private static void ReadInto(Stream stream, Span<byte> buffer, string path, string what, long? declared)
    {
        int read;
        try { read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false); }
        catch (InvalidDataException e) { throw new DataFormatException(path, $"corrupt gzip data while reading {what}", e); }
        if (read < buffer.Length)
            throw new DataFormatException(path, declared is { } count
                ? $"truncated: {what} needs {count} bytes, the file holds {read}"
                : $"truncated: the file ends inside {what}");
    }

    /// <summary>A GZipStream that keeps the CRC-32 and length of what it decompressed, to compare with the trailer
    /// (the last 8 bytes of the file: CRC-32 and length mod 2^32, little-endian; RFC 1952 §2.3). Files of several
    /// gzip members are checked against the last member's trailer only, so they are refused unless that matches.</summary>
    private sealed class CheckedGzipStream(FileStream file, long fileLength) : Stream
    {
        private readonly GZipStream inner = new(file, CompressionMode.Decompress);
        private uint crc;
        private long length;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            crc = Crc32.Compute(buffer[..n], crc);
            length += n;
            return n;
        }

        public void CheckTrailer(string path)
        {
            if (fileLength < 18) throw new DataFormatException(path, "truncated gzip file (no room for its header and trailer)");
            var trailer = new byte[8];
            file.Position = fileLength - 8;
            file.ReadExactly(trailer);
            var storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            var storedLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer.AsSpan(4));
            if (storedCrc != crc || storedLength != (uint)length)
                throw new DataFormatException(path, $"corrupt or truncated gzip data: the trailer's CRC-32 {storedCrc:x8} and length {storedLength} " +
                    $"do not match the {length} bytes decompressed (CRC-32 {crc:x8})");
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}

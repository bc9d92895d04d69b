using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace MedSsl.Data.Formats;

/// <summary>PNG reading and writing over System.IO.Compression (no imaging package is available here).
/// Reads gray, gray+alpha, RGB and RGBA at bit depth 8 or 16, non-interlaced, all five row filters, and checks
/// every chunk's CRC. Anything else is a <see cref="DataFormatException"/> naming the file.</summary>
public static class Png
{
    /// <summary>Largest width or height accepted: a header claiming more is treated as corrupt, not allocated.</summary>
    public const int MaxSide = 16384;

    /// <summary>Largest pixel count accepted (64 Mpx).</summary>
    public const long MaxPixels = 1L << 26;

    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>Reads a PNG file, charging its bytes and decoded samples to <paramref name="budget"/> (a fresh
    /// <see cref="LoadBudget"/> when none is given) before allocating them.</summary>
    public static PngImage Read(string path, LoadBudget? budget = null)
    {
        budget ??= new LoadBudget();
        var length = CompressedFile.RegularFileLength(path);
        if (length > 1L << 30) throw new DataFormatException(path, $"file of {length} bytes is too large for a PNG image here");
        budget.Charge(path, length, "the PNG file");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new DataFormatException(path, "file not found"); }
        catch (DirectoryNotFoundException) { throw new DataFormatException(path, "file not found"); }
        catch (UnauthorizedAccessException e) { throw new DataFormatException(path, "permission denied", e); }
        return Decode(bytes, path, budget);
    }

    /// <summary>Decodes PNG bytes; <paramref name="path"/> only names the source in errors.</summary>
    public static PngImage Decode(ReadOnlySpan<byte> bytes, string path = "<memory>") => Decode(bytes, path, new LoadBudget());

    private static PngImage Decode(ReadOnlySpan<byte> bytes, string path, LoadBudget budget)
    {
        if (bytes.Length < 8 || !bytes[..8].SequenceEqual(Signature))
            throw new DataFormatException(path, "not a PNG file (bad signature)");
        var pos = 8;
        int width = 0, height = 0, bitDepth = 0, colorType = -1;
        var idat = new MemoryStream();
        var sawEnd = false;
        while (!sawEnd)
        {
            if (bytes.Length - pos < 12) throw new DataFormatException(path, "truncated: file ends inside a chunk header");
            var length = BinaryPrimitives.ReadUInt32BigEndian(bytes[pos..]);
            var type = Encoding.ASCII.GetString(bytes.Slice(pos + 4, 4));
            if (length > (uint)(bytes.Length - pos - 12))
                throw new DataFormatException(path, $"truncated: chunk {type} declares {length} bytes, the file ends sooner");
            var body = bytes.Slice(pos + 8, (int)length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(bytes[(pos + 8 + (int)length)..]);
            if (Crc32.Compute(bytes.Slice(pos + 4, 4 + (int)length)) != crc)
                throw new DataFormatException(path, $"corrupt: CRC mismatch in chunk {type}");
            pos += 12 + (int)length;
            if (colorType < 0 && type != "IHDR") throw new DataFormatException(path, "corrupt: first chunk is not IHDR");
            switch (type)
            {
                case "IHDR":
                    if (length != 13) throw new DataFormatException(path, "corrupt: IHDR is not 13 bytes");
                    width = BinaryPrimitives.ReadInt32BigEndian(body);
                    height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                    bitDepth = body[8];
                    colorType = body[9];
                    if (width <= 0 || height <= 0 || width > MaxSide || height > MaxSide || (long)width * height > MaxPixels)
                        throw new DataFormatException(path, $"image size {width}×{height} is outside the accepted bound ({MaxSide} per side, {MaxPixels} pixels)");
                    if (body[10] != 0 || body[11] != 0) throw new DataFormatException(path, "unknown compression or filter method");
                    if (body[12] != 0) throw new DataFormatException(path, "interlaced PNG (Adam7) is not supported: save it non-interlaced");
                    if (colorType is not (0 or 2 or 4 or 6))
                        throw new DataFormatException(path, $"PNG colour type {colorType} is not supported (use gray or RGB; palette images must be converted)");
                    if (bitDepth is not (8 or 16))
                        throw new DataFormatException(path, $"bit depth {bitDepth} is not supported (use 8 or 16)");
                    break;
                case "IDAT":
                    idat.Write(body);
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
                default:
                    if (char.IsUpper(type[0])) throw new DataFormatException(path, $"unsupported critical chunk {type}");
                    break; // ancillary chunks (text, gamma, …) carry nothing we use
            }
        }
        if (idat.Length == 0) throw new DataFormatException(path, "corrupt: no image data (IDAT)");

        var fileChannels = colorType switch { 0 => 1, 2 => 3, 4 => 2, _ => 4 };
        var bytesPerSample = bitDepth / 8;
        var bpp = fileChannels * bytesPerSample;
        var rowBytes = width * bpp;
        var channelsOut = fileChannels >= 3 ? 3 : 1;
        budget.Charge(path, idat.Length + (long)height * (rowBytes + 1) + 2L * width * height * channelsOut, $"a {width}×{height} image");
        var raw = Inflate(idat, (long)height * (rowBytes + 1), path);
        Unfilter(raw, height, rowBytes, bpp, path);

        var channels = fileChannels >= 3 ? 3 : 1;
        var samples = new ushort[(long)width * height * channels];
        for (var y = 0; y < height; y++)
        {
            var row = raw.AsSpan(y * (rowBytes + 1) + 1, rowBytes);
            for (var x = 0; x < width; x++)
                for (var c = 0; c < channels; c++)
                {
                    var at = (x * fileChannels + c) * bytesPerSample;
                    samples[((long)y * width + x) * channels + c] =
                        bytesPerSample == 1 ? row[at] : BinaryPrimitives.ReadUInt16BigEndian(row[at..]);
                }
        }
        return new PngImage(width, height, channels, bitDepth, samples);
    }

    private static byte[] Inflate(MemoryStream compressed, long expected, string path)
    {
        compressed.Position = 0;
        var raw = new byte[expected];
        try
        {
            using var z = new ZLibStream(compressed, CompressionMode.Decompress);
            var read = 0;
            while (read < raw.Length)
            {
                var n = z.Read(raw, read, raw.Length - read);
                if (n == 0) throw new DataFormatException(path, $"truncated: image data holds {read} bytes, the header needs {expected}");
                read += n;
            }
            if (z.Read(new byte[1], 0, 1) != 0) throw new DataFormatException(path, "corrupt: more image data than the header declares");
        }
        catch (InvalidDataException e) { throw new DataFormatException(path, "corrupt: bad zlib image data", e); }
        return raw;
    }

    // Reverses the per-row filters in place (PNG spec §9). Row r starts at r·(rowBytes+1) with its filter byte.
    private static void Unfilter(byte[] raw, int height, int rowBytes, int bpp, string path)
    {
        var stride = rowBytes + 1;
        for (var y = 0; y < height; y++)
        {
            var start = y * stride;
            var filter = raw[start];
            var cur = raw.AsSpan(start + 1, rowBytes);
            var prev = y > 0 ? raw.AsSpan(start - stride + 1, rowBytes) : Span<byte>.Empty;
            switch (filter)
            {
                case 0: break;
                case 1:
                    for (var i = bpp; i < rowBytes; i++) cur[i] += cur[i - bpp];
                    break;
                case 2:
                    if (y > 0) for (var i = 0; i < rowBytes; i++) cur[i] += prev[i];
                    break;
                case 3:
                    for (var i = 0; i < rowBytes; i++)
                    {
                        int left = i >= bpp ? cur[i - bpp] : 0, up = y > 0 ? prev[i] : 0;
                        cur[i] += (byte)((left + up) >> 1);
                    }
                    break;
                case 4:
                    for (var i = 0; i < rowBytes; i++)
                    {
                        int left = i >= bpp ? cur[i - bpp] : 0, up = y > 0 ? prev[i] : 0;
                        var upLeft = i >= bpp && y > 0 ? prev[i - bpp] : 0;
                        cur[i] += (byte)Paeth(left, up, upLeft);
                    }
                    break;
                default:
                    throw new DataFormatException(path, $"corrupt: unknown filter type {filter} on row {y}");
            }
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>Encodes an image. <paramref name="filter"/> forces one row filter (0–4) for every row; by default
    /// each row takes the filter with the smallest sum of absolute differences (the usual heuristic).</summary>
    public static byte[] Encode(PngImage image, int? filter = null)
    {
        if (filter is < 0 or > 4) throw new ArgumentOutOfRangeException(nameof(filter), "PNG filters are 0–4");
        var bytesPerSample = image.BitDepth / 8;
        var bpp = image.Channels * bytesPerSample;
        var rowBytes = image.Width * bpp;
        var rows = new byte[image.Height * rowBytes];
        for (var i = 0; i < image.Samples.Length; i++)
        {
            if (bytesPerSample == 1) rows[i] = (byte)image.Samples[i];
            else BinaryPrimitives.WriteUInt16BigEndian(rows.AsSpan(2 * i), image.Samples[i]);
        }
        var filtered = new byte[image.Height * (rowBytes + 1)];
        var candidate = new byte[rowBytes];
        for (var y = 0; y < image.Height; y++)
        {
            var cur = rows.AsSpan(y * rowBytes, rowBytes);
            var prev = y > 0 ? rows.AsSpan((y - 1) * rowBytes, rowBytes) : Span<byte>.Empty;
            var outRow = filtered.AsSpan(y * (rowBytes + 1), rowBytes + 1);
            var best = long.MaxValue;
            for (var f = filter ?? 0; f <= (filter ?? 4); f++)
            {
                Filter(f, cur, prev, bpp, candidate);
                long cost = 0;
                foreach (var b in candidate) cost += b < 128 ? b : 256 - b;
                if (cost < best)
                {
                    best = cost;
                    outRow[0] = (byte)f;
                    candidate.CopyTo(outRow[1..]);
                }
            }
        }
        using var output = new MemoryStream();
        output.Write(Signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), image.Height);
        ihdr[8] = (byte)image.BitDepth;
        ihdr[9] = (byte)(image.Channels == 1 ? 0 : 2);
        WriteChunk(output, "IHDR", ihdr);
        using (var compressed = new MemoryStream())
        {
            using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(filtered);
            WriteChunk(output, "IDAT", compressed.ToArray());
        }
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    /// <summary>Writes the image to <paramref name="path"/> through a temporary file, so no half-written PNG remains.</summary>
    public static void Write(string path, PngImage image, int? filter = null) => AtomicFile.WriteAllBytes(path, Encode(image, filter));

    private static void Filter(int f, ReadOnlySpan<byte> cur, ReadOnlySpan<byte> prev, int bpp, Span<byte> result)
    {
        for (var i = 0; i < cur.Length; i++)
        {
            int left = i >= bpp ? cur[i - bpp] : 0, up = prev.IsEmpty ? 0 : prev[i];
            var upLeft = i >= bpp && !prev.IsEmpty ? prev[i - bpp] : 0;
            result[i] = f switch
            {
                0 => cur[i],
                1 => (byte)(cur[i] - left),
                2 => (byte)(cur[i] - up),
                3 => (byte)(cur[i] - ((left + up) >> 1)),
                _ => (byte)(cur[i] - Paeth(left, up, upLeft)),
            };
        }
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> body)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        output.Write(word);
        var typed = new byte[4 + body.Length];
        Encoding.ASCII.GetBytes(type, typed);
        body.CopyTo(typed.AsSpan(4));
        output.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(typed));
        output.Write(word);
    }
}

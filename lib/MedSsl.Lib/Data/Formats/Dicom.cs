using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace MedSsl.Data.Formats;

/// <summary>DICOM files (PS3.10 Part-10, with or without the 128-byte preamble and File Meta Information, and bare
/// data sets) read as images: implicit VR little endian, explicit VR little and big endian, deflated explicit VR
/// little endian and RLE lossless (decoded here); sequences and items of defined or undefined length are walked and
/// skipped. Other compressed transfer syntaxes (JPEG, JPEG-LS, JPEG 2000, …) raise a
/// <see cref="DataFormatException"/> naming the syntax. Written from PS3.5 (data structures and encoding, §7 data
/// elements, §7.5 nesting, Annex A transfer syntaxes, Annex G RLE) and PS3.10 §7 (file format).
/// Every declared length is checked against the bytes present before anything is allocated.</summary>
public static class Dicom
{
    /// <summary>Largest file (or inflated data set) accepted: 1 GiB.</summary>
    public const long MaxBytes = 1L << 30;

    /// <summary>Largest sample count (frames × rows × columns × samples per pixel) accepted: 2^27.</summary>
    public const long MaxSamples = 1L << 27;

    private const int MaxDepth = 32; // nested sequences deeper than this are refused (a crafted file cannot overflow the stack)

    internal const uint PixelDataTag = 0x7FE00010;

    /// <summary>Transfer syntaxes by UID (PS3.6 Annex A); the first five are decoded here.</summary>
    public static readonly IReadOnlyDictionary<string, string> TransferSyntaxes = new Dictionary<string, string>
    {
        ["1.2.840.10008.1.2"] = "Implicit VR Little Endian",
        ["1.2.840.10008.1.2.1"] = "Explicit VR Little Endian",
        ["1.2.840.10008.1.2.1.99"] = "Deflated Explicit VR Little Endian",
        ["1.2.840.10008.1.2.2"] = "Explicit VR Big Endian",
        ["1.2.840.10008.1.2.5"] = "RLE Lossless",
        ["1.2.840.10008.1.2.4.50"] = "JPEG Baseline (Process 1)",
        ["1.2.840.10008.1.2.4.51"] = "JPEG Extended (Process 2 & 4)",
        ["1.2.840.10008.1.2.4.57"] = "JPEG Lossless, Non-Hierarchical (Process 14)",
        ["1.2.840.10008.1.2.4.70"] = "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, SV1)",
        ["1.2.840.10008.1.2.4.80"] = "JPEG-LS Lossless",
        ["1.2.840.10008.1.2.4.81"] = "JPEG-LS Lossy (Near-Lossless)",
        ["1.2.840.10008.1.2.4.90"] = "JPEG 2000 (Lossless Only)",
        ["1.2.840.10008.1.2.4.91"] = "JPEG 2000",
        ["1.2.840.10008.1.2.4.92"] = "JPEG 2000 Part 2 Multi-component (Lossless Only)",
        ["1.2.840.10008.1.2.4.93"] = "JPEG 2000 Part 2 Multi-component",
        ["1.2.840.10008.1.2.4.100"] = "MPEG2 Main Profile / Main Level",
        ["1.2.840.10008.1.2.4.102"] = "MPEG-4 AVC/H.264 High Profile / Level 4.1",
        ["1.2.840.10008.1.2.4.201"] = "High-Throughput JPEG 2000 (Lossless Only)",
        ["1.2.840.10008.1.2.4.203"] = "High-Throughput JPEG 2000",
    };

    private const string ImplicitLE = "1.2.840.10008.1.2";
    private const string ExplicitLE = "1.2.840.10008.1.2.1";
    private const string DeflatedLE = "1.2.840.10008.1.2.1.99";
    private const string ExplicitBE = "1.2.840.10008.1.2.2";
    private const string Rle = "1.2.840.10008.1.2.5";

    /// <summary>True when the file starts like DICOM: "DICM" after a 128-byte preamble, or a bare data set whose
    /// first element is a plausible group 0002/0008 tag. Cheap (reads 136 bytes); used to pick DICOM files in a folder.</summary>
    public static bool LooksLikeDicom(string path)
    {
        Span<byte> head = stackalloc byte[136];
        int n;
        long length;
        using (var f = File.OpenRead(path))
        {
            length = f.Length;
            n = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        if (n >= 132 && head[128] == 'D' && head[129] == 'I' && head[130] == 'C' && head[131] == 'M') return true;
        return n >= 8 && GuessBareEncoding(head[..n], length) != null;
    }

    /// <summary>Reads a DICOM file and decodes its pixel data.</summary>
    public static DicomImage Read(string path)
    {
        byte[] file;
        try
        {
            var length = new FileInfo(path).Length;
            if (length > MaxBytes) throw new DataFormatException(path, $"file of {length} bytes is beyond the bound of {MaxBytes}");
            file = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException) { throw new DataFormatException(path, "file not found"); }
        catch (DirectoryNotFoundException) { throw new DataFormatException(path, "file not found"); }
        try { return Decode(file, path); }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException)
        {
            throw new DataFormatException(path, $"corrupt DICOM data ({e.Message})", e);
        }
    }

    /// <summary>Decodes DICOM bytes (a whole file); <paramref name="path"/> names it in errors.</summary>
    public static DicomImage Decode(byte[] file, string path = "<memory>")
    {
        var set = Parse(file, path);
        return DicomPixels.Decode(set, path);
    }

    /// <summary>The top-level elements of a file and how they are encoded.</summary>
    internal static DicomDataSet Parse(byte[] file, string path)
    {
        var pos = 0;
        string? syntax = null;
        var hasPreamble = file.Length >= 132 && Encoding.ASCII.GetString(file, 128, 4) == "DICM";
        if (hasPreamble) pos = 132;
        // File Meta Information (group 0002) is always explicit VR little endian (PS3.10 §7.1).
        if (file.Length >= pos + 8 && BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(pos)) == 0x0002 && IsVr(file, pos + 4))
        {
            var meta = new Dictionary<uint, DicomElement>();
            pos = ParseElements(file, pos, file.Length, explicitVr: true, little: true, meta, path, depth: 0, stopAfterGroup2: true);
            if (!meta.TryGetValue(0x00020010, out var ts))
                throw new DataFormatException(path, "the File Meta Information has no Transfer Syntax UID (0002,0010)");
            syntax = Text(file, ts);
        }
        else if (hasPreamble) throw new DataFormatException(path, "no File Meta Information (group 0002) after the DICM prefix");

        byte[] data = file;
        bool explicitVr, little;
        if (syntax == null)
        {
            var guess = GuessBareEncoding(file.AsSpan(pos), file.Length - pos)
                ?? throw new DataFormatException(path, "not a DICOM file (no DICM prefix, and the first bytes are not a DICOM data element)");
            (explicitVr, little) = guess;
            syntax = explicitVr ? little ? ExplicitLE : ExplicitBE : ImplicitLE;
        }
        else
        {
            explicitVr = syntax != ImplicitLE;
            little = syntax != ExplicitBE;
            if (syntax == DeflatedLE)
            {
                data = Inflate(file, pos, path);
                pos = 0;
            }
        }
        var elements = new Dictionary<uint, DicomElement>();
        ParseElements(data, pos, data.Length, explicitVr, little, elements, path, depth: 0, stopAfterGroup2: false);
        return new DicomDataSet(data, syntax, little, explicitVr, elements);
    }

    private static byte[] Inflate(byte[] file, int pos, string path)
    {
        using var input = new DeflateStream(new MemoryStream(file, pos, file.Length - pos), CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = new byte[1 << 16];
        try
        {
            int n;
            while ((n = input.Read(buffer)) > 0)
            {
                if (output.Length + n > MaxBytes) throw new DataFormatException(path, $"the deflated data set inflates beyond the bound of {MaxBytes} bytes");
                output.Write(buffer, 0, n);
            }
        }
        catch (InvalidDataException e) { throw new DataFormatException(path, "corrupt deflated data set", e); }
        return output.ToArray();
    }

    // A bare data set (no meta header, as pydicom's *NoMeta files): the first tag must be a small group (0000–0008)
    // and then either a VR (explicit) or a 32-bit length that fits in the file (implicit); the byte order is the one
    // giving the smaller group number.
    private static (bool Explicit, bool Little)? GuessBareEncoding(ReadOnlySpan<byte> b, long available)
    {
        if (b.Length < 8) return null;
        var le = BinaryPrimitives.ReadUInt16LittleEndian(b);
        var be = BinaryPrimitives.ReadUInt16BigEndian(b);
        var little = le <= be;
        var group = little ? le : be;
        if (group > 0x0008) return null;
        if (char.IsAsciiLetterUpper((char)b[4]) && char.IsAsciiLetterUpper((char)b[5])) return (true, little);
        var length = little ? BinaryPrimitives.ReadUInt32LittleEndian(b[4..]) : BinaryPrimitives.ReadUInt32BigEndian(b[4..]);
        return length <= available - 8 ? (false, little) : null;
    }

    private static bool IsVr(byte[] b, int at) =>
        at + 2 <= b.Length && char.IsAsciiLetterUpper((char)b[at]) && char.IsAsciiLetterUpper((char)b[at + 1]);

    // VRs whose explicit encoding has 2 reserved bytes and a 32-bit length (PS3.5 §7.1.2, Table 7.1-1).
    private static bool LongVr(string vr) => vr is "OB" or "OD" or "OF" or "OL" or "OV" or "OW" or "SQ" or "SV" or "UC" or "UN" or "UR" or "UT" or "UV";

    /// <summary>Walks the data elements in [pos, end), recording top-level ones into <paramref name="into"/> (null:
    /// inside a sequence item, only skipped). Returns the position after the last element, or after an Item
    /// Delimitation Item when parsing an item of undefined length.</summary>
    private static int ParseElements(byte[] b, int pos, int end, bool explicitVr, bool little,
        Dictionary<uint, DicomElement>? into, string path, int depth, bool stopAfterGroup2)
    {
        if (depth > MaxDepth) throw new DataFormatException(path, $"sequences nested deeper than {MaxDepth}");
        while (pos < end)
        {
            if (end - pos < 8)
            {
                // Some writers pad the last element's data to an even length with a stray byte or two; ignore zeros.
                if (into != null && b.AsSpan(pos, end - pos).IndexOfAnyExcept((byte)0) < 0) return end;
                throw new DataFormatException(path, $"truncated: {end - pos} byte(s) at offset {pos} cannot hold a data element");
            }
            var group = U16(b, pos, little);
            var element = U16(b, pos + 2, little);
            if (stopAfterGroup2 && group != 0x0002) return pos;
            var tag = (uint)group << 16 | element;
            if (group == 0xFFFE)
            {
                // Item Delimitation Item ends an item of undefined length; anything else here is corrupt.
                if (element == 0xE00D && into == null) return pos + 8;
                throw new DataFormatException(path, $"unexpected item tag (FFFE,{element:X4}) at offset {pos}");
            }
            string vr;
            long length;
            int header;
            if (explicitVr)
            {
                vr = Encoding.ASCII.GetString(b, pos + 4, 2);
                if (!IsVr(b, pos + 4)) throw new DataFormatException(path, $"corrupt: element ({group:X4},{element:X4}) at offset {pos} has no valid VR");
                if (LongVr(vr))
                {
                    if (end - pos < 12) throw new DataFormatException(path, $"truncated inside the header of element ({group:X4},{element:X4})");
                    length = U32(b, pos + 8, little);
                    header = 12;
                }
                else
                {
                    length = U16(b, pos + 6, little);
                    header = 8;
                }
            }
            else
            {
                vr = "";
                length = U32(b, pos + 4, little);
                header = 8;
            }
            var value = pos + header;
            if (length == 0xFFFFFFFF)
            {
                if (tag == PixelDataTag)
                {
                    // Encapsulated pixel data (PS3.5 §A.4): kept whole, the fragments are split when decoding.
                    var after = SkipItems(b, value, end, explicitVr, little, path, depth, fragments: true, out var fragments);
                    into?.TryAdd(tag, new DicomElement(tag, vr, value, after - value, fragments));
                    pos = after;
                    continue;
                }
                // A sequence of undefined length (SQ, or UN whose content is implicit VR little endian, PS3.5 §6.2.2).
                var asImplicit = vr == "UN";
                pos = SkipItems(b, value, end, asImplicit ? false : explicitVr, asImplicit || little, path, depth, fragments: false, out _);
                continue;
            }
            if (length > end - value)
                throw new DataFormatException(path, $"truncated: element ({group:X4},{element:X4}) declares {length} bytes at offset {value}, only {end - value} remain");
            into?.TryAdd(tag, new DicomElement(tag, vr, value, (int)length, null));
            pos = value + (int)length;
        }
        return pos;
    }

    /// <summary>Walks the items of a sequence (or the fragments of encapsulated pixel data) up to and past the
    /// Sequence Delimitation Item.</summary>
    private static int SkipItems(byte[] b, int pos, int end, bool explicitVr, bool little, string path, int depth,
        bool fragments, out List<(int Offset, int Length)>? items)
    {
        items = fragments ? [] : null;
        while (true)
        {
            if (end - pos < 8) throw new DataFormatException(path, $"truncated: a sequence at offset {pos} has no Sequence Delimitation Item");
            var group = U16(b, pos, little);
            var element = U16(b, pos + 2, little);
            var length = U32(b, pos + 4, little);
            if (group != 0xFFFE) throw new DataFormatException(path, $"corrupt: expected an item tag at offset {pos}, found ({group:X4},{element:X4})");
            if (element == 0xE0DD) return pos + 8;
            if (element != 0xE000) throw new DataFormatException(path, $"corrupt: unexpected (FFFE,{element:X4}) in a sequence at offset {pos}");
            var value = pos + 8;
            if (length == 0xFFFFFFFF)
            {
                if (fragments) throw new DataFormatException(path, "corrupt: a pixel data fragment of undefined length");
                pos = ParseElements(b, value, end, explicitVr, little, null, path, depth + 1, stopAfterGroup2: false);
                continue;
            }
            if (length > (uint)(end - value))
                throw new DataFormatException(path, $"truncated: an item declares {length} bytes at offset {value}, only {end - value} remain");
            items?.Add((value, (int)length));
            pos = value + (int)length;
        }
    }

    internal static ushort U16(byte[] b, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at, 2)) : BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(at, 2));

    internal static uint U32(byte[] b, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at, 4)) : BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(at, 4));

    internal static string Text(byte[] b, DicomElement e) =>
        Encoding.ASCII.GetString(b, e.Offset, e.Length).TrimEnd(' ', '\0').TrimStart(' ');

    internal static double[] Numbers(byte[] b, DicomElement e, string path, string name)
    {
        var text = Text(b, e);
        if (text.Length == 0) return [];
        return text.Split('\\').Select(s =>
            double.TryParse(s.Trim(' ', '\0'), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                ? v
                : throw new DataFormatException(path, $"{name} holds '{s}', not a number")).ToArray();
    }
}

/// <summary>One data element: where its value lies in the data set's bytes; Fragments for encapsulated pixel data.</summary>
internal readonly record struct DicomElement(uint Tag, string Vr, int Offset, int Length, List<(int Offset, int Length)>? Fragments);

/// <summary>A parsed data set: its bytes (inflated when deflated), encoding, and top-level elements by tag.</summary>
internal sealed record DicomDataSet(byte[] Bytes, string TransferSyntaxUid, bool Little, bool ExplicitVr,
    Dictionary<uint, DicomElement> Elements);

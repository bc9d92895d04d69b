using System.Buffers.Binary;
using System.Text;
using MedSsl.Data;
using MedSsl.Data.Formats;

namespace MedSsl.Tests.Data;

/// <summary>Hand-built DICOM files for what pydicom's test set does not hold: Bits Stored below Bits Allocated
/// (masking, sign extension, a high bit not at the top), nested sequences of undefined length before the pixels,
/// MONOCHROME1 for display, and declared sizes beyond the bounds.</summary>
public class DicomSyntheticTests
{
    /// <summary>Part-10 file: preamble, explicit-LE meta with the transfer syntax, then the elements in implicit VR
    /// little endian (tag, 32-bit length, value), or raw bytes appended as given.</summary>
    private static byte[] File10(params (uint Tag, byte[] Value)[] elements)
    {
        using var s = new MemoryStream();
        s.Write(new byte[128]);
        s.Write("DICM"u8);
        var uid = Encoding.ASCII.GetBytes("1.2.840.10008.1.2\0");
        s.Write([0x02, 0x00, 0x10, 0x00, (byte)'U', (byte)'I', (byte)uid.Length, 0]);
        s.Write(uid);
        foreach (var (tag, value) in elements)
        {
            if (tag == 0) { s.Write(value); continue; }
            var head = new byte[8];
            BinaryPrimitives.WriteUInt16LittleEndian(head, (ushort)(tag >> 16));
            BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(2), (ushort)tag);
            BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(4), (uint)value.Length);
            s.Write(head);
            s.Write(value);
        }
        return s.ToArray();
    }

    private static byte[] Us(int v) => BitConverter.GetBytes((ushort)v);
    private static byte[] Str(string v) => Encoding.ASCII.GetBytes(v.Length % 2 == 0 ? v : v + " ");
    private static byte[] Words(params int[] v) => v.SelectMany(x => BitConverter.GetBytes((ushort)x)).ToArray();

    private static (uint, byte[])[] Image(int rows, int columns, int bitsStored, int highBit, int signed, byte[] pixels, string photometric = "MONOCHROME2") =>
    [
        (0x00280002, Us(1)), (0x00280004, Str(photometric)), (0x00280010, Us(rows)), (0x00280011, Us(columns)),
        (0x00280100, Us(16)), (0x00280101, Us(bitsStored)), (0x00280102, Us(highBit)), (0x00280103, Us(signed)),
        (0x7FE00010, pixels),
    ];

    [Fact]
    public void BitsStoredMasksAndSignExtends()
    {
        // 12 signed bits at 0…11 under 4 bits of garbage: 0xF800 → −2048, 0x07FF → 2047, 0xF001 → 1, 0x0FFF → −1.
        var signed = Dicom.Decode(File10(Image(1, 4, 12, 11, 1, Words(0xF800, 0x07FF, 0xF001, 0x0FFF))));
        Assert.Equal([-2048.0, 2047, 1, -1], signed.Stored);
        var unsigned = Dicom.Decode(File10(Image(1, 2, 12, 11, 0, Words(0xF123, 0x0FFF))));
        Assert.Equal([0x123, 0xFFF], unsigned.Stored);
        // High bit 15: the 12 bits are the top ones; the low 4 are not pixel data.
        var top = Dicom.Decode(File10(Image(1, 2, 12, 15, 0, Words(0x123A, 0xFFF0))));
        Assert.Equal([0x123, 0xFFF], top.Stored);
    }

    [Fact]
    public void NestedUndefinedLengthSequencesBeforeThePixelsAreSkipped()
    {
        byte[] Tag(int g, int e, uint length) => [.. Us(g), .. Us(e), .. BitConverter.GetBytes(length)];
        const uint undefined = 0xFFFFFFFF;
        // (0008,1140) SQ, undefined: one item of undefined length holding a nested (0040,A730) SQ with one defined-length item.
        byte[] sequence =
        [
            .. Tag(0x0008, 0x1140, undefined),
            .. Tag(0xFFFE, 0xE000, undefined),
            .. Tag(0x0008, 0x1150, 4), .. "1.2 "u8,
            .. Tag(0x0040, 0xA730, undefined),
            .. Tag(0xFFFE, 0xE000, 10), .. Tag(0x0010, 0x0010, 2), .. "A "u8,
            .. Tag(0xFFFE, 0xE0DD, 0),
            .. Tag(0xFFFE, 0xE00D, 0),
            .. Tag(0xFFFE, 0xE0DD, 0),
        ];
        var elements = Image(1, 2, 16, 15, 0, Words(7, 9)).ToList();
        elements.Insert(0, (0, sequence));
        Assert.Equal([7.0, 9], Dicom.Decode(File10([.. elements])).Stored);

        // Without its Sequence Delimitation Item the file is corrupt, not decoded.
        elements[0] = (0, sequence[..^8]);
        Assert.Throws<DataFormatException>(() => Dicom.Decode(File10([.. elements]), "cut.dcm"));
    }

    [Fact]
    public void Monochrome1IsInvertedForDisplayOnly()
    {
        var image = Dicom.Decode(File10(Image(1, 3, 16, 15, 0, Words(0, 50, 100), "MONOCHROME1")));
        Assert.Equal([0.0, 50, 100], image.Stored); // stored values as pydicom gives them
        Assert.Equal([1f, 0.5f, 0f], image.ToUnitImage()); // no window: the frame's range, bright = high
    }

    [Fact]
    public void DeclaredSizesBeyondTheBoundsAreRefusedBeforeAllocating()
    {
        var huge = Image(65535, 65535, 16, 15, 0, Words(1, 2)).ToList();
        huge.Insert(0, (0x00280008, Str("1000")));
        var e = Assert.Throws<DataFormatException>(() => Dicom.Decode(File10([.. huge]), "huge.dcm"));
        Assert.Contains("beyond the bound", e.Message);
        var shortPixels = Dicom.Decode(File10(Image(2, 2, 16, 15, 0, Words(1, 2, 3, 4))));
        Assert.Equal(4, shortPixels.Stored.Length);
        var truncated = Assert.Throws<DataFormatException>(() => Dicom.Decode(File10(Image(4, 4, 16, 15, 0, Words(1, 2))), "t.dcm"));
        Assert.Contains("truncated", truncated.Message);
        Assert.Equal("t.dcm", truncated.Path);
    }
}

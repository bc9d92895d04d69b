using MedSsl.Data;

namespace MedSsl.Tests.Data;

/// <summary><c>medssl data inspect</c>'s summaries of DICOM files and series, JPEG and 4-d NIfTI.</summary>
public class DataInspectFormatsTests
{
    [Fact]
    public void DicomFileSeriesFolderAndNifti4d()
    {
        var ct = DataInspector.Inspect(Path.Combine(PydicomFiles.Folder, "CT_small.dcm"));
        Assert.StartsWith("dicom (CT, MONOCHROME2, 16-bit signed, Explicit VR Little Endian)", ct.Format);
        Assert.Equal(["1x128x128"], ct.Shapes);

        var multi = DataInspector.Inspect(Path.Combine(PydicomFiles.Folder, "SC_rgb_rle_2frame.dcm"));
        Assert.Equal((2, "2x3x100x100"), (multi.Count, multi.Shapes[0]));

        var series = DataInspector.Inspect(Path.Combine(PydicomFiles.Folder, "dicomdirtests/98892001/CT5N"));
        Assert.StartsWith("dicom-series (CT", series.Format);
        Assert.Equal(["5x16x16"], series.Shapes);

        var fmri = DataInspector.Inspect("/usr/lib/python3/dist-packages/nibabel/tests/data/functional.nii");
        Assert.Equal(["20x3x21x17"], fmri.Shapes);
        var n2 = DataInspector.Inspect("/usr/lib/python3/dist-packages/nibabel/tests/data/example_nifti2.nii.gz");
        Assert.StartsWith("nifti-2", n2.Format);
    }

    [Fact]
    public void UnsupportedDicomSyntaxIsNamed()
    {
        var e = Assert.Throws<DataFormatException>(() => DataInspector.Inspect(Path.Combine(PydicomFiles.Folder, "JPEG2000.dcm")));
        Assert.Contains("JPEG 2000", e.Message);
    }
}

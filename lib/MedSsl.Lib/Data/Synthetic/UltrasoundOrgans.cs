namespace MedSsl.Data.Synthetic;

/// <summary>The label set of Dadoun et al. 2022, how often each label set occurs in its test set, and the kinds of exam
/// that show them.</summary>
public static class UltrasoundOrgans
{
    /// <summary>The six organs of interest and <c>other</c> (an image showing none of them), as in Dadoun et al. 2022, §2.1.</summary>
    public static readonly IReadOnlyList<string> LabelNames = ["liver", "gallbladder", "kidney", "pancreas", "spleen", "bladder", "other"];

    /// <summary>Label counts of Dadoun et al. (2022)'s test set (Tables 1–2, per 1242 images, 1566 labels).</summary>
    public static readonly IReadOnlyDictionary<string, int> TestSetCounts = new Dictionary<string, int>
    {
        ["liver"] = 555, ["gallbladder"] = 115, ["kidney"] = 316, ["pancreas"] = 72,
        ["spleen"] = 135, ["bladder"] = 58, ["other"] = 315,
    };

    public const int TestSetImages = 1242;

    /// <summary>Anatomically plausible label sets with counts per 1242 images. The paper gives only per-label
    /// counts; these sets were solved by hand so that every label's total equals <see cref="TestSetCounts"/>
    /// and the label total equals 1566 (the tests check both).</summary>
    public static readonly IReadOnlyList<(string[] Organs, int Count)> Combinations =
    [
        (["other"], 315),
        (["liver"], 311),
        (["liver", "gallbladder"], 85),
        (["liver", "kidney"], 109),
        (["liver", "pancreas"], 30),
        (["liver", "gallbladder", "pancreas"], 20),
        (["gallbladder"], 10),
        (["kidney"], 147),
        (["spleen"], 75),
        (["spleen", "kidney"], 60),
        (["pancreas"], 22),
        (["bladder"], 58),
    ];

    /// <summary>Kinds of exam by the report titles of Dadoun et al. 2022, §3.1 (abdominal, liver, renal, urinary tract,
    /// bladder), each with its share of exams (ours: the paper gives none) and the organs its sweep can show. A frame of
    /// an exam shows a label set whose organs all belong to the exam's kind (see <see cref="SyntheticUltrasound"/>).</summary>
    public static readonly IReadOnlyList<(string Title, double Share, string[] Organs)> ExamKinds =
    [
        ("abdominal", 0.55, ["liver", "gallbladder", "kidney", "pancreas", "spleen", "other"]),
        ("liver", 0.15, ["liver", "gallbladder", "pancreas", "other"]),
        ("renal", 0.15, ["kidney", "spleen", "other"]),
        ("urinary tract", 0.10, ["kidney", "bladder", "other"]),
        ("bladder", 0.05, ["bladder", "other"]),
    ];
}

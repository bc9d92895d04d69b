using MedSsl.Data;
using MedSsl.Experiments;
using Microsoft.Data.Analysis;

namespace MedSsl.Reports;

/// <summary>The protocol's results: every row with the claims' verdicts (<see cref="ProtocolResult{TSetting, TRun, TRow}"/>),
/// the sizes, and the example seed's runs at the default λ (kept so the figures show the very models the
/// numbers come from).</summary>
public sealed class PicaStudyResult(PicaSettings settings, ImageDataset data, ProtocolResult<PicaSetting, PicaRun, PicaRow> result,
    Study<PicaClassRow> classes, IReadOnlyDictionary<(PicaSetting, int), (double[] Hard, double[] Soft)> sizes)
    : ProtocolStudy<PicaSetting, PicaRun, PicaRow>(result)
{
    /// <summary>Per run, its sorted hard cluster sizes and mean sorted soft batch mass (the figures' data; <see cref="PicaFigures"/>).</summary>
    public IReadOnlyDictionary<(PicaSetting, int), (double[] Hard, double[] Soft)> Sizes { get; } = sizes;
    public PicaSettings Settings { get; } = settings;
    public ImageDataset Data { get; } = data;
    public Study<PicaClassRow> Classes { get; } = classes;
    /// <summary>Label-combination frequencies of the unlabelled training images, largest first.</summary>
    public double[] TrueFrequencies { get; } = PicaStudy.TrueFrequencies(data.Where(DataSplit.Unlabelled));
    public int Clusters => PicaStudy.Clusters(Data);

    /// <summary>The example seed's run of a loss at the default λ and ε.</summary>
    public PicaRun Example(string loss) => Result.Example(PicaStudy.AtDefault(loss));

    public IEnumerable<PicaRow> AtDefault(string loss) => Rows.Where(r => PicaStudy.AtDefault(loss).Matches(r));

    /// <summary>Mean with 95 % CIs per setting: weighted F1 (F1-optimal thresholds and 0.5), NMI, and the four size distances.</summary>
    public DataFrame Summary => Result.Study.Summarize(r => new { r.Loss, r.Lambda, r.Epsilon },
        [("f1_weighted", r => r.F1Weighted), ("f1_weighted_at_0.5", r => r.F1WeightedAtHalf), ("nmi", r => r.Nmi),
         ("soft_to_uniform", r => r.SoftToUniform), ("hard_to_uniform", r => r.HardToUniform), ("soft_to_true", r => r.SoftToTrue), ("hard_to_true", r => r.HardToTrue)]);

    /// <summary>results.json's headline: per loss at λ = 2, the mean and best weighted F1 and the mean size distances
    /// (every run is in the runs' CSV, every class score in the classes' CSV).</summary>
    public IReadOnlyDictionary<string, double> Headline
    {
        get
        {
            var values = new Dictionary<string, double>();
            foreach (var loss in PicaStudy.Losses)
            {
                var rows = AtDefault(loss).ToList();
                values[$"f1_weighted_{loss}"] = rows.Average(r => r.F1Weighted);
                values[$"f1_weighted_best_{loss}"] = rows.Max(r => r.F1Weighted);
                values[$"soft_size_to_uniform_{loss}"] = rows.Average(r => r.SoftToUniform);
                values[$"hard_size_to_uniform_{loss}"] = rows.Average(r => r.HardToUniform);
                values[$"soft_size_to_true_{loss}"] = rows.Average(r => r.SoftToTrue);
                values[$"hard_size_to_true_{loss}"] = rows.Average(r => r.HardToTrue);
            }
            return values;
        }
    }

    /// <summary>results.json (the headline, the seeds, the claims), the CSV of every run and the CSV of every class score.</summary>
    public string? Save(RunContext? context = null)
    {
        var path = Result.Save(Headline, context);
        if (path is not null) ResultsFile.Save(Headline, Classes, path);
        return path;
    }
}

using MedSsl.Data;
using MedSsl.Experiments;
using MedSsl.Methods.OnYourData;
using Microsoft.Data.Analysis;

namespace MedSsl.Reports;

/// <summary>Notebook 08's study: the protocol run, its rows, claims and the example seed's models.</summary>
public sealed class YourDataStudy(YourDataSettings settings, ProtocolResult<YourDataMethod, YourDataRun, YourDataRow> result)
    : ProtocolStudy<YourDataMethod, YourDataRun, YourDataRow>(result)
{
    public YourDataSettings Settings { get; } = settings;
    public YourDataRun Example(YourDataMethod method) => Result.Example(method);
    /// <summary>Whether SSLDEC's arms ran (they do on single-label data).</summary>
    public bool RanSsldec => Rows.Any(r => r.Method == YourDataProtocol.Name(YourDataMethod.Ssldec));

    /// <summary>Runs the protocol on <paramref name="data"/>; <paramref name="exampleSeed"/> must be one of the profile's seeds.</summary>
    public static YourDataStudy Run(ImageDataset data, RunProfile profile, int labelsPerClass, int exampleSeed)
    {
        var settings = YourDataSettings.For(profile, labelsPerClass);
        return new(settings, ProtocolRunner.Run(new YourDataProtocol(data, settings, settings.Seeds.RequireExample(exampleSeed))));
    }

    /// <summary>Mean test accuracy with its 95 % CI per method (clusterings: after matching clusters to label sets).</summary>
    public DataFrame Summary => Result.Study.Summarize(r => r.Method, [("test_accuracy", r => r.TestAccuracy)]);

    /// <summary>The claims' sentences and the mechanism, computed from the rows.</summary>
    public Findings WhatThisRunShows
    {
        get
        {
            var fixmatch = Rows.Where(r => r.Method == "fixmatch").ToList();
            var ssldec = Rows.Where(r => r.Method == YourDataProtocol.Name(YourDataMethod.Ssldec)).ToList();
            return Claims.Findings(
                $"FixMatch's unlabelled images at the end of training (mean over {fixmatch.Count} seeds): {fixmatch.Average(r => r.CorrectPseudoLabels ?? 0):P1} " +
                $"pass τ with the right class, {fixmatch.Average(r => r.WrongPseudoLabels ?? 0):P1} with a wrong one; " +
                $"over the last 10 % of steps {fixmatch.Average(r => r.FinalMaskRate ?? 0):P1} of each unlabelled batch passed τ." +
                (ssldec.Count == 0 ? " SSLDEC did not run (multi-label data)."
                    : $" SSLDEC ran {ssldec.Min(r => r.SsldecRounds)}–{ssldec.Max(r => r.SsldecRounds)} rounds before its assignments were stable (at most {Presets.Ssldec(0).Method.Rounds})."));
        }
    }

    /// <summary>results.json: the mean test accuracy per method, the seeds, the claims; every run in the runs CSV.</summary>
    public string? Save(RunContext? context = null) => Result.Save(new
    {
        mean_test_accuracy = Rows.GroupBy(r => r.Method).ToDictionary(g => g.Key, g => g.Average(r => r.TestAccuracy)),
        labels_per_class = Settings.LabelsPerClass,
        runs = Rows,
    }, context);
}

using MedSsl.Data;
using MedSsl.Reports;
using MedSsl.Runtime;

namespace MedSsl.Experiments;

/// <summary>The notebook's entry point: data, the deep-clustering backbone, then <see cref="FixMatchProtocol"/> on the
/// shared runner.</summary>
public static class FixMatchStudy
{
    /// <param name="backbone">the notebook's <c>Backbone</c> parameter: empty to pre-train PICA + L_SD here, or the path of
    /// a safetensors backbone (e.g. notebook 01's); never a file found silently</param>
    /// <param name="exampleSeed">the seed whose Two-Head model is kept for the figures; one of the profile's seeds</param>
    public static FixMatchStudyResult RunStudy(RunProfile profile, string? backbone = "", int exampleSeed = SeedPlan.FirstFresh, FixMatchStudySettings? settings = null)
    {
        settings ??= FixMatchStudySettings.For(profile);
        settings.Seeds.RequireExample(exampleSeed);
        using var threads = TorchRuntime.IntraOpThreads(settings.Threads);
        var data = FixMatchRuns.MakeData(settings);
        var (network, source) = FixMatchRuns.DeepClusteringBackbone(backbone, data, profile, settings.Seeds.Seeds[0]);
        using (network)
        {
            var protocol = new FixMatchProtocol(settings, data, network, exampleSeed);
            return new FixMatchStudyResult(settings, data, protocol, ProtocolRunner.Run(protocol), source);
        }
    }
}

using MedSsl.Data;
using MedSsl.Methods.OnYourData;
using MedSsl.Models;
using MedSsl.Reports;
using MedSsl.Runtime;
using MedSsl.Training;

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
        var (network, source) = DeepClusteringBackbone(backbone, data, profile, settings.Seeds.Seeds[0]);
        using (network)
        {
            var protocol = new FixMatchProtocol(settings, data, network, exampleSeed);
            return new FixMatchStudyResult(settings, data, protocol, ProtocolRunner.Run(protocol), source);
        }
    }

    /// <summary>The deep-clustering backbone f (§2.3.3), from the notebook's <c>Backbone</c> parameter: empty, PICA + L_SD
    /// at notebook 01's default λ and ε trained here without labels on the unlabelled images (§2.2.4), its clustering
    /// head dropped; otherwise a safetensors file of the profile's backbone shape (notebook 01 saves one). Says which.</summary>
    public static (ResNet Backbone, string Source) DeepClusteringBackbone(string? path, ImageDataset data, RunProfile profile, int seed)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            var started = DateTime.UtcNow;
            var pica = PicaSettings.For(profile);
            var trained = PicaClustering.Train(data, PicaStudy.Options(pica, PicaStudy.Clusters(data), PicaStudy.AtDefault("lsd"), seed), pica.Widths);
            trained.Model.Head.Dispose();
            return (trained.Backbone, $"PICA + L_SD pre-trained here on the {data.IndicesOf(DataSplit.Unlabelled).Length} unlabelled images " +
                $"({profile.ToString().ToLowerInvariant()} profile, seed {seed}, {(DateTime.UtcNow - started).TotalSeconds:F0} s)");
        }
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new ArgumentException($"Backbone = \"{path}\": no such file ({full}). Give a safetensors file of the " +
                $"{profile.ToString().ToLowerInvariant()} profile's backbone (e.g. notebook 01's out/01-deep-clustering-pica-vs-lsd.backbone.safetensors), " +
                "or leave Backbone empty to pre-train PICA + L_SD here", nameof(path));
        var loaded = PicaStudy.NewBackbone(profile, seed);
        try { loaded.LoadSafetensors(full); }
        catch (StateDictMismatchException e)
        {
            loaded.Dispose();
            throw new ArgumentException($"Backbone = \"{path}\" is not a backbone of the {profile.ToString().ToLowerInvariant()} profile's shape: {e.Message}", nameof(path), e);
        }
        return (loaded, $"loaded from {full}");
    }
}

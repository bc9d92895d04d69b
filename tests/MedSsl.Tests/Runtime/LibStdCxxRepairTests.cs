using System.Reflection;
using System.Text.Json;
using MedSsl.Runtime;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Runtime;

/// <summary>The build-time repair of TorchSharp's native glue (lib/build/LibStdCxxRepair.cs): needed on Debian 12,
/// applied to every output the CLI, notebooks and tests load, idempotent, and never touching the package cache.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class LibStdCxxRepairTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("medssl-repair-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string Metadata(string key) =>
        typeof(LibStdCxxRepairTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    private static string PackageCopy => Metadata("LibTorchSharpInPackage");

    private static ElfLibrary SystemLibStdCxx => new(LibStdCxxRepair.LoadedLibStdCxx());

    [Fact]
    public void EveryBuildOutputIsRepairedWhereThisSystemNeedsIt()
    {
        var needed = LibStdCxxRepair.MissingVersions(new ElfLibrary(PackageCopy), SystemLibStdCxx);
        var native = Path.Combine("runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        // The CLI's own output folder, in the configuration these tests were built in (bin/Release/net10.0).
        var outputFolder = Path.GetRelativePath(Path.Combine(Medssl.RepoRoot, "tests", "MedSsl.Tests"), AppContext.BaseDirectory);
        var outputs = new[]
        {
            TorchRuntime.LibTorchSharpPath,                                                    // the test host (and medssl.dll beside it)
            Path.Combine(Medssl.RepoRoot, "artifacts", "lib", native),                         // notebooks' #r
            Path.Combine(Medssl.RepoRoot, "lib", "MedSsl.Cli", outputFolder, native),          // ./medssl
        };
        foreach (var output in outputs)
        {
            var library = new ElfLibrary(output);
            Assert.Empty(LibStdCxxRepair.MissingVersions(library, SystemLibStdCxx));
            Assert.Equal(needed.Count > 0, LibStdCxxRepair.IsRepaired(library));
        }
        Assert.Equal(needed.Count > 0 ? "applied" : "not needed", TorchRuntime.LibStdCxxRepair);
        // On Debian 12 (GCC 12's libstdc++) the package's copy needs GCC 13's GLIBCXX_3.4.32.
        if (!SystemLibStdCxx.Definitions().Contains("GLIBCXX_3.4.32"))
            Assert.Equal(["GLIBCXX_3.4.32"], needed.Select(n => n.Version));
    }

    [Fact]
    public void RepairRetargetsOnlyTheSpuriousNeedAndIsIdempotent()
    {
        var copy = Path.Combine(dir, "libLibTorchSharp.so");
        File.Copy(PackageCopy, copy);
        var libStdCxx = LibStdCxxRepair.LoadedLibStdCxx();
        var needed = LibStdCxxRepair.MissingVersions(new ElfLibrary(PackageCopy), SystemLibStdCxx).Count > 0;
        Assert.Equal(needed ? RepairOutcome.Repaired : RepairOutcome.NotNeeded, LibStdCxxRepair.Repair(copy, libStdCxx, copy));
        var before = File.ReadAllBytes(PackageCopy);
        var after = File.ReadAllBytes(copy);
        Assert.Equal(before.Length, after.Length);
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
        if (needed)
        {
            // The hash and the name offset of one Vernaux entry: at most 8 bytes, all within 12 bytes of each other.
            Assert.InRange(changed.Count, 1, 8);
            Assert.True(changed[^1] - changed[0] < 12);
            var retargeted = new ElfLibrary(copy).Needs().Where(n => n.File == LibStdCxxRepair.LibStdCxxName).Select(n => n.Version).ToList();
            Assert.DoesNotContain("GLIBCXX_3.4.32", retargeted);
            Assert.Equal(new ElfLibrary(PackageCopy).Needs().Count, retargeted.Count + new ElfLibrary(copy).Needs().Count(n => n.File != LibStdCxxRepair.LibStdCxxName));
        }
        else Assert.Empty(changed);
        Assert.Equal(needed ? RepairOutcome.AlreadyRepaired : RepairOutcome.NotNeeded, LibStdCxxRepair.Repair(copy, libStdCxx, copy));
        Assert.Equal(after, File.ReadAllBytes(copy));
        Assert.Equal(File.GetUnixFileMode(PackageCopy), File.GetUnixFileMode(copy));
        Assert.Single(Directory.GetFiles(dir));   // no temporary file left behind
    }

    [Fact]
    public void ElfHashAgreesWithTheHashesTheLinkerStored()
    {
        // Every version need carries the hash the linker computed for its name: independent reference values.
        var needs = new ElfLibrary(PackageCopy).Needs();
        Assert.True(needs.Count > 20);
        foreach (var need in needs) Assert.Equal(need.Hash, ElfLibrary.ElfHash(need.Version));
    }

    [Fact]
    public void NonElfInputIsRejectedWithTheFileNamed()
    {
        var text = Path.Combine(dir, "not-elf.so");
        File.WriteAllText(text, "this is not a shared library, just some text long enough to have sixty-four bytes in it");
        var e = Assert.Throws<InvalidDataException>(() => LibStdCxxRepair.Repair(text, LibStdCxxRepair.LoadedLibStdCxx(), text));
        Assert.Contains(text, e.Message);
        Assert.Contains("not an ELF file", e.Message);
    }

    [Fact]
    public void DoctorReportsTheStack()
    {
        var run = Medssl.Run("doctor", "--json");
        Assert.Equal(0, run.ExitCode);
        var report = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal("0.107.0", report.GetProperty("torchsharp_version").GetString());
        Assert.Equal("2.10.0", report.GetProperty("libtorch_version").GetString());
        Assert.Equal(TorchRuntime.LibStdCxxRepair, report.GetProperty("libstdcxx_repair").GetString());
        Assert.Equal(Environment.ProcessorCount, report.GetProperty("threads").GetInt32());
        Assert.Contains("Math Kernel Library", report.GetProperty("blas").GetString());
        Assert.False(report.GetProperty("cuda_available").GetBoolean());
        Assert.True(report.GetProperty("matmul_gflops").GetDouble() > 1);
    }
}

using System.Runtime.CompilerServices;

namespace MedSsl.Tests.Data;

/// <summary>Paths of committed fixtures (made by Fixtures/make_fixtures.py) and scratch folders.</summary>
internal static class Fixture
{
    public static string Path(string name, [CallerFilePath] string caller = "") =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(caller)!, "Fixtures", name);

    public static string TempDir()
    {
        var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "medssl-data-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}

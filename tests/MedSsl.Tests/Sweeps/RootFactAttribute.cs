using System.Runtime.InteropServices;

namespace MedSsl.Tests.Sweeps;

/// <summary>A fact that needs root (the one-node Slurm cluster runs its daemons and jobs as root): skipped, with the
/// reason in the test output, when the tests run as another user.</summary>
public sealed partial class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!IsRoot) Skip = "needs root: the test starts a one-node Slurm cluster (munged, slurmctld, slurmd) whose jobs run as root";
    }

    public static bool IsRoot => geteuid() == 0;

    [LibraryImport("libc")]
    private static partial uint geteuid();
}

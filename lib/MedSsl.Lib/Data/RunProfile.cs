namespace MedSsl.Data;

/// <summary>How big a run is, the one parameter every notebook reads. <see cref="Quick"/> is the CI smoke run (seconds
/// to a few minutes on 2 cores: the code path and the protocol, not evidence); <see cref="Workshop"/> is what a class
/// runs (at most 10 minutes per notebook on 2 cores, at least 5 seeds, enough training for the method's mechanism to
/// act); <see cref="Full"/> is the paper's protocol shape (a GPU, a long CPU run or a Slurm sweep). Same code path
/// for all three.</summary>
public enum RunProfile
{
    Quick,
    Workshop,
    Full,
}

public static class RunProfiles
{
    public static readonly IReadOnlyList<string> Names = ["quick", "workshop", "full"];

    /// <summary>"quick", "workshop" or "full" (any case); anything else is an <see cref="ArgumentException"/> saying
    /// what is allowed.</summary>
    public static RunProfile Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "quick" => RunProfile.Quick,
        "workshop" => RunProfile.Workshop,
        "full" => RunProfile.Full,
        _ => throw new ArgumentException($"Profile must be \"quick\" (the CI smoke run), \"workshop\" (what a class runs: ≤ 10 min per notebook on 2 cores, ≥ 5 seeds) or \"full\" (the paper's protocol shape), not \"{name}\""),
    };

    /// <summary>The value for this profile: <c>profile.Pick(quick: 2, workshop: 5, full: 20)</c>. Every profile-dependent
    /// setting names all three, so no profile silently inherits another's size.</summary>
    public static T Pick<T>(this RunProfile profile, T quick, T workshop, T full) => profile switch
    {
        RunProfile.Quick => quick,
        RunProfile.Workshop => workshop,
        _ => full,
    };

    /// <summary>The profile's name as the command line and notebooks spell it.</summary>
    public static string Name(this RunProfile profile) => Names[(int)profile];
}

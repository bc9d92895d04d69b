namespace MedSsl.Data;

/// <summary>How big a run is, the one parameter every notebook reads: <see cref="Quick"/> is CI-sized (seconds to a
/// few minutes on 2 cores), <see cref="Full"/> is the paper's protocol shape (a GPU, a long CPU run or a Slurm sweep).
/// Same code path for both.</summary>
public enum RunProfile
{
    Quick,
    Full,
}

public static class RunProfiles
{
    public static readonly IReadOnlyList<string> Names = ["quick", "full"];

    /// <summary>"quick" or "full" (any case); anything else is an <see cref="ArgumentException"/> saying what is allowed.</summary>
    public static RunProfile Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "quick" => RunProfile.Quick,
        "full" => RunProfile.Full,
        _ => throw new ArgumentException($"Profile must be \"quick\" (CI-sized) or \"full\" (the paper's protocol shape), not \"{name}\""),
    };

    /// <summary>The value for this profile: <c>profile.Pick(quick: 5, full: 20)</c>.</summary>
    public static T Pick<T>(this RunProfile profile, T quick, T full) => profile == RunProfile.Quick ? quick : full;
}

namespace MedSsl.Data;

/// <summary>How big a synthetic dataset is: <see cref="Quick"/> for tests and first runs (well under a second to
/// generate), <see cref="Full"/> for experiments that should show the methods' differences.</summary>
public enum DataProfile
{
    Quick,
    Full,
}

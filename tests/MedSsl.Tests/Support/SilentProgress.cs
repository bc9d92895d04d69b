using MedSsl.Training;

namespace MedSsl.Tests.Support;

/// <summary>Progress that goes nowhere, for tests; counts its reports.</summary>
internal sealed class SilentProgress : ITrainingProgress
{
    public int Reports { get; private set; }
    public void Report(TrainingStatus status) => Reports++;
    public bool Disposed { get; private set; }
    public void Dispose() => Disposed = true;
}

namespace MedSsl.Training;

/// <summary>The trainer one call of a one-call API trains with: the caller's, left open so its history, progress and
/// cancellation carry on across calls, or one of its own, disposed with the lease. <see cref="Steps"/> are the records
/// this call added to the trainer's history.</summary>
public sealed class TrainerLease : IDisposable
{
    private readonly bool owned;
    private readonly int first;

    public TrainerLease(Trainer? trainer)
    {
        owned = trainer is null;
        Trainer = trainer ?? new Trainer();
        first = Trainer.History.Count;
    }

    public Trainer Trainer { get; }

    /// <summary>The steps recorded since the lease was taken.</summary>
    public List<StepRecord> Steps() => [.. Trainer.History.Skip(first)];

    public void Dispose()
    {
        if (owned) Trainer.Dispose();
    }
}

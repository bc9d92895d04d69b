using MedSsl.Experiments;

namespace MedSsl.Reports;

/// <summary>What a notebook holds after a protocol ran: its rows, seeds and claims, the example runs for the figures, and
/// results.json. Each method's view adds its tables, figures and generated summary.</summary>
public abstract class ProtocolStudy<TSetting, TRun, TRow>(ProtocolResult<TSetting, TRun, TRow> result) : IDisposable
    where TSetting : notnull where TRun : IDisposable where TRow : ISeededRow
{
    public ProtocolResult<TSetting, TRun, TRow> Result { get; } = result;
    public IReadOnlyList<TRow> Rows => Result.Rows;
    public SeedPlan Seeds => Result.Seeds;
    public ClaimTable Claims => Result.Claims;
    public TimeSpan Elapsed => Result.Elapsed;

    public void Dispose()
    {
        Result.Dispose();
        GC.SuppressFinalize(this);
    }
}

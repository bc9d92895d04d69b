using MedSsl.Training;

namespace MedSsl.Tests.Training;

/// <summary>The windowed training curve the one-call APIs draw, on hand values.</summary>
public class LossCurveTests
{
    [Fact]
    public void Windows_average_the_steps_that_recorded_the_term_and_end_on_their_step_count()
    {
        // Five steps record "loss" (1 … 5); one step in between records only another term and is skipped.
        StepRecord[] history =
        [
            .. Enumerable.Range(1, 3).Select(v => new StepRecord("a", v, new LossTerms(("loss", v), ("other", 10 * v)))),
            new StepRecord("b", 1, new LossTerms(("other", -1))),
            .. Enumerable.Range(4, 2).Select(v => new StepRecord("b", v, new LossTerms(("loss", v)))),
        ];
        var (steps, values) = LossCurve.Windowed(history, "loss", window: 2);
        Assert.Equal([2.0, 4, 5], steps);
        Assert.Equal([1.5, 3.5, 5], values);
        (steps, values) = LossCurve.Windowed(history, "other", window: 3);
        Assert.Equal([3.0, 4], steps);
        Assert.Equal([20.0, -1], values);
        Assert.Empty(LossCurve.Windowed(history, "absent").Steps);
        Assert.Throws<ArgumentOutOfRangeException>(() => LossCurve.Windowed(history, "loss", window: 0));
    }
}

namespace MedSsl.Training;

/// <summary>Schedules of a weight or rate over training, as pure functions of the step.</summary>
public static class Schedules
{
    /// <summary>Cosine decay from <paramref name="start"/> to <paramref name="end"/> over <paramref name="total"/> steps:
    /// end + (start − end)·(1 + cos(π·t/T))/2 (Loshchilov &amp; Hutter 2017, SGDR eq. 5, one cycle).</summary>
    public static double Cosine(int step, int total, double start, double end = 0)
    {
        Check(step, total);
        return end + (start - end) * (1 + Math.Cos(Math.PI * Math.Min(step, total) / total)) / 2;
    }

    /// <summary>FixMatch's learning rate: η·cos(7πk / 16K) (Sohn et al. 2020, §2.4 / Appendix B.1).</summary>
    public static double FixMatchCosine(int step, int total, double rate)
    {
        Check(step, total);
        return rate * Math.Cos(7 * Math.PI * Math.Min(step, total) / (16.0 * total));
    }

    /// <summary>The sigmoid ramp-up exp(−5(1 − t/T)²) of Laine &amp; Aila 2017 (§3.1), 1 after T; the unsupervised
    /// weight of mean-teacher and cross-teaching methods (e.g. λ(t) = 0.1·SigmoidRampUp(t, T)).</summary>
    public static double SigmoidRampUp(double t, double length)
    {
        if (length <= 0) return 1;
        var phase = 1 - Math.Clamp(t, 0, length) / length;
        return Math.Exp(-5 * phase * phase);
    }

    /// <summary>The "poly" learning-rate decay η·(1 − t/T)^power (Chen et al. 2017, DeepLab, §4.1; SSL4MIS's cross-teaching
    /// uses power 0.9, stepped every iteration); 0 at and after T.</summary>
    public static double Poly(int step, int total, double rate, double power = 0.9)
    {
        Check(step, total);
        return rate * Math.Pow(1 - (double)Math.Min(step, total) / total, power);
    }

    /// <summary>Step decay, PyTorch's StepLR: start·γ^⌊t / every⌋ (MultiMix's reference code decays ×0.1 every 8 epochs).</summary>
    public static double Step(int step, int every, double start, double gamma)
    {
        if (every < 1) throw new ArgumentOutOfRangeException(nameof(every), every, "decay at least every step");
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "steps count from 0");
        return start * Math.Pow(gamma, step / every);
    }

    /// <summary>Exponential decay from <paramref name="start"/> to <paramref name="end"/> over <paramref name="total"/> steps:
    /// start·(end/start)^(t/T), e.g. Adam 1e-4 → 1e-5 "exponentially decreasing" (Petit et al. 2021, §4.1.3).</summary>
    public static double Exponential(int step, int total, double start, double end)
    {
        Check(step, total);
        if (start <= 0 || end <= 0) throw new ArgumentOutOfRangeException(nameof(start), "an exponential decay needs positive rates");
        return start * Math.Pow(end / start, Math.Min(step, total) / (double)total);
    }

    /// <summary>Linear interpolation from <paramref name="start"/> to <paramref name="end"/> over <paramref name="total"/> steps.</summary>
    public static double Linear(int step, int total, double start, double end)
    {
        Check(step, total);
        return start + (end - start) * Math.Min(step, total) / total;
    }

    private static void Check(int step, int total)
    {
        if (total < 1) throw new ArgumentOutOfRangeException(nameof(total), total, "a schedule needs at least one step");
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "steps count from 0");
    }
}

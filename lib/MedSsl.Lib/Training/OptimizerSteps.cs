using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Training;

/// <summary>The one optimisation step every trainer uses.</summary>
public static class OptimizerSteps
{
    /// <summary>zero_grad, forward, backward, step; returns the loss value. Forward and backward run in a dispose
    /// scope that ends with backward, so the step's activations are freed before the optimizer allocates its
    /// temporaries — PyTorch frees the graph at the same point, when the loss goes out of scope. With
    /// <see cref="Runtime.Autocast.TrainingBf16"/> the forward pass runs under bfloat16 autocast (backward outside it, as
    /// PyTorch recommends).</summary>
    public static double Minimize(this optim.Optimizer optimizer, Func<Tensor> loss)
    {
        var t = StepPhases.Start();
        optimizer.zero_grad();
        StepPhases.Stop("zero_grad", t);
        double value;
        var scope = NewDisposeScope();
        try
        {
            t = StepPhases.Start();
            Tensor l;
            if (Runtime.Autocast.TrainingBf16)
                using (Runtime.Autocast.CpuBf16()) l = loss();
            else l = loss();
            StepPhases.Stop("forward + loss", t);
            t = StepPhases.Start();
            l.backward();
            value = l.to(ScalarType.Float64).ToDouble();
            StepPhases.Stop("backward", t);
        }
        finally
        {
            t = StepPhases.Start();
            scope.Dispose();
            StepPhases.Stop("free graph", t);
        }
        t = StepPhases.Start();
        optimizer.step();
        StepPhases.Stop("optimizer", t);
        return value;
    }
}

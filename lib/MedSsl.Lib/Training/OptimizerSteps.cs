using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Training;

/// <summary>The one optimisation step every trainer uses.</summary>
public static class OptimizerSteps
{
    /// <summary>zero_grad, forward, backward, step; returns the loss value. Forward and backward run in a dispose
    /// scope that ends with backward, so the step's activations are freed before the optimizer allocates its
    /// temporaries — PyTorch frees the graph at the same point, when the loss goes out of scope.</summary>
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
            var l = loss();
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

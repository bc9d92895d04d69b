using TorchSharp;
using static TorchSharp.torch;

namespace MedSsl.Training;

/// <summary>Running networks in eval mode (dropout off, batch norm on its running statistics) and giving each one its
/// training flag back afterwards, also when the work throws. Every prediction, saliency map and evaluation in the
/// library goes through here.</summary>
public static class EvalMode
{
    /// <summary>Prediction: <paramref name="run"/> with <paramref name="network"/> in eval mode and without gradients.</summary>
    public static T Evaluate<T>(this nn.Module network, Func<T> run) => Evaluate([network], run);

    /// <summary>Prediction with several networks in eval mode and without gradients.</summary>
    public static T Evaluate<T>(IEnumerable<nn.Module> networks, Func<T> run) =>
        InEvalMode(networks, () =>
        {
            using var noGrad = torch.no_grad();
            return run();
        });

    /// <summary><paramref name="run"/> with <paramref name="network"/> in eval mode and gradients left as the caller
    /// has them: saliency maps differentiate with respect to the input, and a frozen network can feed one in training.</summary>
    public static T InEvalMode<T>(this nn.Module network, Func<T> run) => InEvalMode([network], run);

    /// <summary><paramref name="run"/> with several networks in eval mode, gradients as the caller has them.</summary>
    public static T InEvalMode<T>(IEnumerable<nn.Module> networks, Func<T> run)
    {
        var flags = networks.Select(network => (network, network.training)).ToList();
        foreach (var (network, _) in flags) network.eval();
        try
        {
            return run();
        }
        finally
        {
            foreach (var (network, wasTraining) in flags) network.train(wasTraining);
        }
    }
}

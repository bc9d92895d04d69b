using System.Globalization;
using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedSsl.Training;

/// <summary>A checkpoint whose names or shapes do not match the module: every mismatch, not just the first.</summary>
public sealed class StateDictMismatchException(string path, IReadOnlyList<string> problems)
    : Exception($"{path} does not fit the module: {string.Join("; ", problems)}")
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>Safetensors checkpoints of modules (their state_dict, under PyTorch's names, so
/// <c>module.load_state_dict(safetensors.torch.load_file(path))</c> reads them in Python) and, for resuming,
/// of optimizers' state.</summary>
public static class Checkpoint
{
    /// <summary>Writes the module's parameters and buffers (atomically).</summary>
    public static void SaveSafetensors(this nn.Module module, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        Safetensors.Save(path, module.state_dict().Select(kv => (kv.Key, kv.Value)), metadata);

    /// <summary>Copies a checkpoint into the module's parameters and buffers in place. Missing, unexpected and
    /// wrongly shaped entries are all reported in one <see cref="StateDictMismatchException"/>; nothing is changed then.</summary>
    public static void LoadSafetensors(this nn.Module module, string path)
    {
        var loaded = Safetensors.Load(path);
        try
        {
            var state = module.state_dict();
            var problems = state.Keys.Where(k => !loaded.ContainsKey(k)).Select(k => $"missing '{k}'")
                .Concat(loaded.Keys.Where(k => !state.ContainsKey(k)).Select(k => $"unexpected '{k}'"))
                .Concat(state.Where(kv => loaded.TryGetValue(kv.Key, out var t) && !t.shape.SequenceEqual(kv.Value.shape))
                    .Select(kv => $"'{kv.Key}' has shape [{string.Join(", ", loaded[kv.Key].shape)}], the module [{string.Join(", ", kv.Value.shape)}]"))
                .ToList();
            if (problems.Count > 0) throw new StateDictMismatchException(path, problems);
            using var noGrad = torch.no_grad();
            foreach (var (name, target) in state) target.copy_(loaded[name]);
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    /// <summary>Writes an optimizer's per-parameter state (Adam's step, exp_avg and exp_avg_sq, …) and its groups'
    /// learning rates, so training resumes exactly where it stopped.</summary>
    public static void SaveSafetensors(this optim.Optimizer optimizer, string path)
    {
        using var scope = torch.NewDisposeScope();
        var state = ((OptimizerHelper)optimizer).state_dict();
        var tensors = new List<(string, Tensor)>();
        for (var i = 0; i < state.State.Count; i++)
            foreach (var field in StateFields(state.State[i]))
                if (ToTensor(field.GetValue(state.State[i])) is { } value) tensors.Add(($"state.{i}.{field.Name}", value));
        var rates = optimizer.ParamGroups.Select((g, i) => KeyValuePair.Create($"lr.{i}", g.LearningRate.ToString("R", CultureInfo.InvariantCulture)));
        Safetensors.Save(path, tensors, new Dictionary<string, string>(rates) { ["optimizer"] = optimizer.GetType().Name });
    }

    /// <summary>Restores what <see cref="SaveSafetensors(optim.Optimizer, string)"/> wrote into an optimizer of the
    /// same kind over the same parameters.</summary>
    public static void LoadSafetensors(this optim.Optimizer optimizer, string path)
    {
        var metadata = Safetensors.Metadata(path);
        if (metadata.TryGetValue("optimizer", out var kind) && kind != optimizer.GetType().Name)
            throw new InvalidDataException($"{path} holds the state of a {kind}, not of a {optimizer.GetType().Name}");
        var loaded = Safetensors.Load(path);
        try
        {
            var state = ((OptimizerHelper)optimizer).state_dict();
            using var noGrad = torch.no_grad();
            for (var i = 0; i < state.State.Count; i++)
                foreach (var field in StateFields(state.State[i]))
                {
                    var name = $"state.{i}.{field.Name}";
                    if (!loaded.TryGetValue(name, out var value)) continue;   // e.g. max_exp_avg_sq without amsgrad
                    var current = field.GetValue(state.State[i]);
                    if (current is Tensor tensor) tensor.copy_(value);
                    else field.SetValue(state.State[i], Convert.ChangeType(value.to(ScalarType.Float64).ToDouble(), field.FieldType, CultureInfo.InvariantCulture));
                }
            var groups = optimizer.ParamGroups.ToList();
            for (var i = 0; i < groups.Count; i++)
                if (metadata.TryGetValue($"lr.{i}", out var rate)) groups[i].LearningRate = double.Parse(rate, CultureInfo.InvariantCulture);
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    private static IEnumerable<FieldInfo> StateFields(object state) =>
        state.GetType().GetFields(BindingFlags.Public | BindingFlags.Instance)
            .Where(f => f.FieldType == typeof(Tensor) || f.FieldType == typeof(long) || f.FieldType == typeof(int) || f.FieldType == typeof(double));

    private static Tensor? ToTensor(object? value) => value switch
    {
        Tensor t => t,
        long l => torch.tensor(l),
        int n => torch.tensor((long)n),
        double d => torch.tensor(d),
        _ => null,
    };
}

using System.CommandLine;
using System.Runtime.CompilerServices;
using MedSsl.Cli.Commands;
using MedSsl.Runtime;

// MedSsl.Lib's module initializer first: it says why TorchSharp cannot load, if it cannot, and sets the native
// allocation policy before any tensor exists.
RuntimeHelpers.RunModuleConstructor(typeof(TorchRuntime).Module.ModuleHandle);
var root = new RootCommand("medssl: semi- and self-supervised learning for medical imaging, on TorchSharp");
root.Subcommands.Add(DoctorCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(KernelCommand.Create());
root.Subcommands.Add(SweepCommand.Create());
root.Subcommands.Add(SweepCommand.CreatePointCommand());
var parsed = root.Parse(args);
// Every bad command line is bad input: exit 2 with the problem named, as for the commands' own checks (not 1, a failed run).
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine($"usage: medssl {string.Join(' ', parsed.CommandResult.Command.Name == root.Name ? [] : new[] { parsed.CommandResult.Command.Name })} --help");
    return 2;
}
return parsed.Invoke();

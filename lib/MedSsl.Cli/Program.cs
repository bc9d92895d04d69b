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
return root.Parse(args).Invoke();

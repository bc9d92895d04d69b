using System.CommandLine;
using MedSsl.Cli.Commands;

var root = new RootCommand("medssl: semi- and self-supervised learning for medical imaging, on libtorch");
root.Subcommands.Add(DoctorCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(KernelCommand.Create());
root.Subcommands.Add(SweepCommand.Create());
root.Subcommands.Add(SweepCommand.CreatePointCommand());
return root.Parse(args).Invoke();

using System.CommandLine;

namespace MedSsl.Cli.Commands;

/// <summary><c>medssl bench ...</c>: reproducible speed measurements recorded in docs/benchmarks.md.
/// Each benchmark is a subcommand in its own file.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "speed measurements (see docs/benchmarks.md)");
        command.Subcommands.Add(StepBench.Create());
        command.Subcommands.Add(MethodBench.Create());
        command.Subcommands.Add(OpBench.Create());
        command.Subcommands.Add(BenchDataCommand.Create());
        command.Subcommands.Add(RunnerBench.Create());
        command.Subcommands.Add(TsneBench.Create());
        command.Subcommands.Add(PicaBench.CreateDigits());
        command.Subcommands.Add(PicaBench.CreateExams());
        return command;
    }
}

using System.CommandLine;
using MedSsl.Cli.Kernel;

namespace MedSsl.Cli.Commands;

/// <summary><c>medssl kernel install|uninstall [--user | --prefix DIR]</c> manage the kernelspec <c>medssl-csharp</c>;
/// <c>medssl kernel start --connection-file FILE</c> is what Jupyter runs (see docs/kernel.md).</summary>
internal static class KernelCommand
{
    public static Command Create()
    {
        var command = new Command("kernel", "the C# (MedSsl) Jupyter kernel: install its kernelspec, or run it");
        command.Subcommands.Add(Manage("install", "write the kernelspec medssl-csharp (\"C# (MedSsl)\") so Jupyter front ends can start this kernel", prefix =>
        {
            Console.WriteLine($"installed kernelspec {KernelSpec.Name} in {KernelSpec.Install(prefix)}");
        }));
        command.Subcommands.Add(Manage("uninstall", "remove the kernelspec medssl-csharp", prefix =>
        {
            var folder = KernelSpec.Folder(prefix);
            Console.WriteLine(KernelSpec.Uninstall(prefix) ? $"removed {folder}" : $"no kernelspec at {folder}");
        }));
        command.Subcommands.Add(Start());
        return command;
    }

    private static Command Manage(string name, string description, Action<string?> action)
    {
        var user = new Option<bool>("--user") { Description = "in the user's Jupyter data directory (the default)" };
        var prefix = new Option<string?>("--prefix") { Description = "in DIR/share/jupyter/kernels (e.g. a virtual environment)" };
        var command = new Command(name, description) { user, prefix };
        command.SetAction(result =>
        {
            if (result.GetValue(user) && result.GetValue(prefix) is not null)
            {
                Console.Error.WriteLine("error: give --user or --prefix, not both");
                return 2;
            }
            try
            {
                action(result.GetValue(prefix));
                return 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static Command Start()
    {
        var connectionFile = new Option<string>("--connection-file", "-f") { Description = "the connection file Jupyter wrote", Required = true };
        var command = new Command("start", "serve the Jupyter protocol (Jupyter runs this from the kernelspec)") { connectionFile };
        command.SetAction(result =>
        {
            // Cells' console output goes to the client; the kernel's own log stays on this process's stderr.
            var log = Console.Error;
            ConnectionInfo connection;
            try { connection = ConnectionInfo.Load(result.GetValue(connectionFile)!); }
            catch (InvalidDataException e)
            {
                log.WriteLine($"error: {e.Message}");
                return 2;
            }
            return new JupyterKernel(connection, log).Run();
        });
        return command;
    }
}

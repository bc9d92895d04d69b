using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Scripting.Hosting;

namespace MedSsl.Cli.Notebooks;

/// <summary>
/// Loads the assemblies cells reference with <c>#r "x.dll"</c> into the default load context and hands them to
/// Roslyn's loader as already loaded. Roslyn's own loader puts each into a context of its own, where Plotly.NET's
/// F# dependencies failed with MissingMethodException; in the default context there is one copy of each assembly,
/// shared with this process (so a cell's MedSsl.Lib is the one whose <c>RunCancellation</c> the host sets).
/// Dependencies of referenced assemblies resolve from the folders of the referenced files.
/// </summary>
internal sealed class DefaultContextReferences
{
    private static readonly HashSet<string> PlatformAssemblies =
        ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(Path.GetFileNameWithoutExtension).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);

    private readonly object gate = new();
    private readonly List<string> folders = [];
    private readonly HashSet<string> loadedPaths = [];

    public InteractiveAssemblyLoader Loader { get; } = new();

    public DefaultContextReferences() => AssemblyLoadContext.Default.Resolving += ResolveFromReferenceFolders;

    /// <summary>Loads the files named by <paramref name="compilation"/>'s <c>#r</c> directives, before it runs.</summary>
    public void Load(Compilation compilation) =>
        LoadFiles(compilation.DirectiveReferences.OfType<PortableExecutableReference>().Select(r => r.FilePath).OfType<string>());

    /// <summary>Loads assembly files (a cell's <c>#r</c> files, the DLLs of its <c>#r "nuget: …"</c> packages).</summary>
    public void LoadFiles(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            lock (gate)
            {
                if (!loadedPaths.Add(path)) continue;
                var folder = Path.GetDirectoryName(path)!;
                if (!folders.Contains(folder)) folders.Add(folder);
            }
            var name = AssemblyName.GetAssemblyName(path);
            // This process may already hold the assembly (medssl references MedSsl.Lib): a second copy in the
            // default context is impossible, and one copy keeps types and statics shared with the host.
            var assembly = AssemblyLoadContext.Default.Assemblies.FirstOrDefault(a => a.GetName().Name == name.Name)
                ?? (PlatformAssemblies.Contains(name.Name!)
                    ? AssemblyLoadContext.Default.LoadFromAssemblyName(name)
                    : AssemblyLoadContext.Default.LoadFromAssemblyPath(path));
            Loader.RegisterDependency(assembly);
            // Module initializers run at #r rather than at some later first use: MedSsl.Lib's checks that TorchSharp
            // can load and says why not in one message (TorchSharpLoadException), before any cell calls torch.
            try { RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle); }
            catch (TypeInitializationException e) when (e.InnerException is not null) { ExceptionDispatchInfo.Throw(e.InnerException); }
        }
    }

    private Assembly? ResolveFromReferenceFolders(AssemblyLoadContext context, AssemblyName name)
    {
        string[] candidates;
        lock (gate) candidates = folders.Select(f => Path.Combine(f, name.Name + ".dll")).ToArray();
        var found = candidates.FirstOrDefault(File.Exists);
        return found is null ? null : context.LoadFromAssemblyPath(found);
    }
}

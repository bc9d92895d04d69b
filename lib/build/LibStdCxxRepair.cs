#nullable enable
// Makes TorchSharp's native glue load on Debian 12 (environment.md, "The libstdc++ repair").
//
// TorchSharp 0.107's libLibTorchSharp.so was linked by GCC 13, whose <iostream> emits an unused reference to
// std::ios_base_library_init()@GLIBCXX_3.4.32 only so that the linker records a need for a GCC 13 libstdc++.
// Debian 12's libstdc++ (GCC 12) defines versions up to GLIBCXX_3.4.30, so the dynamic loader refuses the whole
// library. No relocation refers to that symbol (the repair checks this), LibTorchSharp never touches the standard
// streams, and libc10 — loaded first, as a dependency — constructs std::ios_base::Init itself. So the need is
// spurious: the repair retargets that one version-need entry (its name and ELF hash, 8 bytes) to the newest
// GLIBCXX version the library already needs and the system provides. It writes a repaired copy (temp file +
// rename), never the NuGet cache, and does nothing where the system's libstdc++ has every version the library needs.
//
// This one file is compiled twice: into MedSsl.Lib (MEDSSL_LIB defined: `medssl doctor` and the load check) and
// by MSBuild's RoslynCodeTaskFactory as the build task below (lib/build/TorchSharp.targets). The task factory
// compiles against .NET Standard 2.0, hence no records, ranges or spans here.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace MedSsl.Runtime
{
    /// <summary>A GNU version-need entry (Elf64_Vernaux) of a shared library: <c>Version</c> from <c>File</c>.</summary>
    public sealed class VersionNeed
    {
        public VersionNeed(string file, string version, uint hash, ushort index, bool weak, int entryOffset, uint nameOffset)
        {
            File = file; Version = version; Hash = hash; Index = index; Weak = weak; EntryOffset = entryOffset; NameOffset = nameOffset;
        }

        public string File { get; }
        public string Version { get; }
        /// <summary>The ELF hash of <see cref="Version"/> as the linker stored it (vna_hash).</summary>
        public uint Hash { get; }
        /// <summary>The version index symbols use to refer to this need (vna_other).</summary>
        public ushort Index { get; }
        public bool Weak { get; }
        internal int EntryOffset { get; }
        internal uint NameOffset { get; }
        public override string ToString() => $"{Version} ({File})";
    }

    /// <summary>Reads the GNU symbol-versioning sections of a little-endian ELF64 shared library.</summary>
    public sealed class ElfLibrary
    {
        private const uint ShtRela = 4, ShtRel = 9, ShtDynsym = 11;
        private const uint ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;
        private const ushort VerFlagWeak = 0x2;

        private struct Section
        {
            public uint Type, Link, Info;
            public long Offset, Size, EntrySize;
        }

        public string Path { get; }
        private readonly byte[] bytes;
        private readonly Section[] sections;

        public ElfLibrary(string path) : this(path, File.ReadAllBytes(path)) { }

        public ElfLibrary(string path, byte[] bytes)
        {
            Path = path;
            this.bytes = bytes;
            if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
                throw new InvalidDataException($"{path}: not an ELF file");
            if (bytes[4] != 2 || bytes[5] != 1)
                throw new InvalidDataException($"{path}: not a 64-bit little-endian ELF file");
            var sectionTable = (long)U64(0x28);
            int entrySize = U16(0x3A), count = U16(0x3C);
            if (entrySize != 64 || sectionTable + (long)count * entrySize > bytes.Length)
                throw new InvalidDataException($"{path}: truncated or malformed section header table");
            sections = Enumerable.Range(0, count).Select(i =>
            {
                var at = (int)(sectionTable + i * 64L);
                return new Section { Type = U32(at + 4), Offset = (long)U64(at + 24), Size = (long)U64(at + 32), Link = U32(at + 40), Info = U32(at + 44), EntrySize = (long)U64(at + 56) };
            }).ToArray();
        }

        public byte[] Bytes => bytes;

        /// <summary>The version-need entries (.gnu.version_r): which versions of which libraries this one needs.</summary>
        public IReadOnlyList<VersionNeed> Needs()
        {
            var needs = new List<VersionNeed>();
            foreach (var section in sections.Where(s => s.Type == ShtGnuVerneed))
            {
                var strings = sections[section.Link];
                var at = section.Offset;
                for (var n = 0; n < section.Info; n++)
                {
                    var file = String(strings, U32(at + 4));
                    var aux = at + U32(at + 8);
                    for (var k = 0; k < U16(at + 2); k++)
                    {
                        var name = U32(aux + 8);
                        needs.Add(new VersionNeed(file, String(strings, name), U32(aux), (ushort)(U16(aux + 6) & 0x7fff), (U16(aux + 4) & VerFlagWeak) != 0, (int)aux, name));
                        aux += U32(aux + 12);
                    }
                    at += U32(at + 12);
                }
            }
            return needs;
        }

        /// <summary>The versions this library defines (.gnu.version_d), e.g. GLIBCXX_3.4.30 for libstdc++.</summary>
        public ISet<string> Definitions()
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var section in sections.Where(s => s.Type == ShtGnuVerdef))
            {
                var strings = sections[section.Link];
                var at = section.Offset;
                for (var n = 0; n < section.Info; n++)
                {
                    if (U16(at + 6) > 0) names.Add(String(strings, U32(at + U32(at + 12))));
                    at += U32(at + 16);
                }
            }
            return names;
        }

        /// <summary>Dynamic symbols bound to version index <paramref name="index"/>, each with whether a relocation uses it.</summary>
        public IReadOnlyList<(string Name, bool Relocated)> SymbolsOfVersion(ushort index)
        {
            var dynsymIndex = Array.FindIndex(sections, s => s.Type == ShtDynsym);
            var versym = sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
            if (dynsymIndex < 0 || versym.Type == 0) return new List<(string, bool)>();
            var dynsym = sections[dynsymIndex];
            var relocated = new HashSet<long>();
            foreach (var rel in sections.Where(s => (s.Type == ShtRela || s.Type == ShtRel) && s.Link == dynsymIndex))
                for (var at = rel.Offset; at < rel.Offset + rel.Size; at += rel.EntrySize)
                    relocated.Add((long)(U64(at + 8) >> 32));
            var symbols = new List<(string, bool)>();
            for (long i = 0; i < dynsym.Size / 24; i++)
                if ((U16(versym.Offset + 2 * i) & 0x7fff) == index)
                    symbols.Add((String(sections[dynsym.Link], U32(dynsym.Offset + 24 * i)), relocated.Contains(i)));
            return symbols;
        }

        /// <summary>The System V ELF hash that version entries carry for their names.</summary>
        public static uint ElfHash(string name)
        {
            uint h = 0;
            foreach (var c in Encoding.ASCII.GetBytes(name))
            {
                h = (h << 4) + c;
                var g = h & 0xf0000000;
                if (g != 0) h ^= g >> 24;
                h &= ~g;
            }
            return h;
        }

        internal void Retarget(VersionNeed need, VersionNeed target)
        {
            Array.Copy(BitConverter.GetBytes(ElfHash(target.Version)), 0, bytes, need.EntryOffset, 4);
            Array.Copy(BitConverter.GetBytes(target.NameOffset), 0, bytes, need.EntryOffset + 8, 4);
        }

        private string String(Section table, long offset)
        {
            var start = (int)(table.Offset + offset);
            var end = Array.IndexOf(bytes, (byte)0, start);
            if (start >= bytes.Length || end < 0) throw new InvalidDataException($"{Path}: string offset {offset} outside its table");
            return Encoding.ASCII.GetString(bytes, start, end - start);
        }

        private ushort U16(long at) => BitConverter.ToUInt16(bytes, checked((int)at));
        private uint U32(long at) => BitConverter.ToUInt32(bytes, checked((int)at));
        private ulong U64(long at) => BitConverter.ToUInt64(bytes, checked((int)at));
    }

    /// <summary>What <see cref="LibStdCxxRepair.Repair"/> found or did.</summary>
    public enum RepairOutcome { NotNeeded, AlreadyRepaired, Repaired }

    /// <summary>The repair of spurious libstdc++ version needs (see the top of this file).</summary>
    public static class LibStdCxxRepair
    {
        public const string LibStdCxxName = "libstdc++.so.6";

        /// <summary>The libstdc++ the dynamic loader gives this process — the one any library it loads gets: asks the
        /// loader for it (dlopen) and reads its path from /proc/self/maps.</summary>
        public static string LoadedLibStdCxx()
        {
            var path = MappedLibStdCxx();
            if (path is null && dlopen(LibStdCxxName, RtldNow) != IntPtr.Zero) path = MappedLibStdCxx();
            return path ?? throw new FileNotFoundException($"the dynamic loader finds no {LibStdCxxName}");
        }

        // /proc/self/maps names the real file, libstdc++.so.6.0.N.
        private static string? MappedLibStdCxx() =>
            File.ReadLines("/proc/self/maps").Select(line => line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries))
                .Where(fields => fields.Length >= 6 && System.IO.Path.GetFileName(fields[5]).StartsWith(LibStdCxxName, StringComparison.Ordinal))
                .Select(fields => fields[5]).FirstOrDefault();

        private const int RtldNow = 2;

        [System.Runtime.InteropServices.DllImport("libc", CharSet = System.Runtime.InteropServices.CharSet.Ansi)]
        private static extern IntPtr dlopen(string file, int mode);

        /// <summary>The libstdc++ versions <paramref name="library"/> needs that <paramref name="libStdCxx"/> does not define.</summary>
        public static IReadOnlyList<VersionNeed> MissingVersions(ElfLibrary library, ElfLibrary libStdCxx)
        {
            var defined = libStdCxx.Definitions();
            return library.Needs().Where(n => n.File == LibStdCxxName && !n.Weak && !defined.Contains(n.Version)).ToList();
        }

        /// <summary>True when two needs from libstdc++ share one name: the mark the repair leaves (a linker never writes that).</summary>
        public static bool IsRepaired(ElfLibrary library) =>
            library.Needs().Where(n => n.File == LibStdCxxName).GroupBy(n => n.Version).Any(g => g.Count() > 1);

        /// <summary>Writes a copy of <paramref name="libraryPath"/> to <paramref name="outputPath"/> (temp file + rename; the same path
        /// replaces the file, breaking any hard link to the package cache) whose libstdc++ needs are all met by
        /// <paramref name="libStdCxxPath"/>. Refuses, with the symbol named, when a missing version's symbol is really used.</summary>
        public static RepairOutcome Repair(string libraryPath, string libStdCxxPath, string outputPath)
        {
            var library = new ElfLibrary(libraryPath);
            var libStdCxx = new ElfLibrary(libStdCxxPath);
            var missing = MissingVersions(library, libStdCxx);
            if (missing.Count == 0)
            {
                var outcome = IsRepaired(library) ? RepairOutcome.AlreadyRepaired : RepairOutcome.NotNeeded;
                if (System.IO.Path.GetFullPath(libraryPath) != System.IO.Path.GetFullPath(outputPath)) WriteAtomically(outputPath, libraryPath, library.Bytes);
                return outcome;
            }
            var defined = libStdCxx.Definitions();
            foreach (var need in missing)
            {
                var used = library.SymbolsOfVersion(need.Index).Where(s => s.Relocated).Select(s => s.Name).ToList();
                if (used.Count > 0)
                    throw new InvalidOperationException($"{libraryPath} really uses {string.Join(", ", used)}@{need.Version}, which {libStdCxxPath} lacks: "
                        + "it cannot be repaired; install a libstdc++ that defines " + need.Version);
                var family = need.Version.Substring(0, need.Version.IndexOf('_') + 1);
                var target = library.Needs().Where(n => n.File == LibStdCxxName && n.Version.StartsWith(family, StringComparison.Ordinal) && defined.Contains(n.Version))
                    .OrderByDescending(n => VersionNumber(n.Version)).FirstOrDefault()
                    ?? throw new InvalidOperationException($"{libraryPath}: no {family}* version that {libStdCxxPath} defines is needed already; cannot retarget {need.Version}");
                library.Retarget(need, target);
            }
            WriteAtomically(outputPath, libraryPath, library.Bytes);
            return RepairOutcome.Repaired;
        }

        private static Version VersionNumber(string name) => Version.TryParse(name.Substring(name.IndexOf('_') + 1), out var v) ? v : new Version(0, 0);

        /// <summary>Writes a new file beside <paramref name="path"/> and renames it over it; the copy keeps the
        /// source's permission bits (File.Copy does, on Unix).</summary>
        private static void WriteAtomically(string path, string modeSource, byte[] bytes)
        {
            var temp = path + ".repair-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            try
            {
                File.Copy(modeSource, temp, true);
                using (var stream = new FileStream(temp, FileMode.Truncate, FileAccess.Write)) stream.Write(bytes, 0, bytes.Length);
                if (File.Exists(path)) File.Replace(temp, path, null);   // rename(2) on Unix: atomic
                else File.Move(temp, path);
            }
            finally { if (File.Exists(temp)) File.Delete(temp); }
        }
    }
}

#if !MEDSSL_LIB
namespace MedSsl.Build
{
    using MedSsl.Runtime;
    using Microsoft.Build.Framework;
    using Microsoft.Build.Utilities;

    /// <summary>The build step: repairs the copy of libLibTorchSharp.so in a build output (lib/build/TorchSharp.targets).</summary>
    public sealed class RepairLibTorchSharp : Task
    {
        [Required] public string Library { get; set; } = "";

        public override bool Execute()
        {
            try
            {
                var outcome = LibStdCxxRepair.Repair(Library, LibStdCxxRepair.LoadedLibStdCxx(), Library);
                Log.LogMessage(outcome == RepairOutcome.Repaired ? MessageImportance.High : MessageImportance.Low,
                    $"libstdc++ repair of {Library}: {outcome}");
                return true;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException)
            {
                Log.LogError($"libstdc++ repair of {Library} failed: {e.Message}");
                return false;
            }
        }
    }
}
#endif

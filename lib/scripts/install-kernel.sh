#!/usr/bin/env bash
# Installs the kernelspec "C# (MedSsl)" (medssl-csharp) for this user, so VS Code's Jupyter extension, Jupyter
# Notebook / JupyterLab and nbclient run the notebooks cell by cell with this checkout's build. A kernelspec that
# already points at another checkout is left as it is (running the tests in a throwaway clone must not repoint the
# user's kernel at it): the script then says what to run to switch. Called by setup.sh after the build.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
dll="$root/lib/MedSsl.Cli/bin/Release/net10.0/medssl.dll"
# jupyter_core's user data directory on Linux (the one `medssl kernel install --user` writes).
data="${JUPYTER_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/jupyter}"
spec="$data/kernels/medssl-csharp/kernel.json"
current=""
[ -f "$spec" ] && current=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["argv"][1])' "$spec" 2>/dev/null || echo "unreadable")
if [ -n "$current" ] && [ "$current" != "$dll" ]; then
  echo "setup: the kernelspec medssl-csharp ($spec) runs $current; left as it is. To use this one: dotnet $dll kernel install --user" >&2
  exit 0
fi
dotnet "$dll" kernel install --user >/dev/null

#!/usr/bin/env bash
# One-time, idempotent set-up for a Debian 12 machine: system packages (libtorch, OpenBLAS,
# Python references, Chromium), libtorch pointed at OpenBLAS, plotly.js from npm, and a Release
# build (which also fills artifacts/lib). Quick when everything is already there.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

# Libraries and Python modules are checked with dpkg; tools only when the command is missing (a machine may
# already have them from elsewhere, e.g. Node.js from NodeSource, whose npm conflicts with Debian's).
packages=(libtorch-dev libopenblas0-openmp python3-torch python3-sklearn python3-nbformat chromium)
tools=(cmake:cmake g++:g++ node:nodejs npm:npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
for t in "${tools[@]}"; do
  command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t##*:}")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libtorch calls whatever libblas.so.3 the system selects; Debian's reference BLAS is ~13x
# slower than OpenBLAS, and OpenBLAS's pthread flavour fights libtorch's OpenMP pool.
arch_dir=/usr/lib/x86_64-linux-gnu
for lib in libblas.so.3 liblapack.so.3; do
  want="$arch_dir/openblas-openmp/$lib"
  name="$lib-x86_64-linux-gnu"
  if [ -e "$want" ] && [ "$(update-alternatives --query "$name" 2>/dev/null | sed -n 's/^Value: //p')" != "$want" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "setup: libtorch would use a slow BLAS; run as root: update-alternatives --set $name $want" >&2
      exit 1
    fi
    update-alternatives --set "$name" "$want" >/dev/null
  fi
done

# plotly.js and MathJax for offline reports, pinned by package-lock.json.
web_dir=lib/MedSsl.Lib/Reports/plotly
if [ ! -f "$web_dir/node_modules/plotly.js-dist-min/plotly.min.js" ] || [ ! -f "$web_dir/node_modules/mathjax/es5/tex-svg.js" ]; then
  echo "setup: installing plotly.js and MathJax"
  npm ci --prefix "$web_dir" --no-audit --no-fund --loglevel=error >/dev/null
fi

echo "setup: building (Release)"
dotnet build MedSsl.Lib.sln -c Release -nologo -v q -clp:ErrorsOnly

# --- Slurm (medssl sweep --executor slurm and its tests) -----------------------------------------------------------
# Self-contained: the Slurm client commands, and slurmctld/slurmd/munged for the one-node cluster the sweep tests start
# under a temp folder (tests/MedSsl.Tests/Sweeps/SlurmCluster.cs). Only installed; no service is enabled or started.
slurm_missing=()
for p in slurm-wlm munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || slurm_missing+=("$p")
done
if ((${#slurm_missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: Slurm is missing (medssl sweep --executor slurm, its tests); run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${slurm_missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${slurm_missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${slurm_missing[@]}" >/dev/null
fi

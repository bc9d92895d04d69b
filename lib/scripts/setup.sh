#!/usr/bin/env bash
# One-time, idempotent set-up for a Debian 12 machine (environment.md): the Debian packages the tests use as
# references and real clients, plotly.js and MathJax from npm, a Release build (NuGet brings TorchSharp and libtorch;
# the build repairs TorchSharp's native glue for Debian's libstdc++ and fills artifacts/lib), and the Jupyter
# kernelspec. Quick when everything is already there.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

# python3-*: references (PyTorch 1.13, scikit-learn; pydicom, nibabel and PIL with their test files for the DICOM,
# NIfTI and JPEG readers) and real clients (nbformat, jupyter_client, nbclient; jupyter_kernel_test, Jupyter's kernel
# conformance suite), always called as /usr/bin/python3; jupyter-notebook (classic Notebook 6.4) and python3-nbconvert:
# the front-end test that draws charts in Notebook's page and in nbconvert's HTML; chromium: the browser tests of reports
# and front ends; slurm-wlm and munge: the sweep tests' one-node cluster. Libraries and Python modules are checked with
# dpkg; tools only when the command is missing (a machine may already have them from elsewhere, e.g. Node.js from
# NodeSource, whose npm conflicts with Debian's).
packages=(python3-torch python3-sklearn python3-pydicom python3-nibabel python3-pil python3-nbformat python3-jupyter-client python3-nbclient python3-jupyter-kernel-test python3-zmq jupyter-notebook python3-nbconvert chromium slurm-wlm munge)
tools=(node:nodejs npm:npm)
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

# plotly.js and MathJax for offline reports, pinned by package-lock.json.
web_dir=lib/MedSsl.Lib/Reports/plotly
if [ ! -f "$web_dir/node_modules/plotly.js-dist-min/plotly.min.js" ] || [ ! -f "$web_dir/node_modules/mathjax/es5/tex-svg.js" ]; then
  echo "setup: installing plotly.js and MathJax"
  npm ci --prefix "$web_dir" --no-audit --no-fund --loglevel=error >/dev/null
fi

# The first restore downloads TorchSharp and libtorch (~600 MB) into the NuGet cache.
echo "setup: building (Release)"
dotnet build MedSsl.Lib.sln -c Release -nologo -v q -clp:ErrorsOnly

# The kernelspec "C# (MedSsl)" (medssl-csharp) for this user, unless it already runs another checkout.
bash lib/scripts/install-kernel.sh

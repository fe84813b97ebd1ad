#!/usr/bin/env bash
# Install everything daofed needs into this checkout: a Python venv (.venv) with daofed,
# every extra and the dev tools, Slither in a venv of its own (.venv/tools/slither), and the Node-side
# tools (solc-js, anvil, Hardhat, the test IPFS node, Chart.js for the explorer), and
# Debian's chromium for the explorer's browser tests (Playwright drives it:
# `playwright install` cannot download here).
# Idempotent: a second run only checks. Needs Python >= 3.11, Node >= 20 and npm; chromium
# needs apt-get (and sudo when not run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"

# A step whose inputs have not changed since it last succeeded is skipped: a second run
# only checks. Its stamp is the sha256 of its inputs, kept inside what it installed (so
# deleting .venv or node_modules makes the step run again).
fresh() {  # fresh STAMP INPUT...: whether STAMP holds the hash of INPUT...
  local stamp="$1"; shift
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(cat "$@" | sha256sum)" ]
}
stamp() {  # stamp STAMP INPUT...: record that the step for INPUT... succeeded
  local stamp="$1"; shift
  cat "$@" | sha256sum > "$stamp"
}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv" >&2
  "$python" -m venv .venv
fi
# Every extra, pinned: constraints.txt is to pip what package-lock.json is to npm
# (scripts/lock.sh regenerates it).
if fresh .venv/.daofed-pip pyproject.toml constraints.txt; then
  echo "==> daofed and its Python dependencies: installed (pyproject.toml, constraints.txt unchanged)" >&2
else
  echo "==> pip install -c constraints.txt -e .[all,dev,flower]" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c constraints.txt -e '.[all,dev,flower]'
  stamp .venv/.daofed-pip pyproject.toml constraints.txt
fi

# Slither (static analysis of contracts/, run by scripts/test.sh) lives in its own venv
# inside .venv: slither-analyzer 0.11.6 requires web3<8 and daofed runs on web3 8, so one
# pip install of both would downgrade daofed's web3.
slither_version=0.11.6
echo "==> slither-analyzer $slither_version in .venv/tools/slither" >&2
if [ ! -x .venv/tools/slither/bin/python ]; then
  "$python" -m venv .venv/tools/slither
fi
if ! fresh .venv/tools/slither/.daofed-pip <(echo "$slither_version"); then
  .venv/tools/slither/bin/python -m pip install --quiet "slither-analyzer==$slither_version"
  stamp .venv/tools/slither/.daofed-pip <(echo "$slither_version")
fi

if fresh node_modules/.daofed-npm package-lock.json; then
  echo "==> solc-js, anvil, hardhat, Chart.js: installed (package-lock.json unchanged)" >&2
else
  echo "==> npm ci (solc-js, anvil, hardhat, Chart.js)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  stamp node_modules/.daofed-npm package-lock.json
fi
# The explorer serves Chart.js itself (members' machines may be offline): the copy npm's
# lock pins goes into the package, where the wheel picks it up too.
echo "==> Chart.js into src/daofed/explorer/static/vendor" >&2
mkdir -p src/daofed/explorer/static/vendor
cp node_modules/chart.js/dist/chart.umd.min.js src/daofed/explorer/static/vendor/chart.umd.js
ipfs_lock=tools/ipfs-node/package-lock.json
if fresh tools/ipfs-node/node_modules/.daofed-npm "$ipfs_lock"; then
  echo "==> IPFS node (Helia): installed ($ipfs_lock unchanged)" >&2
else
  echo "==> npm ci in tools/ipfs-node (IPFS node: Helia and its Node.js 22)" >&2
  npm ci --prefix tools/ipfs-node --no-audit --no-fund --loglevel=error
  stamp tools/ipfs-node/node_modules/.daofed-npm "$ipfs_lock"
fi
if [ -x /usr/bin/chromium ]; then
  echo "==> chromium present (/usr/bin/chromium)" >&2
else
  echo "==> apt-get install chromium (the explorer's browser tests drive it)" >&2
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends chromium
fi
echo "==> installed; activate with: source .venv/bin/activate" >&2

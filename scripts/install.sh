#!/usr/bin/env bash
# Install everything daofed needs into this checkout: a Python venv (.venv) with daofed
# and its dev tools, and the Node-side tools (solc-js, anvil, Hardhat, the test IPFS node).
# Idempotent: a second run only checks. Needs Python >= 3.11, Node >= 20 and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv" >&2
  "$python" -m venv .venv
fi
echo "==> pip install -e .[dev,flower]" >&2
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev,flower]'

echo "==> npm ci (solc-js, anvil, hardhat)" >&2
npm ci --no-audit --no-fund --loglevel=error
if [ -f tools/ipfs-node/package-lock.json ]; then
  echo "==> npm ci in tools/ipfs-node (test IPFS node)" >&2
  npm ci --prefix tools/ipfs-node --no-audit --no-fund --loglevel=error
fi
echo "==> installed; activate with: source .venv/bin/activate" >&2

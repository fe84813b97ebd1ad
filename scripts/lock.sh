#!/usr/bin/env bash
# Regenerate constraints.txt: resolve daofed with every extra in a fresh venv and pin what
# pip chose. Run it after changing a dependency in pyproject.toml, and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet '.[all,dev,flower]'
{
  echo "# Pins for every Python dependency of daofed (extras all, dev, flower), as npm's lock"
  echo "# pins the Node side. scripts/install.sh installs with -c constraints.txt."
  echo "# Regenerate with: bash scripts/lock.sh"
  "$venv/bin/python" -m pip freeze --exclude daofed
} > constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) pins" >&2

#!/usr/bin/env bash
# Install daofed as a user does, outside the checkout: build the wheel, install it into a
# fresh venv in a temporary directory, and run it there. A member's install (no extras)
# gives the CLI, and `daofed demo` says which extra it needs; with the `demo` extra the
# demo runs on the embedded chain and local store, with no Node and no checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
checkout="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "==> wheel: build" >&2
.venv/bin/python -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" .
wheel="$(ls "$work"/dist/daofed-*.whl)"
echo "==> wheel: install $(basename "$wheel") into a fresh venv outside the checkout" >&2
"$python" -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip install --quiet -c "$checkout/constraints.txt")
"${pip[@]}" "$wheel"
cd "$work"
daofed="$work/venv/bin/daofed"
"$daofed" --help > /dev/null
"$daofed" version

echo "==> wheel: a member's install names the extra the demo needs" >&2
if "$daofed" demo --members 3 --rounds 2 > demo.out 2> demo.err; then
  echo "daofed demo ran without the 'demo' extra: scikit-learn or eth-tester is a base dependency" >&2
  exit 1
fi
grep -q "pip install 'daofed\[demo\]'" demo.err || { cat demo.err >&2; exit 1; }
if grep -q Traceback demo.err; then cat demo.err >&2; exit 1; fi

echo "==> wheel: daofed demo --members 3 --rounds 2 with the demo extra" >&2
"${pip[@]}" "$wheel[demo]"
"$daofed" demo --members 3 --rounds 2

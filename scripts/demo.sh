#!/usr/bin/env bash
# One command: install everything, then run the demo federation on the embedded chain and
# the embedded store (no services). Extra arguments go to `daofed demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/daofed demo --members 5 --rounds 5 "$@"

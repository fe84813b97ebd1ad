#!/usr/bin/env bash
# One command: install everything, then run lint, type checks, the Hardhat tests and the
# whole pytest suite (slow end-to-end tests included; the tests start anvil and an IPFS
# node themselves).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
echo "==> ruff" >&2
.venv/bin/ruff check src tests scripts examples
echo "==> mypy" >&2
.venv/bin/mypy
echo "==> hardhat (compile offline with solc-js, Solidity-side tests)" >&2
bash scripts/hardhat-test.sh
echo "==> pytest" >&2
exec .venv/bin/python -m pytest "$@"

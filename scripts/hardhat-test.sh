#!/usr/bin/env bash
# Compile contracts/ with Hardhat and run the Solidity-side tests in tests/contracts/, offline.
# Hardhat uses the pinned solc-js from node_modules (see hardhat.config.js), with the
# settings of src/daofed/chain/compile.py; a test checks it builds the shipped bytecode.
# Needs `npm ci` first (scripts/install.sh runs it). Extra arguments go to `hardhat test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export HARDHAT_DISABLE_TELEMETRY_PROMPT=true
hardhat=node_modules/.bin/hardhat
if [ ! -x "$hardhat" ]; then
  echo "hardhat is not installed: run \`npm ci\` in $(pwd)" >&2
  exit 1
fi
echo "==> hardhat compile" >&2
"$hardhat" compile
echo "==> hardhat test" >&2
exec "$hardhat" test --no-compile "$@"

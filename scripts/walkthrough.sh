#!/usr/bin/env bash
# The README's walkthrough, run for real: a 3-member federation on one machine.
# Prints every command and its output (the README shows this transcript).
# Needs `bash scripts/install.sh` first; uses port 8545 and a fresh directory.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$repo/.venv/bin:$PATH"
work="${1:-$(mktemp -d -t daofed-walkthrough-XXXX)}"
mkdir -p "$work" && cd "$work"
export COLUMNS="${COLUMNS:-100}"  # rich wraps tables at this width
export DAOFED_PASSWORD="correct horse battery staple"  # or leave unset to be prompted

run() { printf '\n$ %s\n' "$*"; "$@"; }

daofed chain up --state chain/state.json >chain.log 2>&1 &
chain=$!
trap 'kill -INT $chain 2>/dev/null; wait $chain 2>/dev/null || true' EXIT
until grep -q "listening" chain.log 2>/dev/null; do sleep 0.2; done
printf '$ daofed chain up --state chain/state.json &\n'; cat chain.log

for member in alice bob carol; do
  run daofed account new --keystore-dir "keys/$member"
done
addresses=()
for member in alice bob carol; do
  addresses+=("$(basename "$(ls "keys/$member"/*.json)" .json)")
done
run daofed chain fund "${addresses[@]}"
run daofed deploy -m "${addresses[0]}" -m "${addresses[1]}" -m "${addresses[2]}" \
  --quorum 2 --store local:blobs --keystore "keys/alice/${addresses[0]}.json"
run daofed data split --members 3 --out-dir data

printf '\n$ export DAOFED_PASSWORD=…   # an agent in the background (`&`) cannot ask for its password'
printf '\n$ daofed agent run --keystore keys/alice/%s.json --data data/member-1.npz --rounds 3 &   # one per member\n' "${addresses[0]}"
pids=()
i=1
for member in alice bob carol; do
  daofed agent run --keystore "keys/$member/${addresses[$((i - 1))]}.json" \
    --data "data/member-$i.npz" --rounds 3 --poll 0.5 >"agent-$member.jsonl" 2>"agent-$member.log" &
  pids+=($!)
  i=$((i + 1))
done
wait "${pids[@]}"
cat agent-alice.log
printf '\n$ head -n 2 agent-alice.jsonl   # one JSON line per step\n'
head -n 2 agent-alice.jsonl

run daofed status
run daofed members
run daofed propose set-rule median --keystore "keys/bob/${addresses[1]}.json"
run daofed vote proposal 1 yes --keystore "keys/carol/${addresses[2]}.json"
run daofed proposals
run daofed audit --verify --plot audit.png
printf '\n(transcript directory: %s)\n' "$work"

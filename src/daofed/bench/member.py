"""A member agent process for the round-overhead benchmark, timing what it does.

``daofed agent run`` trains only the default model, and the benchmark needs ~100k and
~5M parameter models, so this entry point builds the same :class:`MemberAgent` and runs
it with the same loop (:func:`run_agent`), adding only instruments: the blob store, the
JSON-RPC provider and the agent's two heavy methods record their intervals.

Started by :mod:`daofed.bench.overhead` as ``python -m daofed.bench.member``. It imports
everything and loads its data first, prints ``ready``, then waits for the federation's
address on stdin, so the timed round does not include Python and torch starting up.
Writes its intervals and step events as JSON to ``--out`` when the rounds are over.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from web3 import HTTPProvider, Web3

from daofed.agent import AgentEvent, MemberAgent, MemberSettings
from daofed.agent.round_aggregate import RoundAggregate
from daofed.agent.runner import RunOptions, run_agent
from daofed.bench.chain import bench_account
from daofed.bench.timeline import Interval
from daofed.chain import Federation
from daofed.learning import ModelConfig, TrainConfig, load_digits, split_federated
from daofed.storage import BlobRef, BlobStore, IpfsStore, LocalStore

_intervals: list[Interval] = []


class _Timer:
    """Record the enclosed block as one interval of ``kind``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __enter__(self) -> None:
        self.start = time.monotonic()

    def __exit__(self, *_: object) -> None:
        _intervals.append(Interval(self.kind, self.start, time.monotonic()))


class TimedProvider(HTTPProvider):
    """An HTTP JSON-RPC provider that records every request it makes."""

    def make_request(self, method: Any, params: Any) -> Any:
        """Send the request, timing it."""
        with _Timer("rpc"):
            return super().make_request(method, params)


class TimedStore:
    """A BlobStore that records every put and get of the store it wraps."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner

    def put(self, data: bytes) -> BlobRef:
        """Put through the wrapped store."""
        with _Timer("put"):
            return self.inner.put(data)

    def get(self, ref: BlobRef, *, max_bytes: int | None = None) -> bytes:
        """Get through the wrapped store."""
        with _Timer("get"):
            return self.inner.get(ref, max_bytes=max_bytes)

    def describe(self) -> str:
        """Name the wrapped store."""
        return self.inner.describe()


class TimedAgent(MemberAgent):
    """The member agent, with its training and aggregation timed."""

    def local_update(self, round_number: int) -> bytes:
        """Train (timed)."""
        with _Timer("local_update"):
            return super().local_update(round_number)

    def aggregate(self, round_number: int) -> RoundAggregate:
        """Aggregate (timed)."""
        with _Timer("aggregate"):
            return super().aggregate(round_number)


def open_bench_store(spec: str) -> BlobStore:
    """Open ``local:DIR`` or ``ipfs:URL``; IPFS with a long timeout (a busy shared node)."""
    scheme, _, target = spec.partition(":")
    if scheme == "ipfs":
        return IpfsStore(target, timeout=300)
    return LocalStore(target)


def main() -> None:
    """Set up, say ready, wait for the federation, run the rounds, write the record."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--position", type=int, required=True, help="0-based member position")
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--account", type=int, required=True, help="HD index of the key")
    parser.add_argument("--hidden", required=True, help="hidden layer sizes, e.g. 2200,2200")
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--rpc", required=True)
    parser.add_argument("--store", required=True, help="local:DIR or ipfs:URL")
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--poll", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    torch.set_num_threads(1)  # as `daofed agent run` does by default
    split = split_federated(load_digits(), args.members, alpha=None, seed=args.seed)
    data = split.members[args.position]
    model = ModelConfig(hidden=tuple(int(h) for h in args.hidden.split(",")))
    settings = MemberSettings(model=model, training=TrainConfig(epochs=args.epochs), seed=args.seed)
    account = bench_account(args.account)
    w3 = Web3(TimedProvider(args.rpc, request_kwargs={"timeout": 120}))
    events: list[dict[str, object]] = []

    def record(event: AgentEvent) -> None:
        events.append({**asdict(event), "step": event.step.value, "t": time.monotonic()})

    print("ready", flush=True)
    start = json.loads(sys.stdin.readline())
    federation = Federation.at(w3, start["contract"], start["deploy_block"])
    store = open_bench_store(args.store)
    agent = TimedAgent(federation, TimedStore(store), account, data, settings, record)
    run_agent(
        agent, RunOptions(poll_interval=args.poll, until_round=args.rounds), threading.Event()
    )
    record_json = {
        "member": account.address,
        "intervals": [asdict(i) for i in _intervals],
        "events": events,
    }
    args.out.write_text(json.dumps(record_json, default=str))


if __name__ == "__main__":
    main()

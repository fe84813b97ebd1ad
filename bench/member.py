"""A member agent process for the benchmarks, timing what it does.

The benchmarks need ~100k and ~5M parameter models (``--hidden``), so this entry point
builds the same :class:`MemberAgent` as ``daofed agent run`` (the task
``mlp_task(ModelConfig(hidden=...))``) and runs it with the same loop
(:func:`run_agent`), adding only instruments: the blob store, the JSON-RPC provider and
the agent's two heavy methods record their intervals. With ``--untimed`` it adds none
(the memory benchmark, :mod:`bench.memory`, measures the agent as it is).

Started by :mod:`bench.overhead` and :mod:`bench.memory` as
``python -m bench.member``. It imports everything and loads its data first, prints
``ready``, then waits for the federation's address on stdin, so the timed round does not
include Python and torch starting up. Writes its intervals and step events as JSON to
``--out`` when the rounds are over (with ``--untimed``: only its address).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from web3 import HTTPProvider, Web3

from bench import ROOT
from bench.chain import bench_account
from bench.timeline import Interval
from daofed.agent import AgentEvent, MemberAgent, MemberSettings
from daofed.agent.runner import RunOptions, run_agent
from daofed.chain import Federation
from daofed.errors import DaofedError
from daofed.learning.builtin_tasks import mlp_task
from daofed.learning.data import split_federated
from daofed.learning.model import ModelConfig
from daofed.protocol import RoundAggregate
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

    def locate(self, data: bytes) -> BlobRef:
        """Locate through the wrapped store (timed as a put: IPFS hashes the bytes on the node)."""
        with _Timer("put"):
            return self.inner.locate(data)

    def get(self, ref: BlobRef, *, max_bytes: int | None = None) -> bytes:
        """Get through the wrapped store."""
        with _Timer("get"):
            return self.inner.get(ref, max_bytes=max_bytes)

    def describe(self) -> str:
        """Name the wrapped store."""
        return self.inner.describe()


class TimedAgent(MemberAgent):
    """The member agent, with its training and aggregation timed."""

    def local_update(self, round_number: int) -> tuple[bytes, int]:
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


@dataclass(frozen=True)
class MemberRun:
    """What every benchmark member process is told; member ``i`` uses dev key ``i + 1``."""

    members: int
    model: ModelConfig
    epochs: int
    seed: int
    rpc_url: str
    store: str  # local:DIR or ipfs:URL
    rounds: int
    poll: float
    untimed: bool = False

    def command(self, position: int, out: Path) -> list[str]:
        """Return the command line of the member at ``position``."""
        command = [
            sys.executable, "-m", "bench.member",
            "--position", str(position), "--members", str(self.members),
            "--account", str(position + 1),
            "--hidden", ",".join(str(h) for h in self.model.hidden),
            "--epochs", str(self.epochs), "--seed", str(self.seed), "--rpc", self.rpc_url,
            "--store", self.store, "--rounds", str(self.rounds), "--poll", str(self.poll),
            "--out", str(out),
        ]  # fmt: skip
        return command + (["--untimed"] if self.untimed else [])


@contextmanager
def member_processes(
    run: MemberRun, positions: Sequence[int], workdir: Path
) -> Iterator[list[subprocess.Popen[str]]]:
    """Start the members at ``positions`` and wait until each has loaded everything.

    Member ``i`` writes its record to ``workdir/member-i.json`` and its stderr to
    ``member-i.err``; every process still running at the end is killed.
    """
    procs: list[subprocess.Popen[str]] = []
    try:
        for i in positions:
            with (workdir / f"member-{i}.err").open("w") as err:
                procs.append(
                    subprocess.Popen(
                        run.command(i, workdir / f"member-{i}.json"),
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=err,
                        text=True,
                        cwd=ROOT,
                    )
                )
        for i, proc in zip(positions, procs, strict=True):
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise DaofedError(
                    f"benchmark member {i} did not start:\n{member_stderr(workdir, i)}"
                )
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def start_members(procs: Sequence[subprocess.Popen[str]], federation: Federation) -> None:
    """Tell the waiting member processes which federation to join: they start at once."""
    line = json.dumps({"contract": federation.address, "deploy_block": federation.deploy_block})
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(line + "\n")
        proc.stdin.close()


def member_stderr(workdir: Path, position: int) -> str:
    """Return the end of what member ``position`` wrote to stderr (for error messages)."""
    return (workdir / f"member-{position}.err").read_text()[-3000:]


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
    parser.add_argument("--untimed", action="store_true", help="no instruments, no records")
    args = parser.parse_args()

    torch.set_num_threads(1)  # as `daofed agent run` does by default
    task = mlp_task(ModelConfig(hidden=tuple(int(h) for h in args.hidden.split(","))))
    split = split_federated(task.dataset(), args.members, alpha=None, seed=args.seed)
    data = task.as_data(split.members[args.position].train)
    settings = MemberSettings(options={"epochs": args.epochs}, seed=args.seed)
    account = bench_account(args.account)
    timed = not args.untimed
    provider = TimedProvider if timed else HTTPProvider
    w3 = Web3(provider(args.rpc, request_kwargs={"timeout": 120}))
    events: list[dict[str, object]] = []

    def record(event: AgentEvent) -> None:
        events.append({**asdict(event), "step": event.step.value, "t": time.monotonic()})

    print("ready", flush=True)
    start = json.loads(sys.stdin.readline())
    federation = Federation.at(w3, start["contract"], start["deploy_block"])
    store = open_bench_store(args.store)
    agent: MemberAgent
    if timed:
        agent = TimedAgent(federation, TimedStore(store), account, task, data, settings, record)
    else:
        agent = MemberAgent(federation, store, account, task, data, settings)
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

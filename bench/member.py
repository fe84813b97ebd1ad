"""A member agent process for the benchmarks, timing what it does.

The benchmarks need ~100k and ~5M parameter models (``--hidden``), so this entry point
builds the same :class:`MemberAgent` as ``daofed agent run`` (the task
``mlp_task(ModelConfig(hidden=...))``) and runs it with the same loop
(:func:`run_agent`), adding only instruments: the blob store, the JSON-RPC provider, the
agent's steps and heavy methods, the task's training, update decoding and the waits
between polls record their intervals (:mod:`bench.timeline`), and every step event
carries the process's CPU clock. With ``--untimed`` it adds none (the memory benchmark,
:mod:`bench.memory`, measures the agent as it is).

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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
from web3 import HTTPProvider

from bench import ROOT
from bench.chain import bench_account
from bench.timeline import Interval, rpc_kind
from daofed.agent import AgentEvent, MemberAgent, MemberSettings
from daofed.agent.runner import RunOptions, run_agent
from daofed.chain import Federation, connect
from daofed.errors import DaofedError
from daofed.learning.builtin_tasks import mlp_task
from daofed.learning.data import split_federated
from daofed.learning.model import ModelConfig
from daofed.protocol import RoundAggregate, Update
from daofed.protocol import aggregate as core_aggregate
from daofed.protocol import update as core_update
from daofed.storage import BlobRef, BlobStore, IpfsStore, LocalStore

_T = TypeVar("_T")
_intervals: list[Interval] = []  # appended to by every thread (list.append is atomic)
_open = threading.local()  # per thread: the stack of timed calls under way


class _Call:
    """A timed call under way: what the calls inside it took, and the bytes it moved."""

    def __init__(self) -> None:
        self.inner_wall = 0.0
        self.inner_cpu = 0.0
        self.bytes = 0


@contextmanager
def timed(kind: str, method: str = "") -> Iterator[_Call]:
    """Record the enclosed block as one interval of ``kind``, net of the timed calls inside.

    Wall and CPU are both measured on the calling thread, so an interval never counts
    work another thread did meanwhile.
    """
    stack: list[_Call] = _open.__dict__.setdefault("stack", [])
    call = _Call()
    stack.append(call)
    start, cpu = time.monotonic(), time.thread_time()
    try:
        yield call
    finally:
        end, used = time.monotonic(), time.thread_time() - cpu
        wall = end - start
        stack.pop()
        if stack:
            stack[-1].inner_wall += wall
            stack[-1].inner_cpu += used
        _intervals.append(
            Interval(
                kind, start, end, wall - call.inner_wall, used - call.inner_cpu, call.bytes, method
            )
        )


def _timing(function: Callable[..., _T], kind: str) -> Callable[..., _T]:
    def timed_call(*args: Any, **kwargs: Any) -> _T:
        with timed(kind):
            return function(*args, **kwargs)

    return timed_call


def instrument_core() -> None:
    """Time the protocol core's training and decoding where the agent calls them.

    They run deep inside ``local_update`` and on the agent's fetch threads, where no
    subclass reaches: the module globals the core looks them up by are wrapped instead.
    """
    core_update.fit_checked = _timing(core_update.fit_checked, "train")
    decode = core_aggregate.decode_update  # type: ignore[attr-defined]
    core_aggregate.decode_update = _timing(decode, "decode")  # type: ignore[attr-defined]


def instrument_provider(provider: HTTPProvider) -> None:
    """Time every JSON-RPC call as a read or part of a transaction; count those sent.

    Wrapped on the instance that ``connect`` configured (its cache, its retries), so the
    member sends what ``daofed agent run`` sends: a call the cache answers is timed but
    not counted, since the request never leaves the process.
    """
    call, send = provider.make_request, provider._make_request

    def make_request(method: Any, params: Any) -> Any:
        with timed(rpc_kind(str(method))):
            return call(method, params)

    def post(method: Any, request_data: bytes) -> bytes:
        with timed(rpc_kind(str(method)), method=str(method)):
            return send(method, request_data)

    provider.make_request = make_request  # type: ignore[method-assign]
    provider._make_request = post  # type: ignore[method-assign]


class TimedStore:
    """A BlobStore that records every put and get of the store it wraps, with its bytes."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner

    def put(self, data: bytes) -> BlobRef:
        """Put through the wrapped store."""
        with timed("upload") as call:
            call.bytes = len(data)
            return self.inner.put(data)

    def locate(self, data: bytes) -> BlobRef:
        """Locate through the wrapped store (timed as an upload: IPFS hashes on the node)."""
        with timed("upload"):
            return self.inner.locate(data)

    def get(self, ref: BlobRef, *, max_bytes: int | None = None) -> bytes:
        """Get through the wrapped store."""
        with timed("fetch") as call:
            data = self.inner.get(ref, max_bytes=max_bytes)
            call.bytes = len(data)
            return data

    def describe(self) -> str:
        """Name the wrapped store."""
        return self.inner.describe()


class TimedAgent(MemberAgent):
    """The member agent, each step timed; its update-making and aggregation apart."""

    def step(self, until_round: int | None = None) -> AgentEvent:
        """Step (timed: what no inner call accounts for is the agent's own work)."""
        with timed("agent"):
            return super().step(until_round)

    def local_update(self, round_number: int) -> Update:
        """Make the update (timed: what training and fetches leave is delta and encoding)."""
        with timed("encode"):
            return super().local_update(round_number)

    def aggregate(self, round_number: int) -> RoundAggregate:
        """Aggregate (timed: what fetches and decoding leave is the rule and encoding)."""
        with timed("aggregate"):
            return super().aggregate(round_number)


class TimedStop(threading.Event):
    """The run loop's stop flag, whose waits between polls are timed as waiting."""

    def wait(self, timeout: float | None = None) -> bool:
        """Wait (timed)."""
        with timed("waiting"):
            return super().wait(timeout)


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
    w3 = connect(args.rpc, timeout=120)
    if timed:
        assert isinstance(w3.provider, HTTPProvider)
        instrument_provider(w3.provider)
    events: list[dict[str, object]] = []

    def record(event: AgentEvent) -> None:
        moment = {"t": time.monotonic(), "cpu": time.process_time()}
        events.append({**asdict(event), "step": event.step.value, **moment})

    print("ready", flush=True)
    start = json.loads(sys.stdin.readline())
    federation = Federation.at(w3, start["contract"], start["deploy_block"])
    store = open_bench_store(args.store)
    agent: MemberAgent
    if timed:
        instrument_core()
        agent = TimedAgent(federation, TimedStore(store), account, task, data, settings, record)
    else:
        agent = MemberAgent(federation, store, account, task, data, settings)
    stop = TimedStop() if timed else threading.Event()
    started = {"t": time.monotonic(), "cpu": time.process_time()}
    run_agent(agent, RunOptions(poll_interval=args.poll, until_round=args.rounds), stop)
    record_json = {
        "member": account.address,
        "started": started,
        "intervals": [asdict(i) for i in _intervals],
        "events": events,
    }
    args.out.write_text(json.dumps(record_json, default=str))


if __name__ == "__main__":
    main()

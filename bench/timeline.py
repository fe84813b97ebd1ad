"""A member's cost account: CPU and wall seconds by kind of work, bytes moved, RPCs sent.

A benchmark member process (:mod:`bench.member`) records one :class:`Interval` per timed
call, on whatever thread makes it. Timed calls nest (an aggregation contains the fetches
it makes; a step contains everything the agent does in it), so each interval carries its
*exclusive* wall and CPU seconds: its own, less those of the timed calls made inside it
on the same thread. CPU is the thread's own (``time.thread_time``), so work done on the
agent's fetch threads while the main thread waits is counted once, where it happened.
The exclusive seconds of every interval in a round then add up to the member's work in
it, and the process's own CPU clock, read at the round's ends, checks that they do.

The headline figure is the member overhead: (member CPU - training CPU) / training CPU.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

KINDS = (
    "train", "encode", "fetch", "decode", "aggregate", "upload",
    "read", "tx", "agent", "waiting",
)  # fmt: skip
"""Kinds of work in report order: training (the task's ``fit``); the delta, its encoding
and the base's decoding (the rest of making an update); blob fetches (with hashing);
decoding and validating updates; aggregation (rule and encoding of the result); blob
uploads; chain reads and transactions (JSON-RPC requests, by method); the agent's own
logic and web3's encoding and decoding around requests; and waiting between polls."""

TX_METHODS = frozenset(
    {
        "eth_sendRawTransaction",
        "eth_getTransactionReceipt",
        "eth_getTransactionCount",
        "eth_estimateGas",
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
        "eth_feeHistory",
    }
)
"""JSON-RPC methods that only sending a transaction needs; every other one is a read."""


def rpc_kind(method: str) -> str:
    """Say whether a JSON-RPC request is part of a transaction (``tx``) or a ``read``."""
    return "tx" if method in TX_METHODS else "read"


@dataclass(frozen=True)
class Interval:
    """One timed call: kind, when (monotonic clock), exclusive seconds, bytes, RPC method."""

    kind: str
    start: float
    end: float
    wall: float  # exclusive: less the timed calls inside it on the same thread
    cpu: float  # exclusive thread CPU seconds
    bytes: int = 0  # blob bytes fetched (fetch) or uploaded (upload)
    method: str = ""  # JSON-RPC method (read and tx)


@dataclass(frozen=True)
class MemberAccount:
    """What one member spent in one round (from its previous vote to this one).

    ``cpu_total`` is the process's CPU clock over the round; ``cpu`` by kind should add
    up to it (``unaccounted`` is the difference: interpreter work outside any timed call).
    ``wall`` by kind is in thread-seconds: fetch threads work while the main one waits.
    """

    member: str
    round: int
    seconds: float
    cpu_total: float
    cpu: dict[str, float]
    wall: dict[str, float]
    uploaded: int
    downloaded: int
    requests: dict[str, int]

    @property
    def training_cpu(self) -> float:
        """CPU seconds of the task's training."""
        return self.cpu["train"]

    @property
    def overhead(self) -> float:
        """Member CPU beyond training, as a fraction of training CPU."""
        return (self.cpu_total - self.training_cpu) / self.training_cpu

    @property
    def unaccounted(self) -> float:
        """Process CPU seconds that no timed call accounts for."""
        return self.cpu_total - sum(self.cpu.values())


def account(
    member: str,
    round_number: int,
    intervals: Iterable[Interval],
    window: tuple[float, float],
    cpu_total: float,
) -> MemberAccount:
    """Sum the intervals that started in ``window`` (monotonic seconds) into an account."""
    start, end = window
    cpu = dict.fromkeys(KINDS, 0.0)
    wall = dict.fromkeys(KINDS, 0.0)
    moved = Counter[str]()
    requests = Counter[str]()
    for interval in intervals:
        if not start <= interval.start < end:
            continue
        cpu[interval.kind] += interval.cpu
        wall[interval.kind] += interval.wall
        moved[interval.kind] += interval.bytes
        if interval.method:
            requests[interval.method] += 1
    return MemberAccount(
        member=member,
        round=round_number,
        seconds=end - start,
        cpu_total=cpu_total,
        cpu=cpu,
        wall=wall,
        uploaded=moved["upload"],
        downloaded=moved["fetch"],
        requests=dict(requests.most_common()),
    )


def overhead_of(accounts: Iterable[MemberAccount]) -> float:
    """Member overhead of a group: their CPU beyond training over their training CPU."""
    listed = list(accounts)
    training = sum(a.training_cpu for a in listed)
    return (sum(a.cpu_total for a in listed) - training) / training

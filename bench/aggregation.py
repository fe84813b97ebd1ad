"""Aggregation throughput of each rule, against the memory-bandwidth floor of this machine.

Every member aggregates every round, reading all N updates; a rule can at best read them
as fast as memory delivers them. The floor is a numpy copy of the very same arrays (read
once, write once), measured in the same process right before each rule; the fastest of
those copies is the floor every rule is held to, so a busy moment on a shared machine
cannot lower it. Throughput is in GB/s of update bytes read (1 GB = 1e9 bytes); the goal
is at least half the floor. Each rule runs once untimed first: its compiled loops load
(or, on a fresh install, compile) then, as in a member's first round; the median's and
trimmed mean's loops are generated for the member count and compile then in every
process. That first call's seconds are reported apart (``first_call``).

Correctness checked while measuring: repeated runs of a rule give the same bytes (the
aggregate's sha256), since members vote on that digest.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np

from bench.models import parameter_count, synthetic_delta
from bench.stats import Timed, time_best
from daofed.learning.aggregation import MemberUpdate, parse_rule
from daofed.learning.model import ModelConfig
from daofed.storage import Weights, encode

RULES = ("fedavg", "median", "trimmed-mean:beta=0.2", "multi-krum:f=1,m=3")
GOAL_FRACTION = 0.5
"""A rule reaches at least half the copy floor."""


@dataclass(frozen=True)
class RuleThroughput:
    """One rule's speed, next to the floor measured on the same updates."""

    rule: str
    seconds: Timed
    gb_per_s: float
    floor_gb_per_s: float
    digest: str  # sha256 of the encoded aggregate, the same on every repeat

    @property
    def fraction_of_floor(self) -> float:
        """Throughput as a fraction of the copy floor."""
        return self.gb_per_s / self.floor_gb_per_s

    @property
    def meets_goal(self) -> bool:
        """At least :data:`GOAL_FRACTION` of the floor."""
        return self.fraction_of_floor >= GOAL_FRACTION


@dataclass(frozen=True)
class AggregationResult:
    """All rules on the same N updates of one model."""

    members: int
    parameters: int
    update_bytes: int  # bytes of all N updates together
    floor: Timed
    floor_gb_per_s: float
    rules: tuple[RuleThroughput, ...]
    first_call: dict[str, float]  # seconds of each rule's untimed first call


def make_updates(cfg: ModelConfig, members: int) -> list[MemberUpdate]:
    """``members`` synthetic updates of model ``cfg`` with distinct addresses and sizes."""
    return [
        MemberUpdate(f"0x{i + 1:040x}", 100 + i, synthetic_delta(cfg, seed=i))
        for i in range(members)
    ]


def copy_floor(updates: list[MemberUpdate], repeats: int) -> Timed:
    """Time copying every update array into preallocated arrays: one read, one write."""
    targets = [{name: np.empty_like(a) for name, a in u.delta.items()} for u in updates]

    def copy_all() -> None:
        for update, target in zip(updates, targets, strict=True):
            for name, array in update.delta.items():
                np.copyto(target[name], array)

    copy_all()  # fault the targets' pages in, so the timing sees bandwidth only
    timed, _ = time_best(copy_all, repeats)
    return timed


def measure_aggregation(
    cfg: ModelConfig, members: int, repeats: int, rules: tuple[str, ...] = RULES
) -> AggregationResult:
    """Measure each rule and the floor just before it, on the same ``members`` updates."""
    updates = make_updates(cfg, members)
    total = sum(a.nbytes for u in updates for a in u.delta.values())
    floors: list[Timed] = []
    first_call: dict[str, float] = {}
    timings: list[tuple[str, Timed, str]] = []
    for spec in rules:
        rule = parse_rule(spec)
        start = time.perf_counter()
        first = rule.aggregate(updates)
        first_call[spec] = time.perf_counter() - start
        floors.append(copy_floor(updates, repeats))
        timed, outputs = time_best(lambda rule=rule: rule.aggregate(updates), repeats)  # type: ignore[misc]
        digests = {_digest(out) for out in [first, *outputs]}
        if len(digests) != 1:
            raise AssertionError(f"{spec} gave {len(digests)} different aggregates on repeats")
        timings.append((spec, timed, digests.pop()))
    floor = min(floors, key=lambda timed: timed.best) if floors else copy_floor(updates, repeats)
    floor_rate = total / floor.best / 1e9
    results = tuple(
        RuleThroughput(spec, timed, total / timed.best / 1e9, floor_rate, digest)
        for spec, timed, digest in timings
    )
    return AggregationResult(
        members, parameter_count(cfg), total, floor, floor_rate, results, first_call
    )


def _digest(weights: Weights) -> str:
    return hashlib.sha256(encode(weights)).hexdigest()

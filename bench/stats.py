"""Small numeric helpers every benchmark shares: repeated timing and summaries.

Timings take the best of several repeats: on a shared machine noise only ever adds time,
so the minimum is the closest estimate of what the code itself costs.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Timed:
    """Best and median wall time of repeated runs of one call, in seconds."""

    best: float
    median: float
    repeats: int


def time_best(call: Callable[[], T], repeats: int) -> tuple[Timed, list[T]]:
    """Run ``call`` ``repeats`` times; return its timing and every result (for checks)."""
    times: list[float] = []
    results: list[T] = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        results.append(call())
        times.append(time.perf_counter() - start)
    return Timed(min(times), statistics.median(times), len(times)), results


@dataclass(frozen=True)
class Spread:
    """Minimum, median and maximum of some measured values (gas, seconds)."""

    count: int
    low: float
    median: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """Summarise ``values`` (at least one)."""
        return cls(len(values), min(values), statistics.median(values), max(values))


def ratio_gap(value: float, goal: float) -> float:
    """How far ``value`` is over ``goal`` as a fraction of it (negative: under)."""
    return value / goal - 1.0

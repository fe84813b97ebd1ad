"""Where a member's time went: intervals recorded by a member process, split by kind.

A member agent is single-threaded, so its intervals nest and never partly overlap: a
``local_update`` (fetch base, train, encode) or an ``aggregate`` (fetch updates, decode,
aggregate, encode) contains the store and RPC calls made inside it. The leaf kinds are
counted whole and the compound ones net of the leaves inside them, so the kinds add up to
the time the member was busy; the rest of the round it was waiting (polling sleeps).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LEAVES = ("get", "put", "rpc")
COMPOUND = {"local_update": "train", "aggregate": "aggregate"}
KINDS = ("train", "aggregate", "get", "put", "rpc")
"""Busy kinds in report order: training (+ delta + encode), aggregation (decode, rule,
encode), store fetches, store uploads, and chain RPC (views, transactions, receipts)."""


@dataclass(frozen=True)
class Interval:
    """One recorded call: its kind and its start and end on the monotonic clock."""

    kind: str
    start: float
    end: float


def _clip(interval: Interval, start: float, end: float) -> float:
    return max(0.0, min(interval.end, end) - max(interval.start, start))


def busy_seconds(intervals: Sequence[Interval], start: float, end: float) -> dict[str, float]:
    """Seconds of each busy kind within the window [start, end) (see the module docstring)."""
    totals = dict.fromkeys(KINDS, 0.0)
    leaves = [i for i in intervals if i.kind in LEAVES]
    for leaf in leaves:
        totals[leaf.kind] += _clip(leaf, start, end)
    for outer in (i for i in intervals if i.kind in COMPOUND):
        inner = sum(
            _clip(leaf, max(start, outer.start), min(end, outer.end))
            for leaf in _within(leaves, outer)
        )
        totals[COMPOUND[outer.kind]] += max(0.0, _clip(outer, start, end) - inner)
    return totals


def _within(leaves: Iterable[Interval], outer: Interval) -> Iterable[Interval]:
    return (leaf for leaf in leaves if leaf.start >= outer.start and leaf.end <= outer.end)

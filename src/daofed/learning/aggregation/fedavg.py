"""FedAvg: the sample-weighted mean of updates.

McMahan, Moore, Ramage, Hampson, Agüera y Arcas. "Communication-Efficient Learning of
Deep Networks from Decentralized Data", AISTATS 2017 (arXiv:1602.05629).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from daofed.learning.aggregation.base import AggregationRule, MemberUpdate, sorted_updates
from daofed.learning.aggregation.numeric import to_float32
from daofed.learning.weights import Weights

BLOCK = 1 << 16
"""Elements per block: the accumulator and scratch block (1 MiB of float64) stay in cache."""


def fedavg(updates: Sequence[MemberUpdate]) -> Weights:
    """``sum_i n_i * delta_i / sum_i n_i`` per element.

    Accumulated in float64, member by member in sorted-member order, so the additions
    happen in the same order everywhere; the division and the float32 cast are single
    correctly rounded operations. Working block by block changes only which elements are
    done when, never the operations on any one element, so the bytes are the same as a
    whole-array loop's; it saves the full-size temporaries and keeps the data in cache.
    """
    ordered = sorted_updates(updates)
    total = float(sum(u.num_samples for u in ordered))  # exact: integers below 2**53
    weights = [float(u.num_samples) for u in ordered]
    result: Weights = {}
    for name in sorted(ordered[0].delta):
        shape = ordered[0].delta[name].shape
        flats = [np.ascontiguousarray(u.delta[name]).reshape(-1) for u in ordered]
        acc = np.zeros(flats[0].size, dtype=np.float64)
        scratch = np.empty(min(BLOCK, acc.size), dtype=np.float64)
        for start in range(0, acc.size, BLOCK):
            block = acc[start : start + BLOCK]
            term = scratch[: block.size]
            for flat, weight in zip(flats, weights, strict=True):
                np.multiply(flat[start : start + BLOCK], weight, out=term, dtype=np.float64)
                block += term
        acc /= total
        result[name] = to_float32(acc.reshape(shape))
    return result


@dataclass(frozen=True)
class FedAvg(AggregationRule):
    """Sample-weighted mean. Not robust: one member can move the model anywhere."""

    name: ClassVar[str] = "fedavg"

    @property
    def spec(self) -> str:
        """Canonical spec: ``fedavg``."""
        return self.name

    def aggregate(self, updates: Sequence[MemberUpdate]) -> Weights:
        """See :func:`fedavg`."""
        return fedavg(updates)

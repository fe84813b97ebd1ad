"""Coordinate-wise median of updates.

Yin, Chen, Ramchandran, Bartlett. "Byzantine-Robust Distributed Learning: Towards
Optimal Statistical Rates", ICML 2018 (arXiv:1803.01498).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from daofed.learning.aggregation.base import (
    AggregationRule,
    MemberUpdate,
    sorted_updates,
    stacked,
)
from daofed.learning.aggregation.numeric import to_float32
from daofed.learning.weights import Weights


def median(updates: Sequence[MemberUpdate]) -> Weights:
    """Per element, the middle value; for an even count, the mean of the two middle ones.

    Unweighted on purpose: sample counts are self-reported, and weighting by them would
    let one member outvote the rest. Sorting is exact; the only arithmetic is
    ``(a + b) / 2`` in float64, and ``to_float32`` makes the sign of zero canonical.
    """
    ordered = sorted_updates(updates)
    n = len(ordered)
    result: Weights = {}
    for name in sorted(ordered[0].delta):
        values = np.sort(stacked(ordered, name), axis=0)
        odd = n % 2 == 1
        middle = values[n // 2] if odd else (values[n // 2 - 1] + values[n // 2]) / 2.0
        result[name] = to_float32(middle)
    return result


@dataclass(frozen=True)
class Median(AggregationRule):
    """Coordinate-wise median: robust while fewer than half the updates are bad."""

    name: ClassVar[str] = "median"

    @property
    def spec(self) -> str:
        """Canonical spec: ``median``."""
        return self.name

    def aggregate(self, updates: Sequence[MemberUpdate]) -> Weights:
        """See :func:`median`."""
        return median(updates)

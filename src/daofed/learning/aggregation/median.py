"""Coordinate-wise median of updates.

Yin, Chen, Ramchandran, Bartlett. "Byzantine-Robust Distributed Learning: Towards
Optimal Statistical Rates", ICML 2018 (arXiv:1803.01498).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from daofed.learning.aggregation.base import (
    AggregationRule,
    MemberUpdate,
    non_finite_error,
    sorted_updates,
)
from daofed.learning.aggregation.kernels import NonFiniteRows, kept_mean
from daofed.learning.weights import Weights


def median(updates: Sequence[MemberUpdate]) -> Weights:
    """Per element, the middle value; for an even count, the mean of the two middle ones.

    Unweighted on purpose: sample counts are self-reported, and weighting by them would
    let one member outvote the rest. Sorting is exact; the only arithmetic is
    ``(a + b) / 2`` in float64, and the canonical sign of zero of
    :func:`.kernels.kept_mean`.
    """
    ordered = sorted_updates(updates)
    lo = (len(ordered) - 1) // 2
    hi = len(ordered) - lo
    try:
        return {
            name: kept_mean([u.delta[name] for u in ordered], lo, hi)
            for name in sorted(ordered[0].delta)
        }
    except NonFiniteRows:
        raise non_finite_error(ordered) from None


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

"""FedAvg: the sample-weighted mean of updates.

McMahan, Moore, Ramage, Hampson, Agüera y Arcas. "Communication-Efficient Learning of
Deep Networks from Decentralized Data", AISTATS 2017 (arXiv:1602.05629).
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
from daofed.learning.aggregation.kernels import NonFiniteRows, weighted_mean
from daofed.learning.weights import Weights


def fedavg(updates: Sequence[MemberUpdate]) -> Weights:
    """``sum_i n_i * delta_i / sum_i n_i`` per element.

    Accumulated in float64, member by member in sorted-member order, so the additions
    happen in the same order everywhere; the division and the float32 cast are single
    correctly rounded operations (:func:`.kernels.weighted_mean`).
    """
    ordered = sorted_updates(updates)
    total = float(sum(u.num_samples for u in ordered))  # exact: integers below 2**53
    weights = [float(u.num_samples) for u in ordered]
    try:
        return {
            name: weighted_mean([u.delta[name] for u in ordered], weights, total)
            for name in sorted(ordered[0].delta)
        }
    except NonFiniteRows:
        raise non_finite_error(ordered) from None


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

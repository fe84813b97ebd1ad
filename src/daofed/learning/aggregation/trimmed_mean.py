"""Coordinate-wise trimmed mean of updates.

Yin, Chen, Ramchandran, Bartlett. "Byzantine-Robust Distributed Learning: Towards
Optimal Statistical Rates", ICML 2018 (arXiv:1803.01498).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

from daofed.errors import LearningError
from daofed.learning.aggregation.base import (
    AggregationRule,
    MemberUpdate,
    non_finite_error,
    sorted_updates,
)
from daofed.learning.aggregation.kernels import NonFiniteRows, kept_mean
from daofed.learning.weights import Weights


def trim_count(beta: float, n: int) -> int:
    """How many values are cut from *each* end: ``floor(beta * n)``.

    ``beta`` is read as the decimal it is written as (``Fraction(repr(beta))``), so
    ``0.3 * 10`` trims 3 and never 2 through binary rounding.
    """
    return math.floor(Fraction(repr(float(beta))) * n)


def check_beta(beta: float) -> None:
    """Raise unless ``0 <= beta < 0.5`` (at least one value must survive trimming)."""
    if not (math.isfinite(beta) and 0.0 <= beta < 0.5):
        raise LearningError(
            f"trimmed-mean beta must be in [0, 0.5), got {beta}; e.g. trimmed-mean:beta=0.2"
        )


def trimmed_mean(updates: Sequence[MemberUpdate], beta: float) -> Weights:
    """Per element, drop the ``floor(beta * n)`` largest and smallest values, average the rest.

    Unweighted, like the median. The kept values are summed in sorted-value order in
    float64, then divided once (:func:`.kernels.kept_mean`).
    """
    check_beta(beta)
    ordered = sorted_updates(updates)
    n = len(ordered)
    k = trim_count(beta, n)
    try:
        return {
            name: kept_mean([u.delta[name] for u in ordered], k, n - k)
            for name in sorted(ordered[0].delta)
        }
    except NonFiniteRows:
        raise non_finite_error(ordered) from None


@dataclass(frozen=True)
class TrimmedMean(AggregationRule):
    """Coordinate-wise ``beta``-trimmed mean: robust to ``floor(beta * n)`` bad updates."""

    beta: float
    name: ClassVar[str] = "trimmed-mean"

    def __post_init__(self) -> None:
        check_beta(self.beta)

    @property
    def spec(self) -> str:
        """Canonical spec, e.g. ``trimmed-mean:beta=0.2``."""
        return f"{self.name}:beta={float(self.beta)!r}"

    def aggregate(self, updates: Sequence[MemberUpdate]) -> Weights:
        """See :func:`trimmed_mean`."""
        return trimmed_mean(updates, self.beta)

"""Krum and Multi-Krum: keep the updates closest to their neighbours, average those.

Krum: Blanchard, El Mhamdi, Guerraoui, Stainer. "Machine Learning with Adversaries:
Byzantine Tolerant Gradient Descent", NeurIPS 2017.
Multi-Krum (average of the ``m`` best-scored updates): El Mhamdi, Guerraoui, Rouault.
"The Hidden Vulnerability of Distributed Learning in Byzantium", ICML 2018
(arXiv:1802.07927). Krum is Multi-Krum with ``m = 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from daofed.errors import LearningError
from daofed.learning.aggregation.base import (
    AggregationRule,
    MemberUpdate,
    non_finite_error,
    sorted_updates,
)
from daofed.learning.aggregation.kernels import NonFiniteRows, pair_distances, weighted_mean
from daofed.learning.weights import Weights


def check_krum(f: int, m: int) -> None:
    """Raise unless ``f >= 0`` and ``m >= 1``."""
    if f < 0 or m < 1:
        raise LearningError(
            f"multi-krum needs f >= 0 and m >= 1, got f={f}, m={m}; e.g. multi-krum:f=1,m=3"
        )


def krum_min_updates(f: int, m: int) -> int:
    """Fewest updates Multi-Krum accepts: ``n > 2f + 2`` (Krum's bound) and ``n >= m + f``."""
    return max(2 * f + 3, m + f)


def krum_scores(updates: Sequence[MemberUpdate], f: int) -> list[float]:
    """Krum score of each update, in the given order.

    An update's score is the sum of squared distances to its ``n - f - 2`` nearest
    other updates, over all tensors together.

    Distances sum in a fixed order over the tensors in sorted name order
    (:func:`.kernels.pair_distances`) and each score adds its neighbours' distances in
    ascending order, so scores are bit-exact.
    """
    dist = pair_distances([[u.delta[name] for name in sorted(u.delta)] for u in updates])
    n = len(updates)
    neighbours = n - f - 2
    scores = []
    for i in range(n):
        score = 0.0
        for d in sorted(float(dist[i, j]) for j in range(n) if j != i)[:neighbours]:
            score += d
        scores.append(score)
    return scores


def multi_krum(updates: Sequence[MemberUpdate], f: int, m: int) -> Weights:
    """Average (unweighted) of the ``m`` updates with the lowest Krum scores.

    ``f`` is the number of Byzantine members tolerated. Ties in score go to the lower
    member address. Unweighted, as in El Mhamdi et al.: self-reported sample counts
    must not buy influence in a robust rule.
    """
    check_krum(f, m)
    ordered = sorted_updates(updates)
    n = len(ordered)
    if n < krum_min_updates(f, m):
        raise LearningError(
            f"multi-krum:f={f},m={m} needs at least {krum_min_updates(f, m)} updates "
            f"(n > 2f+2 and n >= m+f), got {n}; lower f or m, or wait for more members"
        )
    try:
        scores = krum_scores(ordered, f)
    except NonFiniteRows:
        raise non_finite_error(ordered) from None
    best = sorted(sorted(range(n), key=lambda i: (scores[i], i))[:m])
    return {
        name: weighted_mean([ordered[i].delta[name] for i in best], [1.0] * m, float(m))
        for name in sorted(ordered[0].delta)
    }


def krum(updates: Sequence[MemberUpdate], f: int) -> Weights:
    """Return the single update with the lowest Krum score (Multi-Krum with ``m = 1``)."""
    return multi_krum(updates, f, 1)


@dataclass(frozen=True)
class MultiKrum(AggregationRule):
    """Multi-Krum with ``f`` tolerated Byzantine members, averaging the ``m`` best updates."""

    f: int
    m: int = 1
    name: ClassVar[str] = "multi-krum"

    def __post_init__(self) -> None:
        check_krum(self.f, self.m)

    @property
    def spec(self) -> str:
        """Canonical spec: ``krum:f=1`` when ``m == 1``, else ``multi-krum:f=1,m=3``."""
        if self.m == 1:
            return f"krum:f={self.f}"
        return f"{self.name}:f={self.f},m={self.m}"

    @property
    def min_updates(self) -> int:
        """``max(2f + 3, m + f)``."""
        return krum_min_updates(self.f, self.m)

    def aggregate(self, updates: Sequence[MemberUpdate]) -> Weights:
        """See :func:`multi_krum`."""
        return multi_krum(updates, self.f, self.m)

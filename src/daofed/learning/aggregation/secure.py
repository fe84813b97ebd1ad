"""FedAvg in private rounds: ``fedavg:secagg=<threshold>``, the rule that switches SecAgg on.

Secure aggregation (:mod:`daofed.secagg`, docs/privacy.md) hides each member's update and
reveals only the sum, computed in fixed point modulo 2^64 so that masks cancel exactly.
The rule in force says whether a round is private, so the federation governs it by
proposal like any other rule, and the threshold (how many Shamir shares rebuild a
member's secret: fewer colluders learn nothing about one update) travels with it.

What the round yields is not float FedAvg but :func:`daofed.secagg.fixed_point_fedavg`:
the FedAvg of the quantised updates, one rounding per coordinate. :meth:`aggregate` on the
plaintext updates returns exactly that, byte for byte, so a private round's unmasked
aggregate and this rule agree wherever both can run (tests, simulations, benchmarks).
The server step is plain FedAvg's: the next model is ``base + delta``.

Only FedAvg can run on masked updates: the robust rules and server-side clipping need
each member's update, and compression cannot carry fixed-point integers;
:func:`daofed.learning.aggregation.registry.parse_rule` refuses those combinations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from daofed.errors import LearningError
from daofed.learning.aggregation.base import AggregationRule, MemberUpdate
from daofed.learning.weights import Weights

MIN_THRESHOLD = 2
"""With a threshold of 1, any single member could rebuild any other's mask secrets."""

MAX_THRESHOLD = 0xFFFF
"""A round has at most this many members (their count travels as two bytes)."""


def check_threshold(threshold: int) -> None:
    """Raise :class:`LearningError` unless ``threshold`` is a whole number in 2..65535."""
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise LearningError(f"secagg must be a whole number (the threshold), got {threshold!r}")
    if threshold < MIN_THRESHOLD:
        raise LearningError(
            f"secagg={threshold}: the threshold must be at least {MIN_THRESHOLD}, or any single "
            "member could unmask another's update; a majority of the members is usual"
        )
    if threshold > MAX_THRESHOLD:
        raise LearningError(
            f"secagg={threshold}: the threshold cannot exceed the members of a round "
            f"(at most {MAX_THRESHOLD})"
        )


@dataclass(frozen=True)
class SecureFedAvg(AggregationRule):
    """FedAvg over secure aggregation with Shamir threshold ``threshold``.

    Not a subclass of :class:`~daofed.learning.aggregation.fedavg.FedAvg` on purpose: code
    that asks ``isinstance(rule, FedAvg)`` means plain rounds, and a private round must be
    told apart (:attr:`secure_threshold`).
    """

    threshold: int
    name: ClassVar[str] = "fedavg"

    def __post_init__(self) -> None:
        check_threshold(self.threshold)

    @property
    def spec(self) -> str:
        """Canonical spec: ``fedavg:secagg=<threshold>``, e.g. ``fedavg:secagg=3``."""
        return f"{self.name}:secagg={self.threshold}"

    @property
    def secure_threshold(self) -> int:
        """``threshold``: this rule's rounds are private."""
        return self.threshold

    @property
    def min_updates(self) -> int:
        """``threshold``: fewer masked updates cannot be unmasked.

        The secure protocol refuses to unmask fewer submitters than the threshold (a sum
        of so few could single out one member's update), so the model stays as it was, as
        under any rule short of updates.
        """
        return self.threshold

    def aggregate(self, updates: Sequence[MemberUpdate]) -> Weights:
        """:func:`daofed.secagg.fixed_point_fedavg` of ``updates``: what unmasking yields.

        Same checks as every rule (one update per member, same tensors, float32); NaN,
        infinity or a sample total the fixed-point sum cannot carry raise a
        :class:`~daofed.secagg.SecAggError` (a :class:`LearningError`) with the reason.
        """
        # daofed.secagg builds on this package (MemberUpdate, sorted_updates): importing it
        # here, when a private rule aggregates, keeps the import graph free of a cycle.
        from daofed.secagg.fixedpoint import fixed_point_fedavg

        return fixed_point_fedavg(updates)

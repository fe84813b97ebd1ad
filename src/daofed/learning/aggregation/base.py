"""What every aggregation rule shares: the update value, the rule interface, input checks.

Modelled on Flower's strategies: a small abstract base, one rule per module, and the
arithmetic in pure functions (updates in, arrays out) that are trivial to test.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from daofed.errors import LearningError
from daofed.learning.aggregation.delta import apply_delta
from daofed.learning.compression import Compression
from daofed.learning.weights import Weights, check_layout


@dataclass(frozen=True, eq=False)
class MemberUpdate:
    """One member's contribution to a round.

    ``delta`` is ``local_weights - base_weights`` (float32 arrays by tensor name);
    ``num_samples`` is the self-reported size of the member's training set (FedAvg
    weights by it; robust rules ignore it, since a liar could buy weight with it).
    """

    member: str
    num_samples: int
    delta: Weights

    def __post_init__(self) -> None:
        if not isinstance(self.member, str) or not self.member:
            raise LearningError("an update needs the member's address")
        if isinstance(self.num_samples, bool) or not isinstance(self.num_samples, int):
            raise LearningError(f"num_samples must be an int, got {self.num_samples!r}")
        if self.num_samples < 1:
            raise LearningError(
                f"update from {self.member} claims {self.num_samples} samples; must be >= 1"
            )


class AggregationRule(ABC):
    """Turns a round's member updates into one aggregated delta.

    Implementations are pure and deterministic: the result depends only on the set of
    updates (not on their order) and is bit-identical on every machine, because every
    honest member computes it independently and votes for its sha256 digest.
    """

    name: ClassVar[str]

    @property
    @abstractmethod
    def spec(self) -> str:
        """Canonical spec string; ``parse_rule(rule.spec) == rule``."""

    @property
    def min_updates(self) -> int:
        """Fewest updates this rule can aggregate."""
        return 1

    @property
    def compression(self) -> Compression:
        """How members encode their updates while this rule is in force (``compress=``)."""
        return Compression.NONE

    @property
    def proximal_mu(self) -> float:
        """FedProx's mu for members' local training while this rule is in force (``prox=``)."""
        return 0.0

    @property
    def secure_threshold(self) -> int | None:
        """Shamir threshold of the rounds this rule governs if they are private, else None.

        A private round (``fedavg:secagg=<threshold>``, :mod:`.secure`) runs another
        protocol: members publish masked updates and recovery shares instead of plain
        updates, and the aggregate comes from unmasking their sum. Members, the agent and
        the audit ask this one property which protocol a round follows (and how many
        shares rebuild a secret), rather than inspecting the rule's type.
        """
        return None

    @abstractmethod
    def aggregate(self, updates: Sequence[MemberUpdate]) -> Weights:
        """Aggregate ``updates`` (any order) into one float32 delta."""

    def server_step(self, base: Weights, state: Weights, delta: Weights) -> tuple[Weights, Weights]:
        """Return the next global model and server state from the aggregated ``delta``.

        ``state`` is the server state the base model's blob carries. Plain rules add the
        delta and keep no state; server optimisers (:mod:`.server`) override this.
        """
        return apply_delta(base, delta), {}

    def __str__(self) -> str:
        return self.spec


@dataclass(frozen=True)
class RuleWrapper(AggregationRule):
    """A modifier (``clip=``, ``prox=``, ``compress=``) around ``inner``: all else is inner's."""

    inner: AggregationRule

    @property
    def min_updates(self) -> int:
        """Same as the inner rule."""
        return self.inner.min_updates

    @property
    def compression(self) -> Compression:
        """Same as the inner rule."""
        return self.inner.compression

    @property
    def proximal_mu(self) -> float:
        """Same as the inner rule."""
        return self.inner.proximal_mu

    @property
    def secure_threshold(self) -> int | None:
        """Same as the inner rule."""
        return self.inner.secure_threshold

    def aggregate(self, updates: Sequence[MemberUpdate]) -> Weights:
        """``inner.aggregate``."""
        return self.inner.aggregate(updates)

    def server_step(self, base: Weights, state: Weights, delta: Weights) -> tuple[Weights, Weights]:
        """``inner.server_step``."""
        return self.inner.server_step(base, state, delta)

    def _with(self, key: str, value: str) -> str:
        """Append ``key=value`` to the inner spec: the wrappers' canonical spec."""
        inner = self.inner.spec
        return f"{inner}{',' if ':' in inner else ':'}{key}={value}"


def sorted_updates(updates: Sequence[MemberUpdate]) -> list[MemberUpdate]:
    """Check ``updates`` are aggregatable and return them sorted by lower-case member.

    Sorting here, whatever the caller did, makes every rule independent of input order.
    Checks: at least one update, no member twice, identical tensor names and shapes,
    float32. Finiteness is checked by the rules' loops as they read each value (a pass
    of its own would cost as much as the aggregation); :func:`non_finite_error` then
    names the culprit.
    """
    if not updates:
        raise LearningError("no updates to aggregate; wait for submissions or close the round")
    ordered = sorted(updates, key=lambda u: u.member.lower())
    for before, after in itertools.pairwise(ordered):
        if before.member.lower() == after.member.lower():
            raise LearningError(
                f"two updates from {after.member}; keep one update per member per round"
            )
    reference = ordered[0].delta
    if not reference:
        raise LearningError(f"update from {ordered[0].member} has no tensors")
    for update in ordered:
        what = f"update from {update.member}"
        check_layout(reference, update.delta, what)
        for name in sorted(update.delta):
            array = update.delta[name]
            if array.dtype != np.float32:
                raise LearningError(
                    f"{what}: tensor {name!r} is {array.dtype}; deltas must be float32"
                )
    return ordered


def non_finite_error(updates: Sequence[MemberUpdate]) -> LearningError:
    """Build the error naming the first update and tensor that hold NaN or infinity."""
    for update in sorted(updates, key=lambda u: u.member.lower()):
        for name in sorted(update.delta):
            if not np.isfinite(update.delta[name]).all():
                return LearningError(
                    f"update from {update.member}: tensor {name!r} has NaN or infinity; "
                    "drop invalid updates before aggregating"
                )
    return LearningError("an aggregate came out non-finite from finite updates")

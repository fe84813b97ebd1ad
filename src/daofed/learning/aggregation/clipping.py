"""Norm clipping: scale every update down to an L2 norm of at most ``max_norm``.

Sun, Kairouz, Suresh, McMahan. "Can You Really Backdoor Federated Learning?",
arXiv:1911.07963, 2019. Clipping bounds how far any single member can pull the model
per round, which blunts boosted (model-replacement) backdoor updates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from daofed.errors import LearningError
from daofed.learning.aggregation.base import (
    MemberUpdate,
    RuleWrapper,
    non_finite_error,
    sorted_updates,
)
from daofed.learning.aggregation.numeric import l2_norm
from daofed.learning.weights import Weights


def check_max_norm(max_norm: float) -> None:
    """Raise unless ``max_norm`` is a positive finite number."""
    if not (math.isfinite(max_norm) and max_norm > 0):
        raise LearningError(f"clip must be a positive number, got {max_norm}; e.g. clip=1.0")


def clip_update(update: MemberUpdate, max_norm: float) -> MemberUpdate:
    """``update`` scaled by ``min(1, max_norm / ||delta||)`` (whole-model L2 norm).

    The norm is order-fixed (:func:`l2_norm`) and the scaling elementwise in float64, so
    the clipped update is bit-exact. After rounding to float32 the norm may exceed
    ``max_norm`` by a few parts in 10^7.
    """
    check_max_norm(max_norm)
    norm = l2_norm(update.delta)
    if not math.isfinite(norm):  # finite float32 values cannot overflow the float64 norm
        raise non_finite_error([update])
    if norm <= max_norm:
        return update
    scale = max_norm / norm
    delta = {
        name: (array.astype(np.float64) * scale).astype(np.float32)
        for name, array in update.delta.items()
    }
    return MemberUpdate(member=update.member, num_samples=update.num_samples, delta=delta)


def clip_updates(updates: Sequence[MemberUpdate], max_norm: float) -> list[MemberUpdate]:
    """Validate, sort by member and clip every update (see :func:`clip_update`)."""
    return [clip_update(u, max_norm) for u in sorted_updates(updates)]


@dataclass(frozen=True)
class Clipped(RuleWrapper):
    """Clip every update to ``max_norm``, then aggregate with ``inner``.

    Wraps the rule itself (a server optimiser included) and is wrapped by ``prox`` and
    ``compress``, so that each rule has one spec.
    """

    max_norm: float
    name: ClassVar[str] = "clip"

    def __post_init__(self) -> None:
        check_max_norm(self.max_norm)
        if isinstance(self.inner, RuleWrapper):
            raise LearningError(
                "clip wraps the rule itself, inside prox and compress, once; use parse_rule"
            )

    @property
    def spec(self) -> str:
        """Inner spec plus ``clip``: ``fedavg:clip=1.0``, ``multi-krum:f=1,m=3,clip=1.0``."""
        return self._with("clip", repr(float(self.max_norm)))

    def aggregate(self, updates: Sequence[MemberUpdate]) -> Weights:
        """Clip each update, then ``inner.aggregate``."""
        return self.inner.aggregate(clip_updates(updates, self.max_norm))

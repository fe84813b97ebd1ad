"""Optional local differential privacy for a member's update: clip, add Gaussian noise.

A member's own choice (not governed): before upload, the update is clipped to L2 norm
``C`` and Gaussian noise ``N(0, (sigma * C)^2)`` is added to every coordinate — the
Gaussian mechanism as used for DP-SGD by Abadi, Chu, Goodfellow, McMahan, Mironov, Talwar,
Zhang, "Deep Learning with Differential Privacy", CCS 2016 (arXiv:1607.00133), applied
here to the whole update as in DP-FedAvg (McMahan, Ramage, Talwar, Zhang, "Learning
Differentially Private Recurrent Language Models", ICLR 2018), but by the member itself,
so nobody else ever sees the un-noised update.

The privacy loss is tracked in Rényi DP (Mironov, "Rényi Differential Privacy", CSF 2017,
arXiv:1702.07476) with Opacus's ``RDPAccountant`` and converted to ``(epsilon, delta)``.
Accounting assumptions, stated plainly:

- One release per round, computed from the member's *whole* local data set: one
  accountant step with sample rate 1 (no amplification by subsampling) and noise
  multiplier ``sigma``. Rounds compose; ``rounds`` counts every round whose update was
  released with these settings. An update released without noise (before the member
  turned DP on) is not protected at all, whatever epsilon says.
- Sensitivity. After clipping, the update lies in a ball of radius ``C``.
  :attr:`Adjacency.ADD_REMOVE` (the DP-FedAvg convention, and what Opacus assumes) bounds
  what an observer learns about *whether this member's data contributed* — the update
  against a zero update — with sensitivity ``C``, i.e. noise multiplier ``sigma``.
  :attr:`Adjacency.REPLACE` covers *any* change to the member's data, records or the
  whole set: two clipped updates can be ``2C`` apart, so the effective noise multiplier
  is ``sigma / 2`` and epsilon is much larger. No per-record bound is tighter here,
  because the update is clipped as a whole, not per example (unlike DP-SGD).
- The noise must be secret: whoever can regenerate it can subtract it. The agent seeds
  it from the member's private key (:func:`noise_seed`), not from its training seed.
- Floating-point sampling is not an exact Gaussian (Mironov, "On Significance of the
  Least Significant Bits for Differential Privacy", CCS 2012); this is not corrected.
- The sample count a member submits on chain is public and not protected.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from daofed.errors import LearningError
from daofed.extras import require
from daofed.learning.aggregation.numeric import l2_norm
from daofed.learning.weights import Weights

_NOISE_DOMAIN = b"daofed local-dp noise v1"

_EXTRA_ORDERS = (
    *(1 + x / 100 for x in range(1, 10)),
    *(64, 80, 96, 128, 192, 256, 384, 512, 1024),
)
"""Rényi orders tried beyond Opacus's defaults (1.1 .. 63): near 1 for small sigma, large
ones for large sigma, so the best order is not at the edge of the range (a tighter bound)."""


class Adjacency(StrEnum):
    """Which pairs of a member's data sets the reported epsilon distinguishes."""

    ADD_REMOVE = "add-remove"  # the member's update vs none: sensitivity C
    REPLACE = "replace"  # any two data sets of the member: sensitivity 2C


@dataclass(frozen=True)
class PrivacySettings:
    """Local DP of one member: clip norm ``clip`` (C), noise multiplier ``noise`` (sigma).

    ``delta`` is the delta at which epsilon is reported (conventionally well below one
    over the number of records).
    """

    clip: float
    noise: float
    delta: float = 1e-5

    def __post_init__(self) -> None:
        if not (math.isfinite(self.clip) and self.clip > 0):
            raise LearningError(f"DP clip norm must be a positive number, got {self.clip}")
        if not (math.isfinite(self.noise) and self.noise > 0):
            raise LearningError(
                f"DP noise multiplier must be a positive number, got {self.noise}; "
                "without noise there is no privacy (drop the DP options instead)"
            )
        if not 0 < self.delta < 1:
            raise LearningError(f"DP delta must be in (0, 1), got {self.delta}; e.g. 1e-5")

    @property
    def noise_std(self) -> float:
        """Standard deviation of the noise on each coordinate: ``sigma * C``."""
        return self.noise * self.clip


def clip_to_norm(delta: Weights, clip: float) -> Weights:
    """``delta`` scaled by ``min(1, clip / ||delta||)`` (whole-update L2 norm), float64 out."""
    norm = l2_norm(delta)
    factor = 1.0 if norm <= clip else clip / norm
    return {name: delta[name].astype(np.float64) * factor for name in sorted(delta)}


def privatize(delta: Weights, settings: PrivacySettings, seed: int) -> Weights:
    """Clip ``delta`` to ``settings.clip`` and add ``N(0, (sigma C)^2)`` noise; float32 out.

    The noise comes from numpy's PCG64 seeded by ``seed``, tensor by tensor in sorted name
    order, so the same seed gives the same bytes on the same machine and numpy version
    (what a restarted member needs to reproduce its committed update). Keep ``seed``
    secret: see :func:`noise_seed`.
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    clipped = clip_to_norm(delta, settings.clip)
    noisy: Weights = {}
    for name in sorted(clipped):
        noise = rng.standard_normal(clipped[name].shape) * settings.noise_std
        noisy[name] = (clipped[name] + noise).astype(np.float32)
    return noisy


def noise_seed(key: bytes, federation: str, round_number: int) -> int:
    """Return a 128-bit noise seed only ``key``'s holder can compute, per federation and round.

    HMAC-SHA256 of the federation's address and the round under the member's private key:
    unpredictable to everyone else (who could otherwise regenerate and subtract the noise),
    recomputable after a restart, and never reused across rounds or federations.
    """
    if round_number < 0:
        raise LearningError(f"round must be >= 0, got {round_number}")
    message = b"|".join(
        (_NOISE_DOMAIN, federation.lower().encode(), round_number.to_bytes(8, "big"))
    )
    return int.from_bytes(hmac.new(key, message, hashlib.sha256).digest()[:16], "big")


def epsilon(
    settings: PrivacySettings, rounds: int, adjacency: Adjacency = Adjacency.ADD_REMOVE
) -> float:
    """Epsilon at ``settings.delta`` after ``rounds`` releases, by Opacus's RDP accountant.

    Each round is one step with sample rate 1 and noise multiplier ``sigma`` (``sigma / 2``
    for :attr:`Adjacency.REPLACE`); see the module docstring for what that assumes.
    """
    if rounds < 0:
        raise LearningError(f"rounds must be >= 0, got {rounds}")
    if rounds == 0:
        return 0.0
    accountants = require("opacus.accountants", "dp", "the privacy accountant")  # ~3 s import
    RDPAccountant = accountants.RDPAccountant  # noqa: N806 (a class)
    multiplier = settings.noise / 2 if adjacency is Adjacency.REPLACE else settings.noise
    accountant = RDPAccountant()
    for _ in range(rounds):
        accountant.step(noise_multiplier=multiplier, sample_rate=1.0)
    orders = sorted({*RDPAccountant.DEFAULT_ALPHAS, *_EXTRA_ORDERS})
    return float(accountant.get_epsilon(delta=settings.delta, alphas=orders))

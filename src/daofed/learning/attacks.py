"""Poisoning attacks by malicious members, and federated rounds with attackers in them.

The robust aggregation rules claim to keep training the right model while some members
send bad updates; this module makes the bad updates so that claim can be measured
(``scripts/poisoning.py``, ``tests/learning/test_attacks.py``). Every attack returns the
*delta* a malicious member would publish, in the same layout as an honest one, so it
passes every format check an agent makes and only the aggregation rule stands between
it and the model:

- :class:`SignFlip` - train honestly, then send the update reversed and scaled
  (``-scale * delta``): a model-poisoning attack that pushes the model back the way
  it came. It is the simplest case of the directed deviation of Fang, Cao, Jia, Gong,
  "Local Model Poisoning Attacks to Byzantine-Robust Federated Learning" (USENIX
  Security 2020), and the "sign-flipping" Byzantine worker of Li, Xu, Chen, Giannakis,
  Ling, "RSA: Byzantine-Robust Stochastic Aggregation Methods" (AAAI 2019). Such
  updates are outliers, which is what robust rules remove; Baruch, Baruch, Goldberg,
  "A Little Is Enough: Circumventing Defenses for Distributed Learning" (NeurIPS 2019)
  show that small deviations within the honest spread are much harder to filter - not
  modelled here.
- :class:`LabelFlip` - data poisoning: train honestly on deliberately wrong labels,
  ``l -> L - 1 - l`` for ``L`` classes (the mapping of Fang et al. 2020). Label
  flipping goes back to Biggio, Nelson, Laskov, "Support Vector Machines Under
  Adversarial Label Noise" (ACML 2011); Tolpegin, Truex, Gursoy, Liu, "Data Poisoning
  Attacks Against Federated Learning Systems" (ESORICS 2020) study it in FL.
- :class:`GaussianNoise` - send random noise, the "Gaussian Byzantine" worker of
  Blanchard, El Mhamdi, Guerraoui, Stainer, "Machine Learning with Adversaries:
  Byzantine Tolerant Gradient Descent" (NeurIPS 2017).

Attackers here act alone (no collusion beyond using the same attack) and do not adapt to
the rule in force; the numbers they produce are a floor on what an attacker can do, not
a ceiling.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from daofed.errors import LearningError
from daofed.learning.aggregation import (
    AggregationRule,
    Clipped,
    Median,
    MultiKrum,
    TrimmedMean,
    compute_delta,
)
from daofed.learning.aggregation.trimmed_mean import trim_count
from daofed.learning.data import Dataset
from daofed.learning.task import FitConfig, Task
from daofed.learning.weights import Weights

DEFAULT_SCALE = 4.0
"""Sign-flip scale: with 3 of 10 attackers, FedAvg's mean then points backwards
(7 honest - 3 x 4 < 0), while one attacker alone only slows it down."""

DEFAULT_NOISE_STD = 1.0
"""Per-coordinate standard deviation of the noise attack: an update of norm ~69 for the
default MLP (4,810 weights), about eight times an honest first-round update (~8.5)."""


def sign_flip(delta: Weights, scale: float) -> Weights:
    """Return ``-scale * delta`` (float32), the update of a sign-flipping attacker."""
    _check_positive("sign-flip scale", scale)
    return {
        name: (np.asarray(array, dtype=np.float64) * -scale).astype(np.float32)
        for name, array in delta.items()
    }


def flip_labels(data: Dataset, num_classes: int) -> Dataset:
    """Relabel every sample ``l -> num_classes - 1 - l``: every label wrong, consistently.

    A fixed permutation (not random noise) teaches the model a coherent wrong mapping,
    which is the damaging kind. With an odd class count the middle class keeps its label.
    """
    if num_classes < 2:
        raise LearningError(f"label flipping needs >= 2 classes, got {num_classes}")
    if len(data) and int(data.y.max()) >= num_classes:
        raise LearningError(f"label {int(data.y.max())} is out of range for {num_classes} classes")
    return Dataset(x=data.x.copy(), y=(num_classes - 1 - data.y).astype(np.int64))


def gaussian_update(like: Weights, std: float, seed: int) -> Weights:
    """Return i.i.d. ``N(0, std^2)`` noise shaped like ``like`` (float32), seeded."""
    _check_positive("noise std", std)
    rng = np.random.default_rng(seed)
    return {
        name: rng.normal(0.0, std, size=np.shape(like[name])).astype(np.float32)
        for name in sorted(like)
    }


class Attack(ABC):
    """What a malicious member sends instead of its honest update in one round."""

    name: ClassVar[str]

    @property
    @abstractmethod
    def spec(self) -> str:
        """Short description for tables and JSON, e.g. ``sign-flip:scale=4.0``."""

    @abstractmethod
    def delta(self, task: Task[Any], base: Weights, data: Any, config: FitConfig) -> Weights:
        """Return the delta this attacker publishes, given the round's base and its data.

        ``config`` is what an honest member's ``fit`` would be told (seed included), so an
        attacker that trains trains exactly as it would have honestly.
        """


@dataclass(frozen=True)
class SignFlip(Attack):
    """Train honestly, then publish ``-scale`` times the honest delta."""

    scale: float = DEFAULT_SCALE
    name: ClassVar[str] = "sign-flip"

    def __post_init__(self) -> None:
        _check_positive("sign-flip scale", self.scale)

    @property
    def spec(self) -> str:
        """``sign-flip:scale=<scale>``."""
        return f"{self.name}:scale={float(self.scale)!r}"

    def delta(self, task: Task[Any], base: Weights, data: Any, config: FitConfig) -> Weights:
        """See :func:`sign_flip`."""
        honest = compute_delta(base, task.fit(base, data, config).weights)
        return sign_flip(honest, self.scale)


@dataclass(frozen=True)
class LabelFlip(Attack):
    """Train on labels mapped ``l -> L - 1 - l`` and publish that delta as is.

    Needs a task whose data is a :class:`~daofed.learning.data.Dataset` of
    ``num_classes`` classes.
    """

    num_classes: int = 10
    name: ClassVar[str] = "label-flip"

    @property
    def spec(self) -> str:
        """``label-flip``."""
        return self.name

    def delta(self, task: Task[Any], base: Weights, data: Any, config: FitConfig) -> Weights:
        """See :func:`flip_labels`."""
        if not isinstance(data, Dataset):
            raise LearningError(f"label flipping needs labelled Dataset data, not {type(data)}")
        poisoned = flip_labels(data, self.num_classes)
        return compute_delta(base, task.fit(base, poisoned, config).weights)


@dataclass(frozen=True)
class GaussianNoise(Attack):
    """Publish Gaussian noise of standard deviation ``std`` per coordinate; no training."""

    std: float = DEFAULT_NOISE_STD
    name: ClassVar[str] = "noise"

    def __post_init__(self) -> None:
        _check_positive("noise std", self.std)

    @property
    def spec(self) -> str:
        """``noise:std=<std>``."""
        return f"{self.name}:std={float(self.std)!r}"

    def delta(self, task: Task[Any], base: Weights, data: Any, config: FitConfig) -> Weights:
        """See :func:`gaussian_update`."""
        return gaussian_update(base, self.std, int(config["seed"]))


#: Attack names :func:`make_attack` knows, in table order.
ATTACK_NAMES: tuple[str, ...] = (SignFlip.name, LabelFlip.name, GaussianNoise.name)


def make_attack(
    name: str, *, scale: float = DEFAULT_SCALE, std: float = DEFAULT_NOISE_STD
) -> Attack:
    """Build the attack called ``name``; ``scale`` and ``std`` go to the attacks using them."""
    if name == SignFlip.name:
        return SignFlip(scale)
    if name == LabelFlip.name:
        return LabelFlip()
    if name == GaussianNoise.name:
        return GaussianNoise(std)
    raise LearningError(f"unknown attack {name!r}; known: {', '.join(ATTACK_NAMES)}")


def claimed_tolerance(rule: AggregationRule, num_updates: int) -> int:
    """How many bad updates out of ``num_updates`` ``rule`` is designed to withstand.

    The rules' own claims, not a measurement: the median fewer than half, the trimmed
    mean ``floor(beta * n)`` per side, Multi-Krum its ``f`` (when ``n`` is large enough for
    it to run at all); FedAvg none. Clipping bounds each update's influence but adds no
    tolerance of its own. Experiments hold a rule to its claim and no further.
    """
    if isinstance(rule, Clipped):
        return claimed_tolerance(rule.inner, num_updates)
    if isinstance(rule, Median):
        return (num_updates - 1) // 2
    if isinstance(rule, TrimmedMean):
        return trim_count(rule.beta, num_updates)
    if isinstance(rule, MultiKrum):
        return rule.f if num_updates >= rule.min_updates else 0
    return 0


def _check_positive(what: str, value: float) -> None:
    if not (np.isfinite(value) and value > 0):
        raise LearningError(f"{what} must be a positive number, got {value}")

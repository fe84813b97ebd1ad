"""Server optimisers: FedAvgM, FedAdam, FedYogi and FedAdagrad as governed rules.

FedAvg moves the global model by the aggregated delta. A server optimiser treats that
delta as a pseudo-gradient and takes an optimiser step with it instead, which recovers
much of what FedAvg loses when members' data are skewed:

- FedAvgM: Hsu, Qi, Brown. "Measuring the Effects of Non-Identical Data Distribution
  for Federated Visual Classification", arXiv:1909.06335, 2019 (server momentum).
- FedAdam, FedYogi, FedAdagrad: Reddi, Charles, Zaheer, Garrett, Rush, Konečný, Kumar,
  McMahan. "Adaptive Federated Optimization", ICLR 2021 (Algorithm 2).

FedAvgM, FedYogi and FedAdagrad step as Flower's strategies of the same names do.
FedAdam follows the paper: Flower's FedAdam also scales its rate by Adam's bias
correction, which needs a step count and makes early steps larger.

The optimiser's state (momentum, second moments) must be the same for every member and
for the auditor, so it travels in the accepted model blob itself, as float32 tensors
named ``@server/<rule>/<slot>/<tensor>``: the blob a quorum votes for then fixes the
state too, nobody has to replay history to know it, and ``daofed audit --verify``
recomputes it with the model. A base without state for the rule in force (the genesis,
or a model made under another rule) starts it from zeros.

Bit-exactness: each step is elementwise ``+ - * /``, ``sqrt`` and ``sign`` in float64 on
float32 inputs, each a correctly rounded IEEE operation in a fixed order (numpy never
fuses them), rounded once to float32 per stored tensor.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from daofed.errors import LearningError
from daofed.learning.aggregation.base import AggregationRule, MemberUpdate, RuleWrapper
from daofed.learning.aggregation.delta import apply_delta
from daofed.learning.aggregation.numeric import F64
from daofed.learning.weights import Weights
from daofed.storage.codec import ModelSpec, TensorSpec

SERVER_PREFIX = "@server/"
"""Names of server-state tensors start with it; no model tensor may (PyTorch names never do)."""

Slots = dict[str, F64]
"""One tensor's optimiser state, by slot (``m``, ``v``), in float64 for the arithmetic."""


def _unit(name: str, value: float, *, low: float, high: float | None, closed: bool) -> None:
    """Raise unless ``low <= value (< or <=) high``, finite; ``closed`` makes ``low`` inclusive."""
    above = value >= low if closed else value > low
    below = high is None or value < high
    if not (math.isfinite(value) and above and below):
        lower = f"{'>=' if closed else '>'} {low:g}"
        upper = f" and < {high:g}" if high is not None else ""
        raise LearningError(f"{name} must be {lower}{upper}, got {value}")


@dataclass(frozen=True)
class ServerOptimizer(ABC):
    """One server optimiser: its hyper-parameters, state slots and step."""

    name: ClassVar[str]
    slots: ClassVar[tuple[str, ...]]

    @property
    def params(self) -> str:
        """Hyper-parameters as the rule spec writes them, in declaration order."""
        return ",".join(f"{f.name}={float(getattr(self, f.name))!r}" for f in fields(self))

    @abstractmethod
    def step(self, delta: F64, state: Slots) -> tuple[F64, Slots]:
        """Return the model change for the aggregated ``delta`` and the new state."""


@dataclass(frozen=True)
class FedAvgM(ServerOptimizer):
    """Server momentum: ``m = momentum * m + delta``, ``x += lr * m`` (Flower's FedAvgM)."""

    lr: float
    momentum: float
    name: ClassVar[str] = "fedavgm"
    slots: ClassVar[tuple[str, ...]] = ("m",)

    def __post_init__(self) -> None:
        _unit("fedavgm lr", self.lr, low=0.0, high=None, closed=False)
        _unit("fedavgm momentum", self.momentum, low=0.0, high=1.0, closed=True)

    def step(self, delta: F64, state: Slots) -> tuple[F64, Slots]:
        """One momentum step."""
        m = _f32(self.momentum * state["m"] + delta)
        return self.lr * m, {"m": m}


@dataclass(frozen=True)
class _Adaptive(ServerOptimizer):
    """Adam-family step ``x += lr * m / (sqrt(v) + tau)`` with ``m`` an EMA of the delta."""

    lr: float
    beta1: float
    beta2: float
    tau: float
    slots: ClassVar[tuple[str, ...]] = ("m", "v")

    def __post_init__(self) -> None:
        _unit(f"{self.name} lr", self.lr, low=0.0, high=None, closed=False)
        _unit(f"{self.name} beta1", self.beta1, low=0.0, high=1.0, closed=True)
        _unit(f"{self.name} beta2", self.beta2, low=0.0, high=1.0, closed=True)
        _unit(f"{self.name} tau", self.tau, low=0.0, high=None, closed=False)

    @abstractmethod
    def second_moment(self, v: F64, squared: F64) -> F64:
        """Return the new ``v`` from the old one and the squared delta."""

    def step(self, delta: F64, state: Slots) -> tuple[F64, Slots]:
        """Update the moments, then take the adaptive step with the stored (float32) values."""
        m = _f32(self.beta1 * state["m"] + (1.0 - self.beta1) * delta)
        v = _f32(self.second_moment(state["v"], delta * delta))
        return self.lr * m / (np.sqrt(v) + self.tau), {"m": m, "v": v}


@dataclass(frozen=True)
class FedAdam(_Adaptive):
    """``v = beta2 * v + (1 - beta2) * delta^2``."""

    name: ClassVar[str] = "fedadam"

    def second_moment(self, v: F64, squared: F64) -> F64:
        """Exponential moving average of the squared delta."""
        return self.beta2 * v + (1.0 - self.beta2) * squared


@dataclass(frozen=True)
class FedYogi(_Adaptive):
    """``v = v - (1 - beta2) * delta^2 * sign(v - delta^2)``: ``v`` moves additively."""

    name: ClassVar[str] = "fedyogi"

    def second_moment(self, v: F64, squared: F64) -> F64:
        """Yogi's sign-controlled update of the second moment."""
        return v - (1.0 - self.beta2) * squared * np.sign(v - squared)


@dataclass(frozen=True)
class FedAdagrad(ServerOptimizer):
    """``v = v + delta^2``, ``x += lr * delta / (sqrt(v) + tau)`` (Flower's beta1 = 0)."""

    lr: float
    tau: float
    name: ClassVar[str] = "fedadagrad"
    slots: ClassVar[tuple[str, ...]] = ("v",)

    def __post_init__(self) -> None:
        _unit("fedadagrad lr", self.lr, low=0.0, high=None, closed=False)
        _unit("fedadagrad tau", self.tau, low=0.0, high=None, closed=False)

    def step(self, delta: F64, state: Slots) -> tuple[F64, Slots]:
        """Accumulate the squared delta, then take the adaptive step."""
        v = _f32(state["v"] + delta * delta)
        return self.lr * delta / (np.sqrt(v) + self.tau), {"v": v}


SERVER_OPTIMIZERS: dict[str, type[ServerOptimizer]] = {
    cls.name: cls for cls in (FedAvgM, FedAdam, FedYogi, FedAdagrad)
}
"""Server optimiser rule names and their classes."""


def _f32(array: F64) -> F64:
    """Round to float32 (what is stored) and back: the state the next step reads."""
    with np.errstate(over="ignore"):  # reported by the caller, with advice
        return np.asarray(array, dtype=np.float32).astype(np.float64)


def state_name(optimizer: str, slot: str, tensor: str) -> str:
    """Name ``tensor``'s ``slot`` state under ``optimizer`` in a model blob."""
    return f"{SERVER_PREFIX}{optimizer}/{slot}/{tensor}"


def split_server_state(tensors: Weights) -> tuple[Weights, Weights]:
    """Split a global model blob's tensors into the model's own and the server state."""
    model: Weights = {}
    state: Weights = {}
    for name, array in tensors.items():
        (state if name.startswith(SERVER_PREFIX) else model)[name] = array
    return model, state


def model_weights(tensors: Weights) -> Weights:
    """Keep a global model blob's own model tensors: what tasks train and evaluate."""
    return split_server_state(tensors)[0]


def global_model_spec(spec: ModelSpec, names: Sequence[str]) -> ModelSpec:
    """Give the exact layout a global model blob listing ``names`` must have.

    ``spec`` is the model's; if ``names`` show a known optimiser's state, every slot of
    every tensor of it is required too (float32, the tensor's shape). Anything else
    (another prefix, a second optimiser) is left out, so decoding refuses it.
    """
    optimizer = next(
        (
            name[len(SERVER_PREFIX) :].split("/", 1)[0]
            for name in names
            if name.startswith(SERVER_PREFIX)
        ),
        None,
    )
    if optimizer not in SERVER_OPTIMIZERS:
        return spec
    return ModelSpec(spec.tensors + _state_tensors(spec, SERVER_OPTIMIZERS[optimizer]))


def max_global_model_size(spec: ModelSpec) -> int:
    """Size the largest valid global model blob for ``spec``: no fetch needs more."""
    return max(
        [spec.encoded_size]
        + [
            ModelSpec(spec.tensors + _state_tensors(spec, optimizer)).encoded_size
            for optimizer in SERVER_OPTIMIZERS.values()
        ]
    )


def _state_tensors(spec: ModelSpec, optimizer: type[ServerOptimizer]) -> tuple[TensorSpec, ...]:
    return tuple(
        TensorSpec(state_name(optimizer.name, slot, tensor.name), tensor.shape, "float32")
        for tensor in spec.tensors
        for slot in optimizer.slots
    )


@dataclass(frozen=True)
class ServerOptimized(AggregationRule):
    """Aggregate with ``inner`` (FedAvg unless ``of=`` says otherwise), then ``optimizer``'s step.

    Spec: ``fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001`` or, with a robust inner rule,
    ``fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001,of=trimmed-mean,beta=0.2``.
    """

    inner: AggregationRule
    optimizer: ServerOptimizer
    name: ClassVar[str] = "server"

    def __post_init__(self) -> None:
        if isinstance(self.inner, RuleWrapper | ServerOptimized):
            raise LearningError(
                f"{self.optimizer.name} steps with a plain rule's aggregate (of=...), not "
                f"with {self.inner.spec!r}: clip=, prox= and compress= wrap the server rule"
            )

    @property
    def spec(self) -> str:
        """Optimiser parameters, then ``of=`` and the inner rule's parameters unless FedAvg."""
        spec = f"{self.optimizer.name}:{self.optimizer.params}"
        inner, _, inner_params = self.inner.spec.partition(":")
        if inner != "fedavg":
            spec += f",of={inner}" + (f",{inner_params}" if inner_params else "")
        return spec

    @property
    def min_updates(self) -> int:
        """Same as the inner rule."""
        return self.inner.min_updates

    def aggregate(self, updates: Sequence[MemberUpdate]) -> Weights:
        """``inner.aggregate``: the pseudo-gradient the optimiser steps with."""
        return self.inner.aggregate(updates)

    def server_step(self, base: Weights, state: Weights, delta: Weights) -> tuple[Weights, Weights]:
        """Step every tensor with this optimiser's state from ``state`` (zeros if absent)."""
        optimizer = self.optimizer.name
        step: Weights = {}
        new_state: Weights = {}
        for tensor in sorted(delta):
            zeros = np.zeros(delta[tensor].shape)
            slots = {
                slot: np.asarray(state.get(state_name(optimizer, slot, tensor), zeros), np.float64)
                for slot in self.optimizer.slots
            }
            change, updated = self.optimizer.step(np.asarray(delta[tensor], np.float64), slots)
            with np.errstate(over="ignore"):  # checked just below
                stored = {slot: np.asarray(value, np.float32) for slot, value in updated.items()}
                step[tensor] = np.asarray(change, np.float32)
            if not all(np.isfinite(array).all() for array in (step[tensor], *stored.values())):
                raise LearningError(
                    f"{self.spec}: the server step overflows in tensor {tensor!r}; the "
                    "aggregated delta is far too large (bound update norms, e.g. clip=)"
                )
            new_state.update({state_name(optimizer, k, tensor): v for k, v in stored.items()})
        return apply_delta(base, step), new_state

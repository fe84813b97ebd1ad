"""Exact arithmetic for sums of updates: fixed point modulo 2^64.

Masks only cancel in exact arithmetic, and members vote on the aggregate's digest, so the
sum must be the same bits whatever the order of addition. Floats give neither; integers
modulo 2^64 (numpy ``uint64`` wraps) give both. A coordinate ``x`` becomes
``Q(x) = clamp(round_half_even(x * 2^F), -B * 2^F, B * 2^F)``; a member's input is
``n_u * Q(delta_u)`` (weighted by its public sample count), flattened over the tensors in
sorted-name order; the sum, read as a signed int64, divided by ``sum n_u * 2^F`` and
rounded once to float32, is the FedAvg of the quantised updates.

:func:`fixed_point_fedavg` computes that directly from plaintext updates: it is what an
unmasked round must equal byte for byte, and the tests' reference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from daofed.learning.aggregation.base import MemberUpdate, sorted_updates
from daofed.learning.weights import Weights
from daofed.secagg.errors import SecAggError
from daofed.storage.codec import ModelSpec, TensorSpec

FRACTION_BITS = 24
"""Bits after the binary point: float32's 24-bit significand, so deltas near 1 keep all."""

BOUND = 16.0
"""Largest magnitude a coordinate keeps; larger values are clamped (clip updates below it)."""

SCALE = float(2**FRACTION_BITS)
LIMIT = int(BOUND) * 2**FRACTION_BITS
"""``B * 2^F``: the largest quantised magnitude, 2^28."""

MAX_TOTAL_SAMPLES = (2**63 - 1) // LIMIT
"""Largest ``sum n_u`` for which ``sum n_u * LIMIT < 2^63``: the signed sum cannot wrap."""

U64 = np.dtype(np.uint64)


@dataclass(frozen=True)
class Layout:
    """Tensor names and shapes of an update, sorted by name: how vectors are flattened."""

    tensors: tuple[tuple[str, tuple[int, ...]], ...]

    def __post_init__(self) -> None:
        ordered = tuple(
            sorted((str(name), tuple(int(dim) for dim in shape)) for name, shape in self.tensors)
        )
        names = [name for name, _ in ordered]
        if not ordered or len(set(names)) != len(names):
            raise SecAggError("bad-layout", "a layout needs tensors with distinct names")
        object.__setattr__(self, "tensors", ordered)

    @classmethod
    def of(cls, weights: Mapping[str, NDArray[Any]]) -> Layout:
        """Describe the layout of ``weights`` (e.g. the genesis model's or a delta's)."""
        return cls(tuple((name, tuple(np.shape(array))) for name, array in weights.items()))

    @classmethod
    def of_spec(cls, spec: ModelSpec) -> Layout:
        """Describe the layout of the updates of a model with ``spec`` (its genesis's)."""
        return cls(tuple((tensor.name, tensor.shape) for tensor in spec.tensors))

    @property
    def size(self) -> int:
        """Number of coordinates in the flattened vector."""
        return sum(math.prod(shape) for _, shape in self.tensors)

    def spec(self, dtype: str) -> ModelSpec:
        """Return the storage codec's spec for these tensors with ``dtype`` (``"uint64"`` ...)."""
        return ModelSpec(tuple(TensorSpec(name, shape, dtype) for name, shape in self.tensors))

    def split(self, vector: NDArray[Any]) -> Weights:
        """Cut a flat vector back into tensors (views, in name order)."""
        if vector.shape != (self.size,):
            raise SecAggError(
                "bad-layout", f"vector has shape {vector.shape}, the layout needs {self.size}"
            )
        tensors: Weights = {}
        start = 0
        for name, shape in self.tensors:
            stop = start + math.prod(shape)
            tensors[name] = vector[start:stop].reshape(shape)
            start = stop
        return tensors


def check_capacity(total_samples: int) -> None:
    """Refuse sample totals for which the signed sum could wrap modulo 2^64."""
    if total_samples > MAX_TOTAL_SAMPLES:
        raise SecAggError(
            "overflow",
            f"{total_samples} samples in total could overflow the fixed-point sum (at most "
            f"{MAX_TOTAL_SAMPLES}); report smaller sample counts",
        )


def encode_input(delta: Mapping[str, NDArray[Any]], num_samples: int, what: str) -> NDArray[Any]:
    """``n * Q(delta)`` flattened in sorted-name order, as uint64 (two's complement).

    Refuses NaN and infinity (naming the tensor) and sample counts that could overflow.
    The product is exact in int64 because ``n * LIMIT < 2^63`` is checked first.
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise SecAggError("bad-samples", f"{what}: sample count must be an int >= 1")
    check_capacity(num_samples)
    layout = Layout.of(delta)
    out = np.empty(layout.size, dtype=np.int64)
    start = 0
    for name, _ in layout.tensors:
        array = np.asarray(delta[name])
        if array.dtype != np.float32:
            raise SecAggError("wrong-dtype", f"{what}: tensor {name!r} must be float32")
        scaled = array.astype(np.float64).ravel()
        if not np.isfinite(scaled).all():
            raise SecAggError(
                "non-finite",
                f"{what}: tensor {name!r} has NaN or infinity; such an update cannot be summed",
            )
        scaled *= SCALE  # exact: a power of two
        np.rint(scaled, out=scaled)  # round half to even
        np.clip(scaled, -LIMIT, LIMIT, out=scaled)
        stop = start + scaled.size
        out[start:stop] = scaled
        start = stop
    out *= num_samples
    return out.view(U64)


def decode_sum(total: NDArray[Any], total_samples: int, layout: Layout) -> Weights:
    """Turn the uint64 sum of inputs into the float32 FedAvg delta, tensor by tensor.

    One division and one rounding to float32 per coordinate, so the result is the same
    bits on every machine; ``+ 0`` turns ``-0.0`` into ``0.0``. A sum no set of honest
    inputs can produce (some ``|S| > sum n_u * B * 2^F``) is refused: masked inputs cannot
    be range-checked one by one, but their sum can.
    """
    check_capacity(total_samples)
    signed = total.view(np.int64)
    bound = total_samples * LIMIT
    outside = int(np.count_nonzero((signed > bound) | (signed < -bound)))
    if outside:
        raise SecAggError(
            "out-of-range",
            f"{outside} coordinate(s) of the sum lie outside what inputs within the bound can "
            "produce: a submitter's input was not quantised honestly; this aggregate must "
            "not be accepted",
        )
    values = signed.astype(np.float64)
    values /= float(total_samples) * SCALE
    result = values.astype(np.float32)
    result += np.float32(0)
    return {name: array.copy() for name, array in layout.split(result).items()}


def fixed_point_fedavg(updates: Sequence[MemberUpdate]) -> Weights:
    """Compute the exact aggregate a secure round yields from the plaintext updates.

    Same checks as the plain rules (one update per member, same tensors, float32), then
    the fixed-point sum of ``n_u * Q(delta_u)`` decoded by :func:`decode_sum`.
    """
    ordered = sorted_updates(updates)
    total_samples = sum(update.num_samples for update in ordered)
    check_capacity(total_samples)
    layout = Layout.of(ordered[0].delta)
    total = np.zeros(layout.size, dtype=U64)
    for update in ordered:
        total += encode_input(update.delta, update.num_samples, f"update from {update.member}")
    return decode_sum(total, total_samples, layout)

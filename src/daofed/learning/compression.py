"""Update compression: how a round's updates travel, chosen by the rule the DAO sets.

The rule spec's optional ``compress=fp16|int8`` parameter (``fedavg:compress=int8``) tells
every member how to encode its update for that round and every aggregator and auditor how
to read it back, so switching it is a governance decision like switching the rule itself.
The global model always stays float32; only the deltas are compressed.

- ``fp16``: each float32 tensor cast to IEEE half precision (round to nearest even). Half
  the bytes; relative error at most 2^-11 for values in fp16's normal range.
- ``int8``: symmetric linear quantization with one float32 scale per tensor,
  ``scale = max|x| / 127`` and ``q = round(x / scale)`` in ``[-127, 127]``, stored as the
  int8 tensor under the same name plus a scalar float32 ``<name>::scale`` beside it. A
  quarter of the bytes; absolute error at most ``scale / 2`` per element. This is the
  deterministic, per-tensor ("bucket = tensor") variant of the quantizers studied in
  Alistarh, Grubic, Li, Tomioka, Vojnovic, "QSGD: Communication-Efficient SGD via Gradient
  Quantization and Encoding", NeurIPS 2017 (arXiv:1610.02132), without their stochastic
  rounding: the sender's bytes must be reproducible after a restart (the digest is its
  commitment), so rounding is to nearest.

Decompression must give every aggregator the same float32 bits, because they then vote on
the aggregate's digest: it is a single correctly rounded elementwise operation per value
(an exact fp16 -> float32 widening, or one float32 product ``q * scale``). Scales are
normal floats (subnormal ones are refused), so every product is normal or zero and a CPU
that flushes subnormals to zero computes the same bits too.

Compressed updates are still canonical safetensors, decoded strictly against the model
spec *for that compression* (:func:`compressed_spec`): exact names, shapes and dtypes, no
extra bytes, finite values; beyond that a scale must be positive and normal (``bad-scale``)
and an int8 value must not be -128 (``out-of-range``: the encoding is symmetric).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from daofed.errors import InvalidBlob, LearningError
from daofed.storage.codec import ModelSpec, TensorSpec, Weights, decode, encode

SCALE_SUFFIX = "::scale"
"""An int8 tensor ``name`` travels with its float32 scale as ``name + SCALE_SUFFIX``."""

INT8_LEVELS = 127
"""Largest quantized magnitude: symmetric int8 uses ``[-127, 127]`` and never -128."""

_SMALLEST_SCALE = np.finfo(np.float32).tiny  # smallest normal float32
_FP16_MAX = float(np.finfo(np.float16).max)


class Compression(StrEnum):
    """How an update's tensors are encoded on the wire."""

    NONE = "none"
    FP16 = "fp16"
    INT8 = "int8"


COMPRESSIONS: tuple[str, ...] = (Compression.FP16.value, Compression.INT8.value)
"""The values a rule spec's ``compress=`` accepts (no parameter means float32)."""


def parse_compression(text: str) -> Compression:
    """Return the compression a rule spec's ``compress=`` value names (else LearningError)."""
    if text not in COMPRESSIONS:
        raise LearningError(
            f"compress must be one of {', '.join(COMPRESSIONS)}, got {text!r}; "
            "leave compress out to send float32 updates"
        )
    return Compression(text)


def compressed_spec(spec: ModelSpec, compression: Compression) -> ModelSpec:
    """Return the exact tensors a ``compression``-encoded update of a ``spec`` model holds.

    Every tensor of ``spec`` must be float32 (updates are float32 deltas). ``fp16`` keeps
    names and shapes with dtype float16; ``int8`` gives each tensor an int8 twin plus a
    scalar float32 ``<name>::scale``. Use ``.encoded_size`` as the fetch limit.
    """
    wrong = [t.name for t in spec.tensors if t.dtype != "float32"]
    if wrong:
        raise LearningError(
            f"only float32 tensors can be compressed; {wrong} are not (updates are float32 "
            "deltas of the model)"
        )
    if compression is Compression.NONE:
        return spec
    if compression is Compression.FP16:
        return ModelSpec(tuple(TensorSpec(t.name, t.shape, "float16") for t in spec.tensors))
    tensors: list[TensorSpec] = []
    for t in spec.tensors:
        tensors.append(TensorSpec(t.name, t.shape, "int8"))
        tensors.append(TensorSpec(t.name + SCALE_SUFFIX, (), "float32"))
    return ModelSpec(tuple(tensors))  # raises if a model tensor already ends in ::scale


def compress(delta: Weights, compression: Compression) -> Weights:
    """Tensors to encode for ``delta`` (float32, finite) under ``compression``.

    Raises LearningError for a non-finite delta, or one that fp16 cannot hold (a value
    beyond +-65504: no training step produces that; choose int8 or no compression).
    """
    out: Weights = {}
    for name in sorted(delta):
        array = _float32(name, delta[name])
        if compression is Compression.NONE:
            out[name] = array
        elif compression is Compression.FP16:
            out[name] = _to_fp16(name, array)
        else:
            quantized, scale = quantize_int8(array)
            out[name] = quantized
            out[name + SCALE_SUFFIX] = scale
    return out


def quantize_int8(array: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.int8], Any]:
    """Symmetric int8 quantization of one finite float32 tensor: ``(q, scale)``.

    ``scale = max|x| / 127`` (float32), ``q = rint(x / scale)``; a tensor that is all zero,
    or so small that its scale would not be a normal float32, gets scale 1 and all-zero
    ``q`` (the error is then below 2e-36). ``max`` is exact, and the division and rounding
    are elementwise, so the sender reproduces its bytes exactly after a restart.
    """
    peak = np.float32(np.max(np.abs(array))) if array.size else np.float32(0.0)
    scale = np.float32(peak / np.float32(INT8_LEVELS))
    if not scale >= _SMALLEST_SCALE:
        scale = np.float32(1.0)
    levels = np.rint(np.divide(array, scale, dtype=np.float32))
    quantized = np.clip(levels, -INT8_LEVELS, INT8_LEVELS).astype(np.int8)
    return quantized, np.array(scale, dtype=np.float32)


def decompress(tensors: Weights, compression: Compression) -> Weights:
    """Float32 delta from decoded ``tensors`` (as :func:`compressed_spec` lays them out).

    Bit-identical on every machine (see the module docstring). Raises InvalidBlob with
    reason ``bad-scale`` (a scale that is not a positive normal float32), ``out-of-range``
    (an int8 value of -128) or ``non-finite`` (a product that overflows float32).
    """
    if compression is Compression.NONE:
        return {name: np.asarray(tensors[name], dtype=np.float32) for name in sorted(tensors)}
    if compression is Compression.FP16:
        return {name: tensors[name].astype(np.float32) for name in sorted(tensors)}
    out: Weights = {}
    for name in sorted(tensors):
        if name.endswith(SCALE_SUFFIX):
            continue
        out[name] = dequantize_int8(name, tensors[name], tensors[name + SCALE_SUFFIX])
    return out


def dequantize_int8(
    name: str, quantized: npt.NDArray[Any], scale: npt.NDArray[Any]
) -> npt.NDArray[np.float32]:
    """``q * scale`` in float32, after checking the scale and the values (see above)."""
    value = np.float32(scale)
    if not (np.isfinite(value) and value >= _SMALLEST_SCALE):
        raise InvalidBlob(
            "bad-scale",
            f"tensor {name!r}: int8 scale {float(value)!r} is not a positive normal float32; "
            "the sender's encoder is broken or the blob is hostile",
        )
    if quantized.size and int(np.min(quantized)) < -INT8_LEVELS:
        raise InvalidBlob(
            "out-of-range",
            f"tensor {name!r} holds -128, outside the symmetric int8 range [-127, 127]; "
            "the sender did not use daofed's encoding",
        )
    with np.errstate(over="ignore"):  # reported below
        result = np.multiply(quantized.astype(np.float32), value, dtype=np.float32)
    if not np.isfinite(result).all():
        raise InvalidBlob(
            "non-finite",
            f"tensor {name!r}: int8 values times scale {float(value)!r} overflow float32; "
            "the blob is hostile or broken",
        )
    return result


def encode_update(delta: Weights, compression: Compression) -> bytes:
    """Canonical safetensors bytes of ``delta`` compressed with ``compression``."""
    return encode(compress(delta, compression))


def decode_update(data: bytes, spec: ModelSpec, compression: Compression) -> Weights:
    """Strictly decode a ``compression``-encoded update of a ``spec`` model to float32.

    Raises InvalidBlob with the codec's reasons (``missing-tensor``, ``wrong-dtype``,
    ``oversized``, ``non-finite`` ...) or :func:`decompress`'s.
    """
    return decompress(decode(data, compressed_spec(spec, compression)), compression)


def _float32(name: str, array: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    if array.dtype != np.float32:
        raise LearningError(f"tensor {name!r} is {array.dtype}; updates must be float32")
    if not np.isfinite(array).all():
        raise LearningError(
            f"tensor {name!r} of the update has NaN or infinity; training diverged "
            "(lower the learning rate), nothing to compress"
        )
    return array


def _to_fp16(name: str, array: npt.NDArray[np.float32]) -> npt.NDArray[np.float16]:
    peak = float(np.max(np.abs(array))) if array.size else 0.0
    if peak > _FP16_MAX:
        raise LearningError(
            f"tensor {name!r} of the update reaches {peak:.4g}, beyond float16's "
            f"{_FP16_MAX:g}; such an update cannot travel as fp16 (propose compress=int8 "
            "or none, or find why training moves the weights that far)"
        )
    return array.astype(np.float16)

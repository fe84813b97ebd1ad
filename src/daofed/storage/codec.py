"""Tensors <-> bytes: canonical safetensors encoding and a strict, validating decoder.

Canonical matters because honest members vote on the *digest* of the aggregate: the same
tensors must give the same bytes on every machine, whatever the dict order, memory layout
or library version. So the encoder writes the (simple) safetensors format itself instead of
calling ``safetensors.numpy.save``, whose tensor order is an implementation detail (sorted
by dtype alignment, then name) and which copies ``nbytes`` from the array's data pointer,
silently scrambling non-contiguous arrays (measured with safetensors 0.8.0).

Canonical form: 8-byte little-endian header length; a compact JSON header (no spaces, UTF-8,
no ``__metadata__`` except in a genesis model) listing tensors sorted by name, each as
``{"dtype","shape","data_offsets"}`` in that order; the header padded with spaces to a
multiple of 8 bytes (as safetensors itself pads); then the tensors' C-order little-endian
bytes back to back in the same order. Any safetensors reader can read it.

Decoding goes through the safetensors library's Rust parser, which rejects overlapping,
gapped or out-of-range offsets and sizes that do not match shape x dtype. Nothing here
ever unpickles: a blob is data, never code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray
from safetensors import SafetensorError, deserialize

from daofed.errors import InvalidBlob, StorageError

Weights: TypeAlias = dict[str, NDArray[Any]]
"""Named tensors: a model's weights or an update (delta)."""

_CODES: dict[str, str] = {
    "bool": "BOOL",
    "uint8": "U8",
    "int8": "I8",
    "uint16": "U16",
    "int16": "I16",
    "uint32": "U32",
    "int32": "I32",
    "uint64": "U64",
    "int64": "I64",
    "float16": "F16",
    "float32": "F32",
    "float64": "F64",
}
"""numpy dtype name -> safetensors dtype code, for the dtypes numpy can represent."""

_NAMES = {code: name for name, code in _CODES.items()}
_LENGTH_BYTES = 8
_ALIGN = 8
_RESERVED = "__metadata__"


@dataclass(frozen=True)
class TensorSpec:
    """One tensor a model has: name, shape and numpy dtype name (``"float32"``)."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    def __post_init__(self) -> None:
        problem = _name_problem(self.name)
        if problem:
            raise StorageError(problem)
        if self.dtype not in _CODES:
            raise StorageError(
                f"tensor {self.name!r}: dtype {self.dtype!r} is not supported; "
                f"use one of {', '.join(_CODES)}"
            )
        shape = tuple(self.shape)
        if not all(isinstance(dim, int | np.integer) and dim >= 0 for dim in shape):
            raise StorageError(
                f"tensor {self.name!r}: shape {shape!r} must be non-negative integers"
            )
        object.__setattr__(self, "shape", tuple(int(dim) for dim in shape))

    @property
    def nbytes(self) -> int:
        """Size of the tensor's data in bytes."""
        return math.prod(self.shape) * np.dtype(self.dtype).itemsize


@dataclass(frozen=True)
class ModelSpec:
    """The exact set of tensors a blob must hold to be accepted (kept sorted by name)."""

    tensors: tuple[TensorSpec, ...]

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.tensors, key=lambda spec: spec.name))
        names = [spec.name for spec in ordered]
        duplicates = sorted({a for a, b in pairwise(names) if a == b})
        if duplicates:
            raise StorageError(f"model spec names tensor(s) {duplicates} more than once")
        object.__setattr__(self, "tensors", ordered)

    @classmethod
    def from_arrays(cls, tensors: Mapping[str, NDArray[Any]]) -> ModelSpec:
        """Describe the tensors given (e.g. a freshly built model's) as the spec to enforce."""
        return cls(
            tuple(
                TensorSpec(name, tuple(np.shape(array)), np.asarray(array).dtype.name)
                for name, array in tensors.items()
            )
        )

    @property
    def names(self) -> tuple[str, ...]:
        """Tensor names, sorted."""
        return tuple(spec.name for spec in self.tensors)

    @property
    def encoded_size(self) -> int:
        """Exact size of the canonical encoding of any tensors matching this spec.

        Use it as ``max_bytes`` when fetching a blob that must match this spec: no valid
        blob is larger.
        """
        header = _header([(s.name, _CODES[s.dtype], s.shape, s.nbytes) for s in self.tensors])
        return _LENGTH_BYTES + len(header) + sum(spec.nbytes for spec in self.tensors)


def encode(tensors: Mapping[str, NDArray[Any]], metadata: Mapping[str, str] | None = None) -> bytes:
    """Canonical safetensors bytes for ``tensors`` (see the module docstring).

    ``metadata`` (string to string, safetensors' ``__metadata__``, sorted by key before the
    tensors) is for the genesis model only, which records the federation's task in it;
    updates and aggregates carry none, and :func:`decode` refuses any.

    Only the format is checked here; whether the values are acceptable (finite, the right
    shapes) is the decoder's job, on the receiving side. Raises InvalidBlob with reason
    ``"unencodable"`` for names or dtypes the format cannot carry.
    """
    for name in tensors:
        problem = _name_problem(name)
        if problem:
            raise _unencodable(problem)
    entries: list[tuple[str, str, tuple[int, ...], int]] = []
    chunks: list[memoryview] = []
    for name in sorted(tensors):
        array = np.asarray(tensors[name])
        code = _CODES.get(array.dtype.name)
        if code is None or array.dtype.fields is not None:
            raise _unencodable(
                f"tensor {name!r} has dtype {array.dtype}, which safetensors cannot carry; "
                f"convert it to one of {', '.join(_CODES)}"
            )
        chunk = _little_endian_bytes(array)
        entries.append((name, code, tuple(int(dim) for dim in array.shape), len(chunk)))
        chunks.append(chunk)
    header = _header(entries, metadata)
    return b"".join([len(header).to_bytes(_LENGTH_BYTES, "little"), header, *chunks])


def _little_endian_bytes(array: NDArray[Any]) -> memoryview:
    """View ``array``'s C-order little-endian bytes; copy only if its layout is not that.

    :func:`encode` joins these views into the blob, so the tensors are copied once, into
    the blob: a copy of each tensor first (``tobytes``) doubled the fresh memory written,
    and fresh memory costs a page fault per 4 KiB (15 ms per 20 MB on a loaded machine).
    """
    little = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<"), copy=False))
    return little.reshape(-1).data.cast("B")


def tensor_names(data: bytes) -> tuple[str, ...]:
    """List the tensor names a blob's header gives, unchecked; empty if it has no header.

    For choosing which spec to :func:`decode` a blob against, which then checks it all.
    """
    length = int.from_bytes(data[:_LENGTH_BYTES], "little")
    try:
        header = json.loads(data[_LENGTH_BYTES : _LENGTH_BYTES + length])
    except ValueError:
        return ()
    if not isinstance(header, dict):
        return ()
    return tuple(str(name) for name in header if name != _RESERVED)


def decode(data: bytes, spec: ModelSpec) -> Weights:
    """Parse and validate a blob against ``spec``; return owned, writable arrays.

    The blob's bytes are copied once, by the parser; the arrays are views of that copy.

    Raises InvalidBlob with reason ``not-safetensors``, ``missing-tensor``,
    ``extra-tensor``, ``wrong-dtype``, ``wrong-shape``, ``oversized`` (more bytes than the
    canonical encoding: metadata or padding nobody needs) or ``non-finite``.
    """
    found = _parse(data)
    missing = [name for name in spec.names if name not in found]
    if missing:
        raise InvalidBlob(
            "missing-tensor",
            f"blob lacks tensor(s) {_listing(missing)} that the model has; it was made "
            "for a different model and cannot be used",
        )
    expected = set(spec.names)
    extra = sorted(name for name in found if name not in expected)
    if extra:
        raise InvalidBlob(
            "extra-tensor",
            f"blob has tensor(s) {_listing(extra)} that the model does not have; it was "
            "made for a different model and cannot be used",
        )
    for tensor in spec.tensors:
        _check_layout(tensor, found[tensor.name])
    if len(data) > spec.encoded_size:
        raise InvalidBlob(
            "oversized",
            f"blob is {len(data)} bytes but the canonical encoding of this model is "
            f"{spec.encoded_size}; the extra header content (metadata, padding) is not "
            "accepted",
        )
    return {tensor.name: _array(tensor, found[tensor.name]["data"]) for tensor in spec.tensors}


def _parse(data: bytes) -> dict[str, dict[str, Any]]:
    """Run the safetensors parser; map every way of failing it to ``not-safetensors``."""
    try:
        parsed = deserialize(bytes(data))  # type: ignore[no-untyped-call]
        _reject_duplicate_keys(data)
    except (SafetensorError, ValueError) as error:
        raise InvalidBlob(
            "not-safetensors",
            f"blob is not a valid safetensors file ({error}); only safetensors model "
            "files are accepted (never pickles)",
        ) from None
    return {name: info for name, info in parsed}


def _reject_duplicate_keys(data: bytes) -> None:
    """Refuse headers with a repeated key, which parsers may resolve differently."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:  # linear: the header comes from an untrusted sender
            if key in result:
                raise ValueError(f"header repeats key {key!r}")
            result[key] = value
        return result

    length = int.from_bytes(data[:_LENGTH_BYTES], "little")
    json.loads(data[_LENGTH_BYTES : _LENGTH_BYTES + length], object_pairs_hook=unique)


def _check_layout(tensor: TensorSpec, info: Mapping[str, Any]) -> None:
    code = str(info["dtype"])
    if code != _CODES[tensor.dtype]:
        raise InvalidBlob(
            "wrong-dtype",
            f"tensor {tensor.name!r} is {_NAMES.get(code, code)}, the model wants "
            f"{tensor.dtype}; the blob was made for a different model or encoder",
        )
    shape = tuple(int(dim) for dim in info["shape"])
    if shape != tensor.shape:
        raise InvalidBlob(
            "wrong-shape",
            f"tensor {tensor.name!r} has shape {list(shape)}, the model wants "
            f"{list(tensor.shape)}; the blob was made for a different model",
        )


def _array(tensor: TensorSpec, raw: bytearray) -> NDArray[Any]:
    """View the tensor in the parser's own buffer (no copy of the data); check it is finite.

    The parser hands each tensor over as a fresh ``bytearray`` nobody else holds, so a
    view of it is already owned and writable; only a big-endian machine copies, to swap
    the bytes into its native order.
    """
    little = np.dtype(tensor.dtype).newbyteorder("<")
    view = np.frombuffer(raw, dtype=little).reshape(tensor.shape)
    array = view.astype(np.dtype(tensor.dtype), copy=False)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        nans = int(np.count_nonzero(np.isnan(array)))
        infs = int(np.count_nonzero(np.isinf(array)))
        raise InvalidBlob(
            "non-finite",
            f"tensor {tensor.name!r} holds {nans} NaN and {infs} infinite value(s); a model "
            "must be finite (the sender's training diverged, or the blob is hostile)",
        )
    return array


def _header(
    entries: Sequence[tuple[str, str, tuple[int, ...], int]],
    metadata: Mapping[str, str] | None = None,
) -> bytes:
    """Build the canonical padded JSON header for ``entries`` (name, code, shape, nbytes)."""
    offset = 0
    fields: dict[str, Any] = {}
    if metadata:
        fields[_RESERVED] = {str(key): str(metadata[key]) for key in sorted(metadata)}
    for name, code, shape, nbytes in entries:
        end = offset + nbytes
        fields[name] = {"dtype": code, "shape": list(shape), "data_offsets": [offset, end]}
        offset += nbytes
    text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return text + b" " * (-len(text) % _ALIGN)


def _name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a tensor in a safetensors header, or None if it can."""
    if not isinstance(name, str) or not name or name == _RESERVED:
        return f"tensor name {name!r} must be a non-empty string other than {_RESERVED!r}"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return f"tensor name {name!r} is not valid UTF-8 text"
    return None


def _unencodable(message: str) -> InvalidBlob:
    return InvalidBlob("unencodable", message)


def _listing(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(repr(name) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")

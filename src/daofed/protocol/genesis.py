"""The genesis model pins the federation's task: its name and its tensor layout.

The genesis digest is committed on chain by the constructor, so once its bytes are fetched
and match that digest, the tensors they hold (names, shapes, dtypes, and the model's own
tensor order in the metadata) are a trusted description of the model every update and
every accepted model must match. Members check their task against it before training,
and auditors need no local setting to know what the federation trains.

Genesis blobs made before tasks were pinned carry no metadata: their task is unknown
(members and auditors name it) and their order is the sorted tensor names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load

from daofed.errors import (
    BlobNotFound,
    ConfigError,
    DigestMismatch,
    InvalidBlob,
    StorageError,
    TaskError,
)
from daofed.learning.aggregation.server import (
    SERVER_PREFIX,
    global_model_spec,
    max_global_model_size,
)
from daofed.learning.task import Task
from daofed.storage import BlobRef, BlobStore, ModelSpec, Weights, decode, encode
from daofed.storage.codec import tensor_names

TASK_KEY = "daofed.task"
ORDER_KEY = "daofed.tensors"
MAX_GENESIS_BYTES = 1 << 30
"""A genesis model larger than this (1 GiB) is refused rather than read into memory."""


@dataclass(frozen=True, eq=False)
class Genesis:
    """A federation's genesis model and what it pins."""

    ref: BlobRef
    task: str | None  # the task's name; None for a genesis made before tasks were pinned
    order: tuple[str, ...]  # tensor names in the model's own order (Flower lists use it)
    spec: ModelSpec
    weights: Weights


def genesis_blob(task: Task[Any], seed: int) -> bytes:
    """Encode the genesis of ``task``: its seeded initial weights, its name and order."""
    weights = task.initial_weights(seed)
    for name, array in weights.items():
        if name.startswith(SERVER_PREFIX):
            raise TaskError(
                f"task {task.name!r}: tensor name {name!r} starts with {SERVER_PREFIX!r}, "
                "which daofed reserves for server optimiser state; rename the module"
            )
        if np.asarray(array).dtype != np.float32 or not np.isfinite(array).all():
            raise TaskError(
                f"task {task.name!r}: initial tensor {name!r} must be finite float32, got "
                f"{np.asarray(array).dtype}"
            )
    return encode(weights, {TASK_KEY: task.name, ORDER_KEY: json.dumps(list(weights))})


def read_genesis(data: bytes, ref: BlobRef) -> Genesis:
    """Decode a genesis blob strictly: safetensors, float32, finite, canonical bytes."""
    try:
        tensors: dict[str, np.ndarray] = load(bytes(data))
        header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    except (SafetensorError, ValueError, TypeError) as error:
        raise InvalidBlob(
            "not-safetensors", f"genesis model {ref.hex} is not a safetensors file ({error})"
        ) from None
    metadata = header.get("__metadata__") or {}
    task = metadata.get(TASK_KEY)
    order = _order(metadata.get(ORDER_KEY), tensors, ref)
    weights = {name: np.array(tensors[name]) for name in order}
    if any(a.dtype != np.float32 or not np.isfinite(a).all() for a in weights.values()):
        raise InvalidBlob("wrong-dtype", f"genesis model {ref.hex} is not finite float32")
    if any(name.startswith(SERVER_PREFIX) for name in weights):
        raise InvalidBlob(
            "extra-tensor", f"genesis model {ref.hex} has server state ({SERVER_PREFIX}...)"
        )
    if encode(weights, metadata or None) != bytes(data):
        raise InvalidBlob("not-canonical", f"genesis model {ref.hex} is not canonically encoded")
    return Genesis(ref, task, order, ModelSpec.from_arrays(weights), weights)


def _order(text: Any, tensors: dict[str, np.ndarray], ref: BlobRef) -> tuple[str, ...]:
    if text is None:
        return tuple(sorted(tensors))
    try:
        order = json.loads(text)
    except ValueError:
        order = None
    if not isinstance(order, list) or sorted(order) != sorted(tensors):
        raise InvalidBlob(
            "bad-metadata", f"genesis model {ref.hex}: {ORDER_KEY} does not list its tensors"
        )
    return tuple(order)


def fetch_genesis(store: BlobStore, ref: BlobRef) -> Genesis:
    """Fetch the genesis model by its on-chain digest and read what it pins.

    A store without the genesis blob is not this federation's store (whoever deployed put
    it there first), so that is a configuration error, not a finding about some round.
    """
    try:
        data = store.get(ref, max_bytes=MAX_GENESIS_BYTES)
    except BlobNotFound:
        raise ConfigError(
            f"the {store.describe()} does not hold this federation's genesis model "
            f"{ref.hex}: it is not the store the members use; pass theirs "
            "(--store local:DIR or ipfs:URL, as in the deployment file's `store`)"
        ) from None
    except DigestMismatch:
        raise StorageError(
            f"the copy of the genesis model {ref.hex} in the {store.describe()} does not "
            "match the digest committed on chain: the store is corrupted or tampered, and "
            "nothing can be verified against it; restore the blob from a member's copy"
        ) from None
    return read_genesis(data, ref)


def fetch_model(store: BlobStore, ref: BlobRef, genesis: Genesis) -> Weights:
    """Fetch a model of the federation (a round's base or result) and decode it strictly.

    The genesis model is the one model with metadata (the task it pins); every later model
    is a plain canonical encoding of the genesis layout, plus the state of a server
    optimiser when one made it (:mod:`daofed.learning.aggregation.server`), and nothing
    larger is read. The result holds both; the model's own tensors are
    ``model_weights(result)``.
    """
    if ref.digest == genesis.ref.digest:
        return {name: array.copy() for name, array in genesis.weights.items()}
    return decode_model(store.get(ref, max_bytes=max_global_model_size(genesis.spec)), genesis)


def decode_model(data: bytes, genesis: Genesis) -> Weights:
    """Decode a model of the federation (not the genesis) strictly; see :func:`fetch_model`."""
    return decode(data, global_model_spec(genesis.spec, tensor_names(data)))


def check_task(task: Task[Any], genesis: Genesis) -> None:
    """Raise ConfigError unless ``task`` builds exactly the model the genesis pins.

    The message names the first mismatched tensor (in the model's order): its name, the
    shape and dtype the federation expects, and what this task has.
    """
    try:
        mine = task.initial_weights(0)
    except Exception as error:  # user code
        raise TaskError(
            f"task {task.name!r} could not build its model: {type(error).__name__}: {error}"
        ) from None
    pinned = {t.name: t for t in genesis.spec.tensors}
    other = genesis.task not in (None, task.name)
    named = f"task {task.name!r}" + (f" (the federation trains {genesis.task!r})" if other else "")
    for name in genesis.order:
        want = pinned[name]
        if name not in mine:
            raise ConfigError(
                f"{named} builds a different model: tensor {name!r} (expected "
                f"{want.dtype}{list(want.shape)}) is missing; use the federation's task"
            )
        got = np.asarray(mine[name])
        if tuple(got.shape) != want.shape or got.dtype.name != want.dtype:
            raise ConfigError(
                f"{named} builds a different model: tensor {name!r} expected "
                f"{want.dtype}{list(want.shape)}, got {got.dtype.name}{list(got.shape)}; "
                "use the federation's task"
            )
    extra = [name for name in mine if name not in pinned]
    if extra:
        raise ConfigError(
            f"{named} builds a different model: it has tensor {extra[0]!r} "
            "that the federation's model lacks; use the federation's task"
        )

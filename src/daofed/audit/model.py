"""Which model a federation trains, learnt from its genesis blob rather than assumed.

The genesis digest is committed on chain by the constructor, so once its bytes are fetched
and match that digest, the tensors they hold (names, shapes, dtypes) are a trusted
description of the model every update and every accepted model must match. An auditor
therefore needs no knowledge of the ``ModelConfig`` the federation chose: any width of
MLP is audited the same way. (The default ``ModelConfig`` would be wrong for a federation
that chose another width, and the auditor cannot tell from the chain.)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load

from daofed.errors import (
    BlobNotFound,
    ConfigError,
    DigestMismatch,
    InvalidBlob,
    StorageError,
)
from daofed.storage import BlobRef, BlobStore, ModelSpec, Weights, decode

MAX_GENESIS_BYTES = 1 << 30
"""A genesis model larger than this (1 GiB) is refused rather than read into memory."""


def fetch_genesis(store: BlobStore, genesis: BlobRef) -> tuple[ModelSpec, Weights]:
    """Fetch the genesis model, verify it against its on-chain digest, and read its spec.

    A store without the genesis blob is not this federation's store (every member put it
    there before deploying), so that is reported as a configuration error, not as a
    finding about some round.
    """
    try:
        data = store.get(genesis, max_bytes=MAX_GENESIS_BYTES)
    except BlobNotFound:
        raise ConfigError(
            f"the {store.describe()} does not hold this federation's genesis model "
            f"{genesis.hex}: it is not the store the members use; pass theirs "
            "(--store local:DIR or ipfs:URL, as in the deployment file's `store`)"
        ) from None
    except DigestMismatch:
        raise StorageError(
            f"the copy of the genesis model {genesis.hex} in the {store.describe()} does not "
            "match the digest committed on chain: the store is corrupted or tampered, and "
            "nothing can be verified against it; restore the blob from a member's copy"
        ) from None
    spec = spec_of(data, genesis)
    return spec, decode(data, spec)


def spec_of(data: bytes, ref: BlobRef) -> ModelSpec:
    """Describe the tensors in the safetensors blob ``data`` as the spec to enforce."""
    try:
        tensors: Mapping[str, np.ndarray] = load(bytes(data))
    except (SafetensorError, ValueError, TypeError) as error:
        raise InvalidBlob(
            "not-safetensors",
            f"genesis model {ref.hex} is not a safetensors file ({error}): this federation "
            "cannot be audited with daofed",
        ) from None
    return ModelSpec.from_arrays(tensors)

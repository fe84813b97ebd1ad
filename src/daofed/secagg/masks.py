"""The masks that hide each update: pairwise masks that cancel in the sum, and a self mask.

A pairwise mask is a keystream both members of a pair can compute (from their X25519
shared secret); the lower address adds it, the higher one subtracts it, so it vanishes
from the sum. The self mask (from a random seed) keeps an update hidden even when a
dropped peer's pairwise masks are removed. The keystream generator is AES-256-CTR from
``cryptography`` over a 32-byte key derived per pair and round; the key is never reused,
so the fixed zero nonce is safe.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from numpy.typing import NDArray

from daofed.secagg.context import Context, address_bytes, normalize
from daofed.secagg.keys import agree, derive

_ZERO_NONCE = bytes(16)
_LITTLE_U64 = np.dtype("<u8")
_CHUNK = 1 << 15
"""uint64 values per keystream chunk (256 KiB): fits in L2 with the slice it masks."""


def pairwise_key(
    context: Context, own_private: bytes, own: str, peer: str, peer_public: bytes
) -> bytes:
    """Key of the mask between ``own`` and ``peer``: both compute it, from either side."""
    low, high = sorted((normalize(own), normalize(peer)))
    info = context.label() + b"mask" + address_bytes(low) + address_bytes(high)
    return derive(agree(own_private, peer_public, peer), info)


def self_key(context: Context, member: str, seed: bytes) -> bytes:
    """Key of ``member``'s self mask, from its 16-byte round seed."""
    return derive(seed, context.label() + b"self" + address_bytes(member))


def sign(member: str, peer: str) -> int:
    """+1 if ``member`` adds the pair's mask (its address is lower), -1 if it subtracts."""
    return 1 if normalize(member) < normalize(peer) else -1


def apply(vector: NDArray[Any], key: bytes, direction: int) -> None:
    """Add (``direction`` 1) or subtract (-1) the keystream of ``key``, modulo 2^64, in place.

    The keystream is ``8 * vector.size`` bytes of AES-256-CTR (nonce 0) over zeros, read as
    little-endian uint64. It is made and consumed in cache-sized chunks: 4x less CPU than
    materialising it whole, and no extra memory the size of the model.
    """
    encryptor = Cipher(algorithms.AES(key), modes.CTR(_ZERO_NONCE)).encryptor()
    zeros = memoryview(bytes(8 * _CHUNK))
    out = bytearray(8 * _CHUNK + 15)  # update_into wants a block's slack
    stream = np.frombuffer(out, dtype=_LITTLE_U64, count=_CHUNK)
    combine = np.add if direction > 0 else np.subtract
    for start in range(0, vector.size, _CHUNK):
        part = vector[start : start + _CHUNK]
        encryptor.update_into(zeros[: 8 * part.size], out)
        combine(part, stream[: part.size], out=part)

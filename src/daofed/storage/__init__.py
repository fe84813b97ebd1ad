"""Blob storage: put bytes, get them back verified; and the tensor codec for what is stored.

Backends: :class:`LocalStore` (embedded, default), :class:`IpfsStore` (a Kubo node) and
:class:`MemoryStore` (in-process simulations).
Every backend verifies sha256 on every fetch, so callers can trust bytes from any of them
as much as the digest they asked for.
"""

from daofed.storage.codec import ModelSpec, TensorSpec, Weights, decode, encode
from daofed.storage.ipfs import IpfsStore
from daofed.storage.local import LocalStore
from daofed.storage.memory import MemoryStore
from daofed.storage.open import open_store
from daofed.storage.store import BlobRef, BlobStore, verify

__all__ = [
    "BlobRef",
    "BlobStore",
    "IpfsStore",
    "LocalStore",
    "MemoryStore",
    "ModelSpec",
    "TensorSpec",
    "Weights",
    "decode",
    "encode",
    "open_store",
    "verify",
]

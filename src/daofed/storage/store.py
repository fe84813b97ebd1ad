"""What every blob store promises: bytes in, a reference out, and only verified bytes back.

A blob's identity is the sha256 of its exact bytes; that digest is what the chain commits
to. The locator (an IPFS CID, a local path key) only says where to look, so a store that
returned unverified bytes would let whoever controls the storage swap a model. That is why
``get`` verifies in every backend, and why the check lives here, once, for all of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from daofed.errors import DigestMismatch, InvalidBlob, StorageError

DIGEST_SIZE = 32
"""Length in bytes of a sha256 digest: a ``bytes32`` on chain."""


@dataclass(frozen=True)
class BlobRef:
    """Names one blob: its sha256 ``digest`` (its identity) and a ``locator`` (where it is).

    The locator is an IPFS CID for the IPFS store and the hex digest for the local store.
    Two refs with the same digest name the same bytes even if their locators differ.
    """

    digest: bytes
    locator: str

    def __post_init__(self) -> None:
        if not isinstance(self.digest, bytes) or len(self.digest) != DIGEST_SIZE:
            raise StorageError(
                f"a blob digest must be {DIGEST_SIZE} raw bytes (sha256), got {self.digest!r}; "
                "convert hex with BlobRef.from_hex"
            )

    @classmethod
    def from_hex(cls, hex_digest: str, locator: str | None = None) -> BlobRef:
        """Build a ref from a 64-character hex digest (``0x`` allowed), e.g. typed by a user.

        Without a locator the hex digest itself is used, which is what the local store wants.
        """
        text = hex_digest.removeprefix("0x").lower()
        try:
            digest = bytes.fromhex(text)
        except ValueError:
            digest = b""
        if len(digest) != DIGEST_SIZE:
            raise StorageError(f"{hex_digest!r} is not a sha256 digest: expected 64 hex characters")
        return cls(digest=digest, locator=text if locator is None else locator)

    @classmethod
    def of_bytes(cls, data: bytes) -> BlobRef:
        """Name ``data`` by its hex digest, as the local and in-memory stores locate blobs."""
        digest = sha256_digest(data)
        return cls(digest=digest, locator=digest.hex())

    @property
    def hex(self) -> str:
        """The digest as 64 lower-case hex characters (no ``0x``)."""
        return self.digest.hex()


@runtime_checkable
class BlobStore(Protocol):
    """A place to put and fetch immutable blobs by content.

    Callers never ask which backend they hold; everything backend-specific (pinning,
    node health) lives on the concrete class.
    """

    def put(self, data: bytes) -> BlobRef:
        """Store ``data`` (idempotently) and return its reference."""
        ...

    def locate(self, data: bytes) -> BlobRef:
        """Return the reference ``put`` would return for ``data``, storing nothing.

        A locator must follow from the bytes alone, so that anyone holding them can name
        the blob: a commit-reveal member commits to its update's locator without showing
        the update, and every voter can check the locator of an aggregate it computed.
        """
        ...

    def get(self, ref: BlobRef, *, max_bytes: int | None = None) -> bytes:
        """Return the bytes of ``ref``, verified against ``ref.digest``.

        Raises BlobNotFound, DigestMismatch, or InvalidBlob(reason="oversized") as soon
        as more than ``max_bytes`` bytes arrive (before reading the whole blob).
        """
        ...

    def describe(self) -> str:
        """Say which store this is, for messages (``"local store at /x"``)."""
        ...


def sha256_digest(data: bytes) -> bytes:
    """Compute the 32-byte identity of ``data``."""
    return hashlib.sha256(data).digest()


def verify_digest(actual: bytes, ref: BlobRef, *, source: str) -> None:
    """Raise DigestMismatch unless ``actual`` (a digest computed by the caller) is ``ref``'s.

    Streaming readers hash as they go and call this at the end; ``source`` names where the
    bytes came from so the message can say what to fix.
    """
    if actual != ref.digest:
        raise DigestMismatch(
            f"blob {ref.locator} from {source} hashes to {actual.hex()}, not the requested "
            f"{ref.hex}: the store returned different bytes (corrupted or tampered). Do not "
            "use them; remove the bad copy and fetch again from a trusted source"
        )


def verify(data: bytes, ref: BlobRef, *, source: str = "memory") -> None:
    """Raise DigestMismatch unless ``sha256(data) == ref.digest``."""
    verify_digest(sha256_digest(data), ref, source=source)


def check_size(size: int, max_bytes: int | None, ref: BlobRef, *, source: str) -> None:
    """Raise InvalidBlob(reason="oversized") once ``size`` bytes exceed ``max_bytes``.

    Called with a known total (file size) or a running count while streaming, so a member
    cannot make others download an arbitrarily large blob.
    """
    if max_bytes is not None and size > max_bytes:
        raise InvalidBlob(
            "oversized",
            f"blob {ref.locator} from {source} is larger than the {max_bytes}-byte limit "
            f"(at least {size} bytes); it is not a valid model for this federation",
        )

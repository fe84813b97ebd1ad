"""An in-memory blob store: the protocol core's backend for simulations and experiments.

It keeps the store's whole contract (content addressing, verification on ``get``, the
size limit), so in-process federations run the very code agents run over a real store.
"""

from __future__ import annotations

from daofed.errors import BlobNotFound
from daofed.storage.store import BlobRef, check_size, verify


class MemoryStore:
    """Blobs in a dict keyed by sha256; the locator is the hex digest, as in the local store."""

    def __init__(self) -> None:
        self._blobs: dict[bytes, bytes] = {}

    def put(self, data: bytes) -> BlobRef:
        """Keep ``data`` and return its reference."""
        ref = self.locate(data)
        self._blobs.setdefault(ref.digest, bytes(data))
        return ref

    def locate(self, data: bytes) -> BlobRef:
        """Return the ref ``put`` would return, keeping nothing."""
        return BlobRef.of_bytes(data)

    def get(self, ref: BlobRef, *, max_bytes: int | None = None) -> bytes:
        """Return the verified bytes of ``ref``."""
        data = self._blobs.get(ref.digest)
        if data is None:
            raise BlobNotFound(f"blob {ref.hex} is not in the {self.describe()}")
        check_size(len(data), max_bytes, ref, source=self.describe())
        verify(data, ref, source=self.describe())
        return data

    def describe(self) -> str:
        """Say which store this is."""
        return "in-memory store"

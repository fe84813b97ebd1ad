"""The embedded blob store: a content-addressed directory, the default backend.

Layout is ``root/<first 2 hex>/<remaining 62 hex>`` of the sha256 digest (git's fan-out),
so no directory grows past a few hundred entries per 256 blobs and a blob's path follows
from its digest alone. Writes are atomic (temp file in the same directory, fsync,
``os.replace``): a reader, another process or a crash never leaves a partial file under a
blob's name, which matters because several member agents may share one directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from daofed.errors import BlobNotFound, StorageError
from daofed.storage.store import BlobRef, check_size, verify

_TEMP_PREFIX = ".tmp-"


class LocalStore:
    """Blobs in a directory tree, found by digest; the locator is the hex digest.

    ``get`` looks blobs up by ``ref.digest`` only, so a ref whose locator is an IPFS CID
    is served too when the bytes are here (the local store works as a cache).
    """

    def __init__(self, root: Path | str) -> None:
        self._root = Path(root)

    @property
    def root(self) -> Path:
        """The directory holding the blobs (created on the first ``put``)."""
        return self._root

    def path_for(self, digest: bytes) -> Path:
        """Where the blob with this sha256 digest lives (whether or not it exists)."""
        hex_digest = digest.hex()
        return self._root / hex_digest[:2] / hex_digest[2:]

    def describe(self) -> str:
        """Name this store in messages."""
        return f"local store at {self._root}"

    def put(self, data: bytes) -> BlobRef:
        """Store ``data`` atomically; a no-op when an intact copy is already there.

        A copy that no longer matches its digest (disk corruption, tampering) is replaced,
        so a put always leaves a good blob behind.
        """
        ref = self.locate(data)
        path = self.path_for(ref.digest)
        if not _holds(path, ref.digest, len(data)):
            self._write_atomically(path, data)
        return ref

    def locate(self, data: bytes) -> BlobRef:
        """Return the ref ``put`` would return (the hex digest locates it); store nothing."""
        return BlobRef.of_bytes(data)

    def get(self, ref: BlobRef, *, max_bytes: int | None = None) -> bytes:
        """Read the blob, refusing it if larger than ``max_bytes`` or not matching its digest."""
        path = self.path_for(ref.digest)
        source = f"{self.describe()} ({path})"
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise BlobNotFound(
                f"blob {ref.hex} is not in the {self.describe()}; check that this is the "
                "store the federation uses, or fetch the blob from a store that has it"
            ) from None
        except OSError as error:
            raise StorageError(f"cannot open {path}: {error}; check its permissions") from error
        with handle:
            check_size(os.fstat(handle.fileno()).st_size, max_bytes, ref, source=source)
            # Bounded read: even if the file grows after fstat, never read past the limit.
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
        check_size(len(data), max_bytes, ref, source=source)
        verify(data, ref, source=source)
        return data

    def _write_atomically(self, path: Path, data: bytes) -> None:
        """Write to a temp file beside ``path``, fsync, then rename it into place."""
        directory = path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(dir=directory, prefix=_TEMP_PREFIX)
        except OSError as error:
            raise _write_error(path, error) from error
        try:
            with os.fdopen(fd, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, path)
        except BaseException as error:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            if isinstance(error, OSError):
                raise _write_error(path, error) from error
            raise
        _fsync_directory(directory)

    def __repr__(self) -> str:
        return f"LocalStore({str(self._root)!r})"


def _holds(path: Path, digest: bytes, size: int) -> bool:
    """Whether ``path`` already holds exactly the blob with ``digest`` (and ``size``)."""
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size != size:
                return False
            return hashlib.file_digest(handle, "sha256").digest() == digest
    except OSError:  # missing or unreadable: (re)write it; a real problem shows on write
        return False


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; some filesystems cannot fsync a directory, which is fine."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_error(path: Path, error: OSError) -> StorageError:
    return StorageError(
        f"could not write blob {path}: {error}; check free disk space and that the "
        f"directory {path.parent.parent} is writable"
    )

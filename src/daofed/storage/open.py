"""Open a blob store from the one-line spec kept in the deployment file.

``local:PATH`` is the embedded content-addressed directory; ``ipfs:URL`` a Kubo-compatible
node's RPC API (``ipfs:http://127.0.0.1:5001``). One string lets every command and every
member agree on where blobs live without more configuration.
"""

from __future__ import annotations

from pathlib import Path

from daofed.errors import ConfigError
from daofed.storage.ipfs import IpfsStore
from daofed.storage.local import LocalStore
from daofed.storage.store import BlobStore


def open_store(spec: str) -> BlobStore:
    """Return the store a spec names; a ConfigError says which forms are accepted."""
    scheme, _, target = spec.partition(":")
    if scheme == "local" and target:
        return LocalStore(Path(target).expanduser())
    if scheme == "ipfs" and target:
        return IpfsStore(target)
    raise ConfigError(
        f"unknown blob store {spec!r}: use 'local:/path/to/dir' or 'ipfs:http://127.0.0.1:5001'"
    )

import dataclasses
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from daofed.errors import BlobNotFound, DigestMismatch, InvalidBlob, StorageError
from daofed.storage import BlobRef, BlobStore, IpfsStore, LocalStore, MemoryStore, verify
from daofed.storage.ipfs_node import IpfsNode
from daofed.storage.store import check_size


def test_blobref_hex_and_from_hex_round_trip() -> None:
    digest = hashlib.sha256(b"model").digest()
    ref = BlobRef(digest=digest, locator="bafy")
    assert ref.hex == digest.hex()
    assert BlobRef.from_hex("0x" + ref.hex.upper(), "bafy") == ref
    assert BlobRef.from_hex(ref.hex).locator == ref.hex


def test_blobref_is_frozen() -> None:
    ref = BlobRef(digest=bytes(32), locator="x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.locator = "y"  # type: ignore[misc]


@pytest.mark.parametrize("digest", [b"", bytes(31), bytes(33), "00" * 32])
def test_blobref_rejects_a_digest_that_is_not_32_bytes(digest: object) -> None:
    with pytest.raises(StorageError, match="32 raw bytes"):
        BlobRef(digest=digest, locator="x")  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "zz" * 32, "00" * 31, "0x" + "00" * 33])
def test_from_hex_rejects_anything_but_64_hex_characters(text: str) -> None:
    with pytest.raises(StorageError, match="64 hex characters"):
        BlobRef.from_hex(text)


def test_verify_accepts_matching_bytes_and_names_both_digests_otherwise() -> None:
    ref = BlobRef(digest=hashlib.sha256(b"good").digest(), locator="loc")
    verify(b"good", ref)
    with pytest.raises(DigestMismatch) as caught:
        verify(b"evil", ref, source="node X")
    message = str(caught.value)
    assert ref.hex in message
    assert hashlib.sha256(b"evil").hexdigest() in message
    assert "node X" in message


def test_check_size_allows_the_limit_and_refuses_one_byte_more() -> None:
    ref = BlobRef(digest=bytes(32), locator="loc")
    check_size(10, 10, ref, source="s")
    check_size(10**12, None, ref, source="s")
    with pytest.raises(InvalidBlob) as caught:
        check_size(11, 10, ref, source="s")
    assert caught.value.reason == "oversized"
    assert "10-byte limit" in str(caught.value)


def test_the_stores_satisfy_the_protocol() -> None:
    assert isinstance(LocalStore("/nonexistent"), BlobStore)
    assert isinstance(MemoryStore(), BlobStore)


# --- every backend: locate names a blob without storing it -----------------------------


@pytest.fixture(params=["local", "memory", pytest.param("ipfs", marks=pytest.mark.ipfs)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "local":
        yield LocalStore(tmp_path / "blobs")
    elif request.param == "memory":
        yield MemoryStore()
    else:
        node: IpfsNode = request.getfixturevalue("ipfs_node")
        with IpfsStore(node.api_url) as store:
            yield store


@pytest.mark.parametrize("size", [1000, 300_000], ids=["one-chunk", "multi-chunk"])
def test_locate_names_the_blob_as_put_will_and_stores_nothing(
    any_store: BlobStore, size: int
) -> None:
    data = os.urandom(size)  # new bytes: never stored by an earlier test on the same node
    located = any_store.locate(data)
    assert located.digest == hashlib.sha256(data).digest()
    with pytest.raises(BlobNotFound):
        any_store.get(located)
    assert any_store.put(data) == located
    assert any_store.get(located) == data

import dataclasses
import hashlib

import pytest

from daofed.errors import DigestMismatch, InvalidBlob, StorageError
from daofed.storage import BlobRef, BlobStore, LocalStore, verify
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


def test_local_store_satisfies_the_protocol(tmp_path: object) -> None:
    assert isinstance(LocalStore("/nonexistent"), BlobStore)

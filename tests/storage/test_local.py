import os
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest

from daofed.errors import BlobNotFound, DigestMismatch, InvalidBlob, StorageError
from daofed.storage import BlobRef, LocalStore
from daofed.storage.store import sha256_digest


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "blobs")


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def test_put_then_get_returns_the_same_bytes(store: LocalStore) -> None:
    ref = store.put(b"weights")
    assert ref.digest == sha256_digest(b"weights")
    assert ref.locator == ref.hex
    assert store.get(ref) == b"weights"


def test_blobs_live_under_a_two_hex_fan_out_directory(store: LocalStore) -> None:
    ref = store.put(b"weights")
    assert files_under(store.root) == [store.root / ref.hex[:2] / ref.hex[2:]]


def test_empty_blob_is_a_blob(store: LocalStore) -> None:
    assert store.get(store.put(b"")) == b""


def test_put_is_idempotent_and_does_not_rewrite(store: LocalStore) -> None:
    first = store.put(b"weights")
    path = store.path_for(first.digest)
    before = os.stat(path)
    second = store.put(b"weights")
    assert second == first
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert len(files_under(store.root)) == 1


def test_put_repairs_a_corrupted_copy(store: LocalStore) -> None:
    ref = store.put(b"weights")
    store.path_for(ref.digest).write_bytes(b"WEIGHTS")
    assert store.put(b"weights") == ref
    assert store.get(ref) == b"weights"


def test_get_of_an_unknown_blob_raises_not_found(store: LocalStore) -> None:
    ref = BlobRef(digest=sha256_digest(b"never stored"), locator="x")
    with pytest.raises(BlobNotFound) as caught:
        store.get(ref)
    assert ref.hex in str(caught.value)
    assert str(store.root) in str(caught.value)


def test_a_tampered_file_is_refused(store: LocalStore) -> None:
    ref = store.put(b"honest update")
    store.path_for(ref.digest).write_bytes(b"hostile update")
    with pytest.raises(DigestMismatch) as caught:
        store.get(ref)
    assert ref.hex in str(caught.value)
    assert str(store.path_for(ref.digest)) in str(caught.value)


def test_get_finds_blobs_by_digest_whatever_the_locator(store: LocalStore) -> None:
    ref = store.put(b"weights")
    as_if_from_ipfs = BlobRef(digest=ref.digest, locator="bafkreiexample")
    assert store.get(as_if_from_ipfs) == b"weights"


def test_max_bytes_allows_the_exact_size_and_refuses_more(store: LocalStore) -> None:
    ref = store.put(b"x" * 100)
    assert store.get(ref, max_bytes=100) == b"x" * 100
    with pytest.raises(InvalidBlob) as caught:
        store.get(ref, max_bytes=99)
    assert caught.value.reason == "oversized"


def test_max_bytes_is_checked_before_reading_the_blob(store: LocalStore) -> None:
    # A 256 MiB (sparse) file planted under a digest: refusing it must not read it.
    ref = BlobRef(digest=sha256_digest(b"small"), locator="x")
    path = store.path_for(ref.digest)
    path.parent.mkdir(parents=True)
    with path.open("wb") as handle:
        handle.truncate(256 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(InvalidBlob) as caught:
            store.get(ref, max_bytes=1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.reason == "oversized"
    assert peak < 1024 * 1024


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_put_leaves_nothing_behind(
    store: LocalStore, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(StorageError) as caught:
        store.put(b"weights")
    monkeypatch.undo()
    assert "No space left on device" in str(caught.value)
    assert files_under(store.root) == []
    with pytest.raises(BlobNotFound):
        store.get(BlobRef(digest=sha256_digest(b"weights"), locator="x"))


def test_a_put_interrupted_mid_write_leaves_nothing_behind(
    store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        store.put(b"weights")
    assert files_under(store.root) == []


def test_an_unwritable_root_gives_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(StorageError, match="could not write blob"):
        LocalStore(blocker / "blobs").put(b"weights")


WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from daofed.errors import BlobNotFound
    from daofed.storage import BlobRef, LocalStore
    from daofed.storage.store import sha256_digest

    root, go, role, count = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    blobs = [bytes([i % 251]) * (1000 + 4099 * i) for i in range(count)]
    store = LocalStore(root)
    Path(sys.argv[5]).touch()  # ready
    while not go.exists():
        time.sleep(0.001)
    if role == "writer":
        for blob in blobs:
            assert store.put(blob).digest == sha256_digest(blob)
    else:  # reader: every blob is either absent or whole, never partial
        refs = [BlobRef(sha256_digest(b), "x") for b in blobs]
        seen = set()
        deadline = time.monotonic() + 20
        while len(seen) < count and time.monotonic() < deadline:
            for i, ref in enumerate(refs):
                try:
                    assert store.get(ref) == blobs[i]
                    seen.add(i)
                except BlobNotFound:
                    pass
        assert len(seen) == count, f"reader saw only {len(seen)} blobs"
    """
)


def test_concurrent_puts_of_the_same_blobs_from_several_processes_are_safe(tmp_path: Path) -> None:
    root, go, count = tmp_path / "blobs", tmp_path / "go", 30
    roles = ["writer"] * 4 + ["reader"]
    ready_files = [tmp_path / f"ready-{index}" for index in range(len(roles))]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(root), str(go), role, str(count), str(ready)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for role, ready in zip(roles, ready_files, strict=True)
    ]
    deadline = time.monotonic() + 30
    while not all(ready.exists() for ready in ready_files) and time.monotonic() < deadline:
        time.sleep(0.01)  # every process imported and waits at the start line
    go.touch()
    for process in processes:
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
    store = LocalStore(root)
    stored = files_under(root)
    assert len(stored) == count
    assert not [path for path in stored if path.name.startswith(".tmp-")]
    for i in range(count):
        blob = bytes([i % 251]) * (1000 + 4099 * i)
        assert store.get(BlobRef(sha256_digest(blob), "x")) == blob

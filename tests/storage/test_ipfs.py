"""IpfsStore error paths against a scripted fake Kubo API (real-node tests live elsewhere)."""

import json
import socket
import time
import tracemalloc
from collections.abc import Iterator

import pytest

from daofed.errors import (
    BlobNotFound,
    ConfigError,
    DigestMismatch,
    InvalidBlob,
    StorageError,
    StoreUnavailable,
)
from daofed.retry import RETRY, RetryPolicy
from daofed.storage import BlobRef, BlobStore
from daofed.storage.ipfs import IpfsStore, raw_cid
from daofed.storage.store import sha256_digest

from .fake_kubo import FakeKubo, Reply

DATA = b"canonical model bytes"
REF = BlobRef(digest=sha256_digest(DATA), locator=raw_cid(sha256_digest(DATA)))


def kubo_error(message: str) -> Reply:
    body = json.dumps({"Message": message, "Code": 0, "Type": "error"}).encode()
    return Reply(500, body, (("Content-Type", "application/json"),))


def ok_json(value: object) -> Reply:
    return Reply(200, json.dumps(value).encode(), (("Content-Type", "application/json"),))


def store_at(url: str, *, attempts: int = 3, timeout: float = 2.0) -> IpfsStore:
    return IpfsStore(url, timeout=timeout, retry=RetryPolicy(attempts=attempts, first_wait=0.001))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- unreachable and transient failures ----------------------------------------------


def test_unreachable_node_raises_store_unavailable_naming_the_url_and_the_fix() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with IpfsStore(url) as store:
        assert isinstance(store, BlobStore)
        for call in (store.ping, lambda: store.put(DATA), lambda: store.get(REF)):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable) as caught:
                call()
            waits = sum(RETRY.first_wait * 2**i for i in range(RETRY.attempts - 1))
            assert time.monotonic() - started < waits + 1.0
            message = str(caught.value)
            assert url in message
            assert "ipfs daemon" in message
            assert f"{RETRY.attempts} time(s)" in message
            assert "ConnectionRefusedError" in message
            assert "\n" not in message


def test_server_errors_are_retried_until_success(kubo: FakeKubo) -> None:
    kubo.on(
        "version", Reply(500, b"oops"), Reply(502, b"bad gateway"), ok_json({"Version": "0.39.0"})
    )
    with store_at(kubo.url) as store:
        assert store.ping() == "0.39.0"
    assert len(kubo.calls("version")) == 3


def test_server_errors_past_the_retries_make_the_store_unavailable(kubo: FakeKubo) -> None:
    kubo.on("version", Reply(500, b"oops"), Reply(503, b"busy"))
    with store_at(kubo.url, attempts=2) as store, pytest.raises(StoreUnavailable) as caught:
        store.ping()
    assert "HTTP 500; HTTP 503" in str(caught.value)
    assert len(kubo.calls("version")) == 2


def test_backoff_doubles_between_attempts(kubo: FakeKubo) -> None:
    kubo.on("version", Reply(500, b"oops"))
    store = IpfsStore(kubo.url, timeout=2.0, retry=RetryPolicy(attempts=4, first_wait=0.05))
    started = time.monotonic()
    with store, pytest.raises(StoreUnavailable):
        store.ping()
    assert time.monotonic() - started >= 0.05 + 0.1 + 0.2
    assert len(kubo.calls("version")) == 4


def test_a_failed_add_is_retried_with_the_whole_body(kubo: FakeKubo) -> None:
    kubo.on(
        "add", Reply(503, b"busy"), ok_json({"Name": "blob", "Hash": REF.locator, "Size": "21"})
    )
    with store_at(kubo.url) as store:
        assert store.put(DATA) == REF
    attempts = kubo.calls("add")
    assert len(attempts) == 2
    for attempt in attempts:
        assert DATA in attempt.body
        assert attempt.params["pin"] == ["true"]
        assert attempt.params["cid-version"] == ["1"]
        assert attempt.params["raw-leaves"] == ["true"]
        assert attempt.params["cid-base"] == ["base32"]  # the CID string goes on chain


def test_locate_asks_for_the_hash_only_with_puts_cid_options(kubo: FakeKubo) -> None:
    kubo.on("add", ok_json({"Name": "blob", "Hash": REF.locator, "Size": "21"}))
    with store_at(kubo.url) as store:
        assert store.locate(DATA) == store.put(DATA) == REF
    located, put = (seen.params for seen in kubo.calls("add"))
    assert located.pop("only-hash") == ["true"] and located.pop("pin") == ["false"]
    assert put.pop("pin") == ["true"] and "only-hash" not in put
    assert located == put


def test_a_failed_cat_is_retried(kubo: FakeKubo) -> None:
    kubo.on("cat", Reply(500, b"oops"), Reply(200, DATA))
    with store_at(kubo.url) as store:
        assert store.get(REF) == DATA
    assert len(kubo.calls("cat")) == 2


def test_a_silent_node_times_out_into_store_unavailable(kubo: FakeKubo) -> None:
    kubo.on("cat", Reply(200, DATA, delay=1.0))
    with (
        store_at(kubo.url, attempts=2, timeout=0.2) as store,
        pytest.raises(StoreUnavailable) as caught,
    ):
        store.get(REF)
    assert "no answer within 0.2 s" in str(caught.value)


# --- definitive answers are not retried ----------------------------------------------


def test_kubo_not_found_is_blob_not_found_without_retrying(kubo: FakeKubo) -> None:
    kubo.on(
        "cat",
        kubo_error(f"block was not found locally (offline): ipld: could not find {REF.locator}"),
    )
    with store_at(kubo.url) as store, pytest.raises(BlobNotFound) as caught:
        store.get(REF)
    assert REF.locator in str(caught.value)
    assert len(kubo.calls("cat")) == 1


def test_kubos_own_timeout_bounds_the_search_and_means_nobody_provides_it(kubo: FakeKubo) -> None:
    """Kubo waits for a CID as long as told; the client tells it, scaled to the blob's size."""
    kubo.on("cat", kubo_error("context deadline exceeded"))
    with IpfsStore(kubo.url, find_timeout=2.0) as store, pytest.raises(BlobNotFound):
        store.get(REF, max_bytes=3_000_000)
    assert kubo.calls("cat")[0].params["timeout"] == ["5.000s"]  # 2 s + 3 MB at 1 MB/s
    assert len(kubo.calls("cat")) == 1


def test_other_kubo_errors_are_storage_errors_without_retrying(kubo: FakeKubo) -> None:
    kubo.on("pin/add", kubo_error('invalid path "xyz": invalid cid'))
    with store_at(kubo.url) as store, pytest.raises(StorageError) as caught:
        store.pin(BlobRef(digest=REF.digest, locator="xyz"))
    assert not isinstance(caught.value, BlobNotFound | StoreUnavailable)
    assert "invalid cid" in str(caught.value)
    assert len(kubo.calls("pin/add")) == 1


def test_a_non_rpc_endpoint_is_reported_as_such(kubo: FakeKubo) -> None:
    with store_at(kubo.url) as store, pytest.raises(StorageError) as caught:
        store.ping()  # the fake answers 404 to anything unscripted, as a gateway would
    assert "HTTP 404" in str(caught.value)
    assert "gateway" in str(caught.value)
    assert len(kubo.calls("version")) == 1


def test_unpin_of_a_blob_that_is_not_pinned_is_fine(kubo: FakeKubo) -> None:
    kubo.on("pin/rm", kubo_error("not pinned or pinned indirectly"))
    with store_at(kubo.url) as store:
        store.unpin(REF)
    kubo.on("pin/rm", kubo_error("pinned recursively by something else"))
    with store_at(kubo.url) as store, pytest.raises(StorageError, match="refused /api/v0/pin/rm"):
        store.unpin(REF)


# --- what the node sends back is checked ---------------------------------------------


def test_oversized_blob_is_refused_while_streaming(kubo: FakeKubo) -> None:
    def endless() -> Iterator[bytes]:
        for _ in range(1024):  # 64 MiB if read to the end
            yield b"x" * 65536

    kubo.on("cat", Reply(200, endless))
    tracemalloc.start()
    try:
        with store_at(kubo.url) as store, pytest.raises(InvalidBlob) as caught:
            store.get(REF, max_bytes=1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.reason == "oversized"
    assert kubo.calls("cat")[0].params["length"] == ["1025"]
    assert peak < 4 * 1024 * 1024


def test_announced_oversize_is_refused_before_reading(kubo: FakeKubo) -> None:
    kubo.on("cat", Reply(200, b"x" * 2048, (("X-Content-Length", "2048"),)))
    with store_at(kubo.url) as store, pytest.raises(InvalidBlob) as caught:
        store.get(REF, max_bytes=1024)
    assert caught.value.reason == "oversized"


def test_bytes_that_do_not_match_the_digest_are_refused(kubo: FakeKubo) -> None:
    kubo.on("cat", Reply(200, b"tampered model bytes!"))
    with store_at(kubo.url) as store, pytest.raises(DigestMismatch) as caught:
        store.get(REF)
    assert REF.hex in str(caught.value)
    assert kubo.url in str(caught.value)


@pytest.mark.parametrize("method", ["put", "locate"])
def test_a_cid_that_cannot_be_the_blob_is_refused(kubo: FakeKubo, method: str) -> None:
    other = raw_cid(sha256_digest(b"something else"))
    kubo.on("add", ok_json({"Name": "blob", "Hash": other, "Size": "21"}))
    with store_at(kubo.url) as store, pytest.raises(StorageError) as caught:
        getattr(store, method)(DATA)
    assert other in str(caught.value) and REF.locator in str(caught.value)


def test_a_ref_without_a_cid_is_fetched_by_its_raw_cid(kubo: FakeKubo) -> None:
    kubo.on("cat", kubo_error("merkledag: not found"))
    with store_at(kubo.url) as store, pytest.raises(BlobNotFound):
        store.get(BlobRef.from_hex(REF.hex))  # a local-store ref: locator = hex digest
    assert kubo.calls("cat")[0].params["arg"] == [REF.locator]


# --- configuration -------------------------------------------------------------------


def test_raw_cid_matches_kubo_for_the_empty_file() -> None:
    # `ipfs add --cid-version 1` of an empty file answers this CID.
    assert (
        raw_cid(sha256_digest(b"")) == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:5001", "http://127.0.0.1:5001"),
        ("http://127.0.0.1:5001/", "http://127.0.0.1:5001"),
        ("http://127.0.0.1:5001/api/v0", "http://127.0.0.1:5001"),
        ("/ip4/127.0.0.1/tcp/5001", "http://127.0.0.1:5001"),
        ("/ip6/::1/tcp/5001/http", "http://[::1]:5001"),
        ("/dns4/ipfs.local/tcp/443/https", "https://ipfs.local:443"),
    ],
)
def test_api_addresses_accept_urls_and_kubo_multiaddrs(given: str, expected: str) -> None:
    with IpfsStore(given) as store:
        assert store.api_url == expected
        assert store.describe() == f"IPFS node at {expected}"


@pytest.mark.parametrize("given", ["", "127.0.0.1:5001", "ftp://host", "/ip4/1.2.3.4/udp/5001"])
def test_bad_api_addresses_are_config_errors(given: str) -> None:
    with pytest.raises(ConfigError, match="not an IPFS RPC API address"):
        IpfsStore(given)


def test_bad_client_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="timeout"):
        IpfsStore("http://127.0.0.1:5001", timeout=0)
    for attempts, first_wait in ((0, 0.1), (1, -1.0)):
        with pytest.raises(ConfigError, match="retry policy"):
            RetryPolicy(attempts=attempts, first_wait=first_wait)

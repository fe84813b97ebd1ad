"""The IPFS backend: blobs on a Kubo node, through its RPC HTTP API (``/api/v0``).

Spoken directly over HTTP/1.1 (:mod:`daofed.storage.rpc`; see IPFS.md for why not
``ipfshttpclient``). Blobs are added
with ``cid-version=1``, ``raw-leaves=true`` and Kubo's default chunker pinned explicitly
(``size-262144``): a blob of at most 256 KiB is then a single raw block whose CID is just
its sha256 in multiformat dress, so for every model this project trains the CID and the
on-chain digest are the same hash, and ``put`` checks the node's answer against it.
Larger blobs get a UnixFS DAG root CID; ``get`` verifies sha256 either way, so the node is
never trusted with integrity, only with availability. Because the options are pinned, a
CID follows from the bytes alone: ``locate`` asks the node for it with ``only-hash``
(nothing stored), which is how a member names a blob it is not ready to publish.

Retries: connection failures, timeouts and 5xx answers that are not Kubo's own error
reports are retried under daofed's one retry policy (:mod:`daofed.retry`). A Kubo error
report (a JSON body with ``"Type": "error"``, which Kubo sends with status 500 for any
failed command) is a definitive answer and is not retried. ``add`` is safe to retry:
content addressing makes it idempotent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.client import HTTPResponse
from types import TracebackType
from typing import Any, TypeVar

import httpx

from daofed.errors import BlobNotFound, ConfigError, StorageError, StoreUnavailable
from daofed.retry import RETRY, RetryPolicy, ServiceBusy
from daofed.storage.rpc import Body, RpcClient, read_answer
from daofed.storage.store import BlobRef, check_size, sha256_digest, verify_digest

CHUNK_SIZE = 262_144
"""Kubo's default chunk size, passed explicitly so the node's config cannot change CIDs."""

_CID_PARAMS = {
    "cid-version": "1",
    "raw-leaves": "true",
    "chunker": f"size-{CHUNK_SIZE}",
    "hash": "sha2-256",
    "cid-base": "base32",
    "quieter": "true",
}
"""Every ``add`` option that shapes the CID or how it is written: the same for ``put`` and
``locate``. ``cid-base`` is Kubo's default for CIDv1 but not every node's (js-ipfs answers
in base58btc), and a ref's CID string goes on chain, where another spelling is another CID.
"""
_PUT_PARAMS = {**_CID_PARAMS, "pin": "true"}
_LOCATE_PARAMS = {**_CID_PARAMS, "only-hash": "true", "pin": "false"}
_START_HINT = (
    "Start a node with `ipfs daemon` (Kubo; run `ipfs init` once first) and check that its "
    "RPC API listens there (`ipfs config Addresses.API`), or use the local store instead"
)
_T = TypeVar("_T")


@dataclass(frozen=True)
class IpfsNodeInfo:
    """Who the node is: from ``/api/v0/id``."""

    peer_id: str
    agent_version: str
    addresses: tuple[str, ...]


def raw_cid(digest: bytes) -> str:
    """Compute the CIDv1 (base32, raw codec, sha2-256) of a blob whose sha256 is ``digest``.

    It is what Kubo answers for a blob of at most one chunk added with raw leaves.
    """
    prefix = bytes([0x01, 0x55, 0x12, 0x20])  # CIDv1, raw, sha2-256, 32 bytes
    return "b" + base64.b32encode(prefix + digest).decode("ascii").lower().rstrip("=")


FIND_TIMEOUT = 20.0
"""Seconds a node may look for a blob among its peers before the answer is "not found"."""
SLOWEST_TRANSFER = 1_000_000
"""Bytes per second a fetch is allowed at the least, on top of the find timeout."""


class IpfsStore:
    """A BlobStore on a Kubo node; the locator of a blob is its CID.

    ``timeout`` bounds every network wait (connect, each read, each write) in seconds;
    ``retry`` says how often a request that failed on the way is tried. ``find_timeout``
    bounds how long the node looks for a blob among its peers (passed as Kubo's
    ``timeout``), so a blob nobody provides is BlobNotFound, never a hang: a fetch of up to
    ``max_bytes`` gets ``find_timeout`` plus the time to move them at 1 MB/s. Keep it
    below ``timeout``: a node may say nothing while it looks.
    """

    def __init__(
        self,
        api_url: str = "http://127.0.0.1:5001",
        *,
        timeout: float = 30.0,
        find_timeout: float = FIND_TIMEOUT,
        retry: RetryPolicy = RETRY,
    ) -> None:
        if timeout <= 0 or find_timeout <= 0:
            raise ConfigError(
                f"IPFS client timeouts of {timeout} s (requests) and {find_timeout} s "
                "(finding a blob) are invalid: use > 0"
            )
        self._url = _http_url(api_url)
        self._timeout = timeout
        self._find_timeout = find_timeout
        self._retry = retry
        # No proxy from the environment: the node is usually on loopback, where a proxy
        # would only get in the way of reaching it.
        self._rpc = RpcClient(f"{self._url}/api/v0", timeout=timeout)

    @property
    def api_url(self) -> str:
        """The node's RPC API base URL (without ``/api/v0``)."""
        return self._url

    def describe(self) -> str:
        """Name this store in messages."""
        return f"IPFS node at {self._url}"

    def put(self, data: bytes) -> BlobRef:
        """Add and pin ``data``; return its sha256 and the CID the node gave it."""
        return self._add(data, _PUT_PARAMS, "a new blob")

    def locate(self, data: bytes) -> BlobRef:
        """Return the ref ``put`` would return: the node hashes ``data`` but keeps nothing.

        Kubo's ``add`` with ``only-hash`` and the same CID options as ``put`` (the CID of a
        blob of more than one chunk depends on the node's DAG layout, so it is asked, not
        computed here).
        """
        return self._add(data, _LOCATE_PARAMS, "a blob to locate")

    def _add(self, data: bytes, params: Mapping[str, str], subject: str) -> BlobRef:
        """Run ``add`` with ``params``; check a single-chunk blob's CID against its sha256.

        The blob goes to the socket from its own buffer, between the multipart form's
        head and tail (:func:`_form`): never copied into one request body.
        """
        digest = sha256_digest(data)
        cid = self._run("add", params, _added_cid, subject=subject, upload=data)
        if len(data) <= CHUNK_SIZE and cid != raw_cid(digest):
            raise StorageError(
                f"{self.describe()} named a {len(data)}-byte blob with CID {cid}, but a "
                f"single-chunk raw blob must have CID {raw_cid(digest)}; the node altered "
                "the data or ignored the add options. Use another node"
            )
        return BlobRef(digest=digest, locator=cid)

    def get(self, ref: BlobRef, *, max_bytes: int | None = None) -> bytes:
        """Stream the blob named by ``ref.locator`` (a CID), hashing and counting as it comes.

        More than ``max_bytes`` bytes raise InvalidBlob(reason="oversized") as soon as they
        arrive; the node is also asked for at most ``max_bytes + 1`` bytes.
        """
        cid = _cid_of(ref)
        params = {"arg": cid, "timeout": self._fetch_timeout(max_bytes)}
        if max_bytes is not None:
            params["length"] = str(max_bytes + 1)
        source = f"{self.describe()} (CID {cid})"

        def read(response: HTTPResponse) -> bytes:
            announced = _announced_size(response)
            if announced is not None:
                check_size(announced, max_bytes, ref, source=source)
            hasher = hashlib.sha256()
            received = 0

            def take(piece: memoryview) -> None:
                nonlocal received
                received += len(piece)
                check_size(received, max_bytes, ref, source=source)
                hasher.update(piece)

            # Only a size the limit bounds sizes the buffer: a node cannot make it huge.
            data = read_answer(response, None if max_bytes is None else announced, take)
            verify_digest(hasher.digest(), ref, source=source)
            return data

        return self._run("cat", params, read, subject=f"blob {cid}")

    def pin(self, ref: BlobRef, *, max_bytes: int | None = None) -> None:
        """Keep the blob on this node, fetching it from its peers if needed.

        ``max_bytes`` (the blob's largest valid size) sets how long the fetch may take.
        """
        cid = _cid_of(ref)
        params = {"arg": cid, "timeout": self._fetch_timeout(max_bytes)}
        self._run("pin/add", params, _discard, subject=f"blob {cid}")

    def is_pinned(self, ref: BlobRef) -> bool:
        """Tell whether this node keeps the blob for good (a recursive pin)."""
        cid = _cid_of(ref)
        try:
            self._call("pin/ls", {"arg": cid, "type": "recursive"}, _discard)
        except _NodeRefusalError as refusal:
            if "not pinned" in refusal.node_message:
                return False
            raise self._refusal_error("pin/ls", f"blob {cid}", refusal.node_message) from None
        return True

    def collect_garbage(self) -> int:
        """Drop every block no pin keeps (``repo/gc``); return how many were removed."""
        return self._run("repo/gc", {}, _removed_blocks, subject="its unpinned blocks")

    def connect(self, address: str) -> None:
        """Connect this node to the peer at ``address`` (a multiaddr ending in ``/p2p/ID``).

        Raises StorageError with the node's reason if it cannot (the peer is down or
        unreachable): a peer that cannot be reached is a fact to report, not a failure of
        this node.
        """
        params = {"arg": address, "timeout": f"{self._find_timeout:g}s"}
        try:
            self._call("swarm/connect", params, _discard)
        except _NodeRefusalError as refusal:
            raise StorageError(
                f"{self.describe()} could not connect to {address}: {refusal.node_message}"
            ) from None

    def peers(self) -> frozenset[str]:
        """Return the peer ids this node is connected to."""
        answer = self._run("swarm/peers", {}, _json_object, subject="its peers")
        return frozenset(str(peer.get("Peer", "")) for peer in answer.get("Peers") or ())

    def unpin(self, ref: BlobRef) -> None:
        """Let the node's garbage collector drop the blob; fine if it was not pinned."""
        cid = _cid_of(ref)
        try:
            self._call("pin/rm", {"arg": cid}, _discard)
        except _NodeRefusalError as refusal:
            if "not pinned" not in refusal.node_message:
                raise self._refusal_error("pin/rm", f"blob {cid}", refusal.node_message) from None

    def ping(self) -> str:
        """Check the node answers; return its Kubo version (``/api/v0/version``)."""
        answer = self._run("version", {}, _json_object, subject="its version")
        return str(answer.get("Version", "unknown"))

    def info(self) -> IpfsNodeInfo:
        """Identify the node (``/api/v0/id``): peer id, agent version, listen addresses."""
        answer = self._run("id", {}, _json_object, subject="its identity")
        addresses = answer.get("Addresses") or []
        return IpfsNodeInfo(
            peer_id=str(answer.get("ID", "")),
            agent_version=str(answer.get("AgentVersion", "")),
            addresses=tuple(str(address) for address in addresses),
        )

    def close(self) -> None:
        """Close pooled connections."""
        self._rpc.close()

    def __enter__(self) -> IpfsStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"IpfsStore({self._url!r})"

    def _run(
        self,
        command: str,
        params: Mapping[str, str],
        read: Callable[[HTTPResponse], _T],
        *,
        subject: str,
        upload: bytes | None = None,
    ) -> _T:
        """Call ``command``, turning the node's own error reports into daofed errors."""
        try:
            return self._call(command, params, read, upload=upload)
        except _NodeRefusalError as refusal:
            raise self._refusal_error(command, subject, refusal.node_message) from None

    def _call(
        self,
        command: str,
        params: Mapping[str, str],
        read: Callable[[HTTPResponse], _T],
        *,
        upload: bytes | None = None,
    ) -> _T:
        """POST ``command`` (with ``upload`` as its file) and ``read`` the answer, retrying."""
        failures: list[str] = []
        body, headers = ((), {}) if upload is None else _form(upload)

        def attempt() -> _T:
            try:
                with self._rpc.post(command, params, body, headers) as answer:
                    if 200 <= answer.status < 300:
                        return self._read(command, answer, read)
                    node_message = _kubo_error(answer.read())
                    if node_message is not None:
                        raise _NodeRefusalError(node_message)
                    if answer.status < 500:
                        raise StorageError(
                            f"{self.describe()} answered HTTP {answer.status} to "
                            f"/api/v0/{command}; is {self._url} a Kubo RPC API (usually port "
                            "5001) and not a gateway (usually 8080)?"
                        )
                    raise ServiceBusy(f"HTTP {answer.status}")
            except self._retry.transient as error:
                failures.append(self._failure(error))
                raise

        try:
            return self._retry.call(attempt)
        except self._retry.transient:
            raise StoreUnavailable(
                f"{self.describe()} failed /api/v0/{command} {len(failures)} time(s): "
                f"{'; '.join(failures)}. {_START_HINT}. (A node that is up but slow may be "
                "searching the network for a CID nobody provides.)"
            ) from None

    def _read(self, command: str, answer: HTTPResponse, read: Callable[[HTTPResponse], _T]) -> _T:
        """Read a successful answer, naming the node if it is not what Kubo answers."""
        try:
            return read(answer)
        except _UnexpectedAnswerError as unexpected:
            raise StorageError(
                f"{self.describe()} answered /api/v0/{command} {unexpected}; is {self._url} "
                "a Kubo RPC API?"
            ) from None

    def _fetch_timeout(self, max_bytes: int | None) -> str:
        """Kubo's ``timeout`` for a fetch of at most ``max_bytes`` (a Go duration)."""
        seconds = self._find_timeout + (max_bytes or 0) / SLOWEST_TRANSFER
        return f"{seconds:.3f}s"

    def _failure(self, error: BaseException) -> str:
        """Say in a few words how one attempt failed."""
        if isinstance(error, TimeoutError):
            return f"no answer within {self._timeout} s ({type(error).__name__})"
        if isinstance(error, ServiceBusy):
            return str(error)
        return f"{type(error).__name__}: {error}"

    def _refusal_error(self, command: str, subject: str, node_message: str) -> StorageError:
        lowered = node_message.lower()
        if any(words in lowered for words in _NOT_FOUND):
            return BlobNotFound(
                f"{self.describe()} does not have {subject} ({node_message}); the member "
                "who published it may be offline, or it was never added"
            )
        return StorageError(
            f"{self.describe()} refused /api/v0/{command} for {subject}: {node_message}"
        )


class _UnexpectedAnswerError(StorageError):
    """A successful answer that is not what Kubo sends; says how, for the caller's message."""


class _NodeRefusalError(StorageError):
    """Kubo answered with its own error report: a definitive answer, not retried."""

    def __init__(self, node_message: str) -> None:
        super().__init__(node_message)
        self.node_message = node_message


_NOT_FOUND = ("not found", "could not find", "deadline exceeded")
"""How nodes say no peer provided a blob in time: Helia's words, then Kubo's for a timeout."""


def _kubo_error(body: bytes) -> str | None:
    """Kubo's error message if ``body`` is a Kubo error report, else None."""
    try:
        report = json.loads(body)
    except ValueError:
        return None
    if isinstance(report, dict) and report.get("Type") == "error":
        return str(report.get("Message", "unknown error"))
    return None


def _announced_size(response: HTTPResponse) -> int | None:
    """Return the size the node announced: Kubo's ``X-Content-Length``, else HTTP's."""
    announced = response.headers.get("X-Content-Length") or response.headers.get("Content-Length")
    return int(announced) if announced is not None and announced.isdigit() else None


def _form(data: bytes) -> tuple[Body, dict[str, str]]:
    """Wrap ``data`` as the one file of a multipart form: the pieces to send, the header.

    The boundary is random, as every multipart client makes it: no blob can be crafted
    to contain it.
    """
    boundary = secrets.token_hex(16)
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="blob"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode("ascii")
    tail = f"\r\n--{boundary}--\r\n".encode("ascii")
    pieces = (head, memoryview(data), tail)
    return pieces, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def _json_object(response: HTTPResponse) -> dict[str, Any]:
    try:
        value = json.loads(response.read())
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise _UnexpectedAnswerError("without a JSON object")
    return value


def _added_cid(response: HTTPResponse) -> str:
    """Pick the root CID out of ``add``'s answer (one JSON object per line)."""
    cid: str | None = None
    for line in response.read().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("Hash"), str):
            cid = str(entry["Hash"])
    if not cid:
        raise _UnexpectedAnswerError("without a CID")
    return cid


def _removed_blocks(response: HTTPResponse) -> int:
    """Count the blocks ``repo/gc`` removed (one JSON object per line; errors raise)."""
    removed = 0
    for line in response.read().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("Error"):
            raise StorageError(f"the node failed garbage collection: {entry['Error']}")
        removed += isinstance(entry, dict) and "Key" in entry
    return removed


def _discard(response: HTTPResponse) -> None:
    response.read()


def _cid_of(ref: BlobRef) -> str:
    """Choose the CID to ask for: the locator, or the raw CID when the locator is no CID.

    A ref from the local store carries its hex digest; its raw CID finds it on IPFS if it
    was added as a single chunk (every blob up to 256 KiB).
    """
    if not ref.locator or ref.locator.lower() == ref.hex:
        return raw_cid(ref.digest)
    return ref.locator


def _http_url(api: str) -> str:
    """Normalise an API address: an http(s) URL, or a multiaddr as Kubo writes it."""
    text = api.strip()
    if text.startswith("/"):
        parts = text.strip("/").split("/")
        protocols = {"ip4", "ip6", "dns", "dns4", "dns6"}
        if len(parts) in (4, 5) and parts[0] in protocols and parts[2] == "tcp":
            scheme = parts[4] if len(parts) == 5 else "http"
            host = f"[{parts[1]}]" if parts[0] == "ip6" else parts[1]
            if scheme in ("http", "https") and parts[3].isdigit():
                return f"{scheme}://{host}:{parts[3]}"
    else:
        try:
            url = httpx.URL(text)
        except httpx.InvalidURL:
            url = httpx.URL()
        if url.scheme in ("http", "https") and url.host:
            return str(url.copy_with(query=None, fragment=None)).rstrip("/").removesuffix("/api/v0")
    raise ConfigError(
        f"{api!r} is not an IPFS RPC API address; use e.g. http://127.0.0.1:5001 or "
        "/ip4/127.0.0.1/tcp/5001"
    )

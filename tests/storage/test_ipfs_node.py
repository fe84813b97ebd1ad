"""The real IPFS node daofed starts for tests: Kubo RPC subset, Kubo's CIDs, persistence.

Everything goes over plain httpx to the node's /api/v0, as IpfsStore will. The expected
CIDs for multi-chunk blobs are computed here from Kubo's layout rules (256 KiB chunks,
balanced DAG of at most 174 links per node, dag-pb leaves for CIDv0, raw leaves for
CIDv1), independently of the node's own importer.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import shutil
import signal
import socket
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from daofed.errors import StoreUnavailable
from daofed.storage.ipfs_node import IpfsNode

pytestmark = pytest.mark.ipfs

HELLO = b"hello world\n"
HELLO_V0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
HELLO_V1 = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"


@pytest.fixture(scope="module")
def node() -> Iterator[IpfsNode]:
    with IpfsNode.start() as started:
        yield started


@pytest.fixture(scope="module")
def api(node: IpfsNode) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{node.api_url}/api/v0", timeout=60.0) as client:
        yield client


def add(api: httpx.Client, data: bytes, *, cid_version: int = 0) -> dict[str, object]:
    response = api.post(
        "/add",
        params={"pin": "true", "cid-version": str(cid_version)},
        files={"file": ("blob", data)},
    )
    response.raise_for_status()
    result: dict[str, object] = response.json()
    return result


def cat(api: httpx.Client, cid: str) -> bytes:
    with api.stream("POST", "/cat", params={"arg": cid}) as response:
        response.raise_for_status()
        return b"".join(response.iter_bytes())


def test_version_and_id_answer(node: IpfsNode, api: httpx.Client) -> None:
    assert node.kind in ("kubo", "helia")
    assert node.api_url == f"http://127.0.0.1:{node.port}"
    assert api.post("/version").json()["Version"]
    assert api.post("/id").json()["ID"]


def test_kubo_cid_vectors(api: httpx.Client) -> None:
    v0 = add(api, HELLO)
    assert v0["Hash"] == HELLO_V0
    assert v0["Size"] == "20"  # a string, as Kubo sends it
    assert add(api, HELLO, cid_version=1)["Hash"] == HELLO_V1
    assert cat(api, HELLO_V0) == HELLO
    assert cat(api, HELLO_V1) == HELLO


@pytest.mark.parametrize("cid_version", [0, 1])
@pytest.mark.parametrize("size", [600 * 1024, 50 * 1024 * 1024], ids=["3-chunks", "50MiB"])
def test_add_cat_round_trip_with_kubo_cids(api: httpx.Client, size: int, cid_version: int) -> None:
    data = random.Random(size + cid_version).randbytes(size)
    added = add(api, data, cid_version=cid_version)
    cid, dag_size = kubo_cid(data, cid_version=cid_version)
    assert added["Hash"] == cid
    assert int(str(added["Size"])) == dag_size
    assert cat(api, cid) == data


def test_pin_rm_then_add_again(api: httpx.Client) -> None:
    cid = str(add(api, b"pin me " + os.urandom(16), cid_version=1)["Hash"])
    assert api.post("/pin/rm", params={"arg": cid}).json()["Pins"] == [cid]
    not_pinned = api.post("/pin/rm", params={"arg": cid})
    assert not_pinned.status_code == 500
    assert "not pinned" in not_pinned.json()["Message"]
    assert api.post("/pin/add", params={"arg": cid}).json()["Pins"] == [cid]
    assert api.post("/pin/rm", params={"arg": cid}).status_code == 200


def test_missing_blob_is_reported_at_once(api: httpx.Client) -> None:
    absent, _ = kubo_cid(os.urandom(64), cid_version=1)
    began = time.monotonic()
    response = api.post("/cat", params={"arg": absent})
    assert time.monotonic() - began < 5  # no peer connected: no waiting for one to come
    assert response.status_code == 500
    assert "not found" in response.json()["Message"]


def test_restart_keeps_blobs_and_pins(tmp_path: Path) -> None:
    data = os.urandom(300_000)
    with IpfsNode.start(repo_dir=tmp_path / "repo") as node:
        url = f"{node.api_url}/api/v0"
        with httpx.Client(base_url=url, timeout=30) as api:
            cid = str(add(api, data)["Hash"])
        first_pid = node.pid
        node.restart()
        assert node.pid != first_pid
        assert node.api_url == url.removesuffix("/api/v0")
        with httpx.Client(base_url=url, timeout=30) as api:
            assert cat(api, cid) == data
            assert api.post("/pin/rm", params={"arg": cid}).status_code == 200  # still pinned
    assert (tmp_path / "repo").is_dir()  # a repo the caller gave is the caller's to keep


def test_restart_after_kill_keeps_blobs(tmp_path: Path) -> None:
    data = os.urandom(1000)
    with IpfsNode.start(repo_dir=tmp_path / "repo") as node:
        url = f"{node.api_url}/api/v0"
        with httpx.Client(base_url=url, timeout=30) as api:
            cid = str(add(api, data)["Hash"])
        assert node.pid is not None
        os.kill(node.pid, signal.SIGKILL)
        node.restart()
        with httpx.Client(base_url=url, timeout=30) as api:
            assert cat(api, cid) == data


def test_stop_ends_the_process_and_removes_a_temp_repo() -> None:
    node = IpfsNode.start()
    pid, repo = node.pid, node.repo_dir
    assert pid is not None and node.running
    node.stop()
    assert not node.running
    assert not repo.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", node.port)) != 0


def test_missing_install_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ipfs-node.mjs").write_text("// not installed\n")
    monkeypatch.setenv("DAOFED_IPFS_NODE_DIR", str(tmp_path))
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "ipfs" else real_which(name))
    with pytest.raises(StoreUnavailable, match=rf"npm ci --prefix {tmp_path}"):
        IpfsNode.start()


# --- Kubo's `ipfs add` layout, written out from the UnixFS and dag-pb specs -------------

CHUNK = 256 * 1024
MAX_LINKS = 174


def kubo_cid(data: bytes, *, cid_version: int) -> tuple[str, int]:
    """CID and cumulative DAG size (`Size`) Kubo's default `ipfs add` gives ``data``."""
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
    # (cid bytes, file bytes under it, cumulative block bytes under it)
    level: list[tuple[bytes, int, int]] = []
    for chunk in chunks:
        if cid_version == 1:
            level.append((cid_bytes(chunk, codec=0x55, version=1), len(chunk), len(chunk)))
        else:
            block = pb_node(unixfs_file(len(chunk), data=chunk), links=[])
            level.append((cid_bytes(block, codec=0x70, version=0), len(chunk), len(block)))
    while len(level) > 1:
        level = [
            parent(level[i : i + MAX_LINKS], cid_version) for i in range(0, len(level), MAX_LINKS)
        ]
    root, _, dag_size = level[0]
    if cid_version == 0:
        return b58encode(root), dag_size
    return "b" + base64.b32encode(root).decode().lower().rstrip("="), dag_size


def parent(children: list[tuple[bytes, int, int]], cid_version: int) -> tuple[bytes, int, int]:
    sizes = [file_size for _, file_size, _ in children]
    links = [pb_link(cid, dag) for cid, _, dag in children]
    block = pb_node(unixfs_file(sum(sizes), blocksizes=sizes), links=links)
    dag_size = len(block) + sum(dag for _, _, dag in children)
    return cid_bytes(block, codec=0x70, version=cid_version), sum(sizes), dag_size


def unixfs_file(
    filesize: int, *, data: bytes | None = None, blocksizes: Sequence[int] = ()
) -> bytes:
    out = field_varint(1, 2)  # Type = File
    if data is not None:
        out += field_bytes(2, data)
    out += field_varint(3, filesize)
    return out + b"".join(field_varint(4, size) for size in blocksizes)


def pb_node(data: bytes, links: list[bytes]) -> bytes:
    return b"".join(field_bytes(2, link) for link in links) + field_bytes(1, data)


def pb_link(cid: bytes, tsize: int) -> bytes:
    return field_bytes(1, cid) + field_bytes(2, b"") + field_varint(3, tsize)


def cid_bytes(block: bytes, *, codec: int, version: int) -> bytes:
    multihash = bytes([0x12, 0x20]) + hashlib.sha256(block).digest()
    return multihash if version == 0 else bytes([0x01, codec]) + multihash


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def field_bytes(number: int, value: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(value)) + value


def varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def b58encode(raw: bytes) -> str:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number, out = int.from_bytes(raw, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        out = alphabet[digit] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def test_layout_helper_reproduces_the_hello_world_vectors() -> None:
    assert kubo_cid(HELLO, cid_version=0) == (HELLO_V0, 20)
    assert kubo_cid(HELLO, cid_version=1) == (HELLO_V1, 12)

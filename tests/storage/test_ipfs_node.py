"""The real IPFS node daofed starts for tests: Kubo RPC subset, Kubo's CIDs, persistence.

Everything goes over plain httpx to the node's /api/v0, as IpfsStore will. The expected
CIDs for multi-chunk blobs are computed here from Kubo's layout rules (256 KiB chunks,
balanced DAG of at most 174 links per node, dag-pb leaves for CIDv0, raw leaves for
CIDv1), independently of the node's own importer.
"""

from __future__ import annotations

import base64
import hashlib
import json
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


def gc(api: httpx.Client) -> set[str]:
    """Run `repo/gc` and return the CIDs it says it removed."""
    response = api.post("/repo/gc")
    response.raise_for_status()
    lines = [json.loads(line) for line in response.text.splitlines() if line]
    assert all(set(line) == {"Key"} for line in lines), lines  # no Error lines
    return {line["Key"]["/"] for line in lines}


def readable_offline(api: httpx.Client, cid: str) -> bytes | None:
    """The blob from this node's own blocks, or None if any is missing."""
    response = api.post("/cat", params={"arg": cid, "offline": "true"})
    if response.status_code != 200:
        assert "not found locally" in response.json()["Message"]
        return None
    return response.content


def test_pin_ls_answers_as_kubo(api: httpx.Client) -> None:
    pinned = str(add(api, b"pinned " + os.urandom(16), cid_version=1)["Hash"])
    v0 = str(add(api, b"pinned v0 " + os.urandom(16))["Hash"])
    one = api.post("/pin/ls", params={"arg": pinned, "type": "recursive"})
    assert one.json() == {"Keys": {pinned: {"Type": "recursive"}}}
    every = api.post("/pin/ls", params={"type": "recursive"}).json()["Keys"]
    assert every[pinned] == {"Type": "recursive"}
    assert every[v0] == {"Type": "recursive"}  # listed as pinned: CIDv0 stays v0

    api.post("/pin/rm", params={"arg": pinned}).raise_for_status()
    gone = api.post("/pin/ls", params={"arg": pinned, "type": "recursive"})
    assert gone.status_code == 500
    assert gone.json() == {
        "Message": f"path '/ipfs/{pinned}' is not pinned",
        "Code": 0,
        "Type": "error",
    }
    assert pinned not in api.post("/pin/ls", params={"type": "recursive"}).json()["Keys"]


def test_gc_removes_unpinned_blobs_and_keeps_pinned_ones(api: httpx.Client) -> None:
    small = os.urandom(1000)
    large = random.Random(11).randbytes(5 * CHUNK + 17)  # 6 leaves under a root
    kept_small = str(add(api, small, cid_version=1)["Hash"])
    kept_large = str(add(api, large)["Hash"])
    loose = os.urandom(3 * CHUNK)
    unpinned = api.post("/add", params={"pin": "false"}, files={"file": ("blob", loose)})
    loose_cid = str(unpinned.json()["Hash"])
    assert readable_offline(api, loose_cid) == loose

    removed = gc(api)
    assert loose_cid in removed and len(removed) >= 4  # the root and its 3 leaves
    assert kept_small not in removed and kept_large not in removed
    assert readable_offline(api, loose_cid) is None
    assert readable_offline(api, kept_small) == small
    assert readable_offline(api, kept_large) == large  # every leaf kept, not just the root
    assert gc(api) == set()  # nothing left to remove

    api.post("/pin/rm", params={"arg": kept_large}).raise_for_status()
    assert kept_large in gc(api)
    assert readable_offline(api, kept_large) is None
    assert readable_offline(api, kept_small) == small


def test_gc_keeps_a_block_shared_with_a_pinned_blob(api: httpx.Client) -> None:
    """A block reached twice by one pin and once by another counts each pin once."""
    leaf = os.urandom(CHUNK)
    both = str(add(api, leaf + leaf)["Hash"])  # two links to one leaf
    alone = str(add(api, leaf)["Hash"])  # that leaf on its own, in CIDv0
    api.post("/pin/rm", params={"arg": both}).raise_for_status()
    removed = gc(api)
    assert both in removed and alone not in removed
    assert readable_offline(api, alone) == leaf

    add(api, leaf + leaf)  # pinned again, then the other pin goes: the leaf is still needed
    api.post("/pin/rm", params={"arg": alone}).raise_for_status()
    assert alone not in gc(api)
    assert readable_offline(api, both) == leaf + leaf
    api.post("/pin/rm", params={"arg": both}).raise_for_status()
    assert {both, alone} <= gc(api)  # no pin left: no mark left either


def test_id_lists_every_listen_address_with_the_peer_id() -> None:
    with IpfsNode.start(swarm=("/ip4/0.0.0.0/tcp/0",)) as node:
        answer = httpx.post(f"{node.api_url}/api/v0/id", timeout=30).json()
    peer, addresses = answer["ID"], answer["Addresses"]
    assert addresses and all(address.endswith(f"/p2p/{peer}") for address in addresses)
    hosts = {address.split("/")[2] for address in addresses}
    assert "0.0.0.0" not in hosts  # the wildcard is expanded to the interfaces, as Kubo does
    assert {"127.0.0.1", *interface_addresses()} <= hosts


def interface_addresses() -> set[str]:
    """This host's IPv4 address on its default route (none if it has no route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP: picks the route, sends nothing
        except OSError:
            return set()
        return {probe.getsockname()[0]}


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

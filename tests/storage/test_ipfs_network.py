"""Two real IPFS nodes move blobs between them by bitswap, through the unchanged client.

This is what a member with its own node relies on: a blob added on one node is read on
another once the nodes are connected, a node with no peer says at once that it does not
have a blob, and a wanted blob nobody provides fails within the asked time.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator

import httpx
import pytest

from daofed.errors import BlobNotFound
from daofed.storage.ipfs import IpfsStore
from daofed.storage.ipfs_node import IpfsNode

pytestmark = pytest.mark.ipfs


@pytest.fixture(scope="module")
def holder() -> Iterator[IpfsNode]:
    with IpfsNode.start() as node:
        yield node


@pytest.fixture(scope="module")
def fetcher() -> Iterator[IpfsNode]:
    with IpfsNode.start() as node:
        yield node


def rpc(node: IpfsNode, command: str, **params: str) -> httpx.Response:
    return httpx.post(f"{node.api_url}/api/v0/{command}", params=params, timeout=60.0)


def test_a_node_fetches_what_only_its_peer_has(holder: IpfsNode, fetcher: IpfsNode) -> None:
    data = random.Random(7).randbytes(3 * 1024 * 1024 + 5)  # 13 chunks: a DAG, not one block
    with IpfsStore(holder.api_url) as there, IpfsStore(fetcher.api_url, timeout=60) as here:
        ref = there.put(data)
        began = time.monotonic()
        with pytest.raises(BlobNotFound):
            here.get(ref)  # no peer yet: nobody to ask
        assert time.monotonic() - began < 5

        peer = there.info()
        connected = rpc(fetcher, "swarm/connect", arg=peer.addresses[0])
        assert connected.status_code == 200, connected.text
        assert connected.json()["Strings"] == [f"connect {peer.peer_id} success"]
        peers = rpc(fetcher, "swarm/peers").json()["Peers"]
        assert [entry["Peer"] for entry in peers] == [peer.peer_id]

        assert here.get(ref) == data
        here.pin(ref)
        stat = rpc(fetcher, "block/stat", arg=ref.locator).json()
        assert stat["Key"] == ref.locator and 0 < stat["Size"] <= 262_144


def test_pin_fetches_a_blob_from_a_peer_and_keeps_it(holder: IpfsNode) -> None:
    data = os.urandom(600_000)
    with (
        IpfsNode.start() as keeper,
        IpfsStore(holder.api_url) as there,
        IpfsStore(keeper.api_url, timeout=60) as here,
    ):
        ref = there.put(data)
        assert rpc(keeper, "swarm/connect", arg=there.info().addresses[0]).status_code == 200
        here.pin(ref)
        keeper.restart()  # no connection survives a restart; the pinned blocks do
        assert rpc(keeper, "swarm/peers").json()["Peers"] is None
        assert here.get(ref) == data


def test_a_wanted_blob_nobody_provides_fails_in_the_asked_time(
    holder: IpfsNode, fetcher: IpfsNode
) -> None:
    with IpfsStore(holder.api_url) as there:
        peer = there.info()
        absent = there.locate(os.urandom(64)).locator  # hashed, never stored
    assert rpc(fetcher, "swarm/connect", arg=peer.addresses[0]).status_code == 200
    for timeout, seconds in (("2s", 2.0), ("500ms", 0.5)):
        began = time.monotonic()
        answer = rpc(fetcher, "cat", arg=absent, timeout=timeout)
        waited = time.monotonic() - began
        assert seconds <= waited < seconds + 3, (timeout, waited)  # the peer was given the time
        assert answer.status_code == 500
        message = answer.json()["Message"]
        assert message.startswith("block was not found: no connected peer (1) provided it")
        assert message.endswith(f"could not find {absent}")
    offline = rpc(fetcher, "cat", arg=absent, offline="true")
    assert "not found locally" in offline.json()["Message"]

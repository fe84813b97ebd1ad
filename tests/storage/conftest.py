from collections.abc import Iterator

import pytest

from daofed.storage.ipfs_node import IpfsNode

from .fake_kubo import FakeKubo, running_fake_kubo


@pytest.fixture
def kubo() -> Iterator[FakeKubo]:
    with running_fake_kubo() as fake:
        yield fake


@pytest.fixture(scope="module")
def ipfs_node() -> Iterator[IpfsNode]:
    """A real offline IPFS node (Kubo, or js-ipfs from tools/ipfs-node), one per module."""
    with IpfsNode.start() as node:
        yield node

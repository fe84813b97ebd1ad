"""Each member its own IPFS node: addresses on chain, blobs by bitswap, the retention policy.

Three members, each with its own real node (Helia, or Kubo when on PATH) and no shared
store, run rounds on the embedded chain in this process. Every update reaches the other
members only over libp2p, between nodes that found each other through the chain.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from eth_account.signers.local import LocalAccount

from daofed.agent import AgentEvent, MemberAgent, MemberSettings, Step
from daofed.chain import Federation, Phase, dev_accounts, embedded_chain
from daofed.errors import ConfigError
from daofed.learning import FederatedSplit, load_digits, split_federated
from daofed.peering import announced_addresses, connect_all
from daofed.storage import BlobRef, IpfsStore
from daofed.storage.ipfs_node import IpfsNode
from tests.federations import DIGITS, deploy

pytestmark = pytest.mark.ipfs

MEMBERS = 3
WINDOW = 600
SETTINGS = MemberSettings(options={"epochs": 1})


@pytest.fixture(scope="module")
def split() -> FederatedSplit:
    return split_federated(load_digits(), MEMBERS, alpha=None, seed=0)


@pytest.fixture
def stores() -> Iterator[list[IpfsStore]]:
    """One node per member, plus one for the deployer (it holds the genesis model)."""
    nodes = [IpfsNode.start() for _ in range(MEMBERS + 1)]
    try:
        stores = [IpfsStore(node.api_url, find_timeout=5.0) for node in nodes]
        yield stores
        for store in stores:
            store.close()
    finally:
        for node in nodes:
            node.stop()


@pytest.fixture
def federation(stores: list[IpfsStore]) -> tuple[Federation, list[LocalAccount]]:
    deployer, *members = dev_accounts(MEMBERS + 1)
    federation = deploy(embedded_chain(), stores[-1], deployer, members, window=WINDOW)
    return federation, members


def test_members_find_each_others_nodes_on_chain_and_keep_what_the_federation_needs(
    stores: list[IpfsStore],
    federation: tuple[Federation, list[LocalAccount]],
    split: FederatedSplit,
) -> None:
    chain, members = federation
    genesis = chain.genesis()
    for store in stores[:MEMBERS]:  # the deployer's node serves the genesis model once
        store.connect(announced_addresses(stores[-1])[0])
    events: list[AgentEvent] = []
    agents = [
        MemberAgent(chain, stores[i], members[i], DIGITS, split.members[i].train, SETTINGS,
                    events.append)
        for i in range(MEMBERS)
    ]  # fmt: skip

    assert [agent.step().step for agent in agents] == [Step.SUBMITTED] * MEMBERS
    peered = [e for e in events if e.step is Step.PEERED]
    assert len(peered) == MEMBERS
    assert "published node addresses" in peered[0].message
    for i, member in enumerate(members):
        published = chain.node_addresses(member.address)
        assert published == announced_addresses(stores[i])
        assert all(address.startswith("/ip4/127.0.0.1/tcp/") for address in published)
    # the last member to start dialled the two others' nodes it found on chain
    assert sorted(peered[-1].detail["connected"]) == sorted(m.address for m in members[:2])
    updates = chain.updates(1)
    for i, store in enumerate(stores[:MEMBERS]):
        own = [u.ref for u in updates if u.member == members[i].address]
        assert [store.is_pinned(ref) for ref in own] == [True]

    assert [agent.step().step for agent in agents] == [Step.VOTED] * MEMBERS
    assert chain.phase(1) is Phase.ACCEPTED
    accepted = chain.round_info(1).accepted
    assert accepted is not None
    for i, store in enumerate(stores[:MEMBERS]):
        peers = [u.ref for u in updates if u.member != members[i].address]
        assert all(store.is_pinned(ref) for ref in peers)  # held while the round is open

    assert [agent.step().step for agent in agents] == [Step.SUBMITTED] * MEMBERS
    for i, store in enumerate(stores[:MEMBERS]):
        own = [u.ref for u in updates if u.member == members[i].address]
        peers = [u.ref for u in updates if u.member != members[i].address]
        assert store.is_pinned(accepted) and store.is_pinned(genesis)
        assert [store.is_pinned(ref) for ref in own] == [True]
        assert not any(store.is_pinned(ref) for ref in peers)  # released: round 1 ended
        assert store.collect_garbage() > 0  # drops the peers' updates, nothing else
        assert store.is_pinned(accepted) and store.is_pinned(own[0])
        assert not any(held_locally(store, ref) for ref in peers)

    # an auditor with a fresh node of its own fetches every blob from the members' nodes
    with IpfsNode.start() as node, IpfsStore(node.api_url, find_timeout=5.0) as auditor:
        report = connect_all(chain, auditor)
        assert sorted(report.connected) == sorted(m.address for m in members)
        for ref in [genesis, *(u.ref for u in updates), accepted]:
            assert not held_locally(auditor, ref)
            auditor.get(ref)


def test_announce_takes_the_nodes_own_addresses_unless_told(stores: list[IpfsStore]) -> None:
    store = stores[0]
    peer = store.info().peer_id
    own = announced_addresses(store)
    assert own and all(address.endswith(f"/p2p/{peer}") for address in own)
    told = announced_addresses(store, ["/ip4/203.0.113.7/tcp/4001"])
    assert told == (f"/ip4/203.0.113.7/tcp/4001/p2p/{peer}",)
    with pytest.raises(ConfigError, match="not a multiaddr of this node"):
        announced_addresses(store, ["/ip4/203.0.113.7/tcp/4001/p2p/12D3KooWother"])
    with pytest.raises(ConfigError, match="not a multiaddr"):
        announced_addresses(store, ["203.0.113.7:4001"])


def test_an_unreachable_members_node_is_reported_not_raised(
    stores: list[IpfsStore], federation: tuple[Federation, list[LocalAccount]]
) -> None:
    chain, members = federation
    peer = stores[1].info().peer_id
    dead = f"/ip4/127.0.0.1/tcp/1/p2p/{peer}"  # nothing listens on port 1
    chain.set_node_addresses(members[1], [dead])
    chain.set_node_addresses(members[2], announced_addresses(stores[2]))
    report = connect_all(chain, stores[0])
    assert report.connected == (members[2].address,)
    assert list(report.unreachable) == [members[1].address]
    assert "could not connect" in report.summary()


def held_locally(store: IpfsStore, ref: BlobRef) -> bool:
    """Whether the node has the blob's root block itself, without asking any peer."""
    answer = httpx.post(
        f"{store.api_url}/api/v0/block/stat", params={"arg": ref.locator, "offline": "true"}
    )
    return answer.status_code == 200

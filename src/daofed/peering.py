"""Members' IPFS nodes as one swarm with no central party: addresses on chain, direct dials.

Each member runs its own node and publishes where it listens in its member record
(``setNodeAddresses``). The chain is the right place for it: every member and auditor
already reads and trusts it, the transaction's signature authenticates the entry with
the member's own key (no second signing scheme), its events keep the history of who
served blobs from where, and a signed entry kept in the blob store would need the swarm
to find the swarm. Agents (at start and at each new round) and auditors (before
fetching) then dial the nodes of the accounts the chain lists; bitswap moves blobs
between whichever nodes are connected, so a blob stays available as long as any one of
them holds it.

Only IPFS stores take part: the local store has no network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from eth_account.signers.local import LocalAccount

from daofed.chain import Federation, NodeAddressesSet
from daofed.chain.cursor import EventCursor
from daofed.errors import ConfigError, StorageError
from daofed.storage.ipfs import IpfsStore

_LOOPBACK_PREFIXES = ("/ip4/127.", "/ip6/::1/")


@dataclass(frozen=True)
class PeeringReport:
    """How dialling the federation's nodes went: by account, the peers reached or not."""

    connected: tuple[str, ...] = ()  # accounts whose node this one is now connected to
    unreachable: dict[str, str] = field(default_factory=dict)  # account -> why
    published: tuple[str, ...] = ()  # this member's addresses, when this call published them

    def summary(self) -> str:
        """One line for a log: ``connected to 3 members' nodes; unreachable: 0xab… (why)``."""
        text = f"connected to {len(self.connected)} members' IPFS nodes"
        if self.published:
            text = f"published node addresses {' '.join(self.published)}; {text}"
        if self.unreachable:
            text += "; unreachable: " + "; ".join(
                f"{account} ({why})" for account, why in self.unreachable.items()
            )
        return text


def announced_addresses(store: IpfsStore, announce: Sequence[str] = ()) -> tuple[str, ...]:
    """Return the multiaddrs a member publishes for its node, each ending in its peer id.

    ``announce`` (e.g. a public address behind NAT) wins; else the node's own listen
    addresses, without loopback ones unless it has no other (all members on one host).
    """
    node = store.info()
    suffix = f"/p2p/{node.peer_id}"
    if announce:
        for address in announce:
            if not address.startswith("/") or "/p2p/" in address.removesuffix(suffix):
                raise ConfigError(
                    f"--announce {address!r} is not a multiaddr of this node ({node.peer_id}): "
                    "give e.g. /ip4/203.0.113.7/tcp/4001"
                )
        return tuple(a if a.endswith(suffix) else a + suffix for a in announce)
    own = [a if a.endswith(suffix) else a + suffix for a in node.addresses]
    remote = [a for a in own if not a.startswith(_LOOPBACK_PREFIXES)]
    if not (remote or own):
        raise ConfigError(
            f"{store.describe()} listens on no swarm address: start it with one "
            "(`daofed ipfs up --swarm /ip4/0.0.0.0/tcp/4001`) or give --announce"
        )
    return tuple(remote or own)


class NodeDirectory:
    """Where each account's node listens, from the ``NodeAddressesSet`` events.

    Accounts that were members once are listed too: they may still hold old blobs. Each
    :meth:`refresh` reads only the blocks it has not read yet, so a member entering a round
    makes one log query, however many members publish, instead of a call per member.
    """

    def __init__(self, federation: Federation) -> None:
        self._events = EventCursor(federation, NodeAddressesSet)
        self._addresses: dict[str, tuple[str, ...]] = {}

    def refresh(self) -> dict[str, tuple[str, ...]]:
        """Read the new events; return every published node by checksum address.

        An account that withdrew its addresses is left out.
        """
        for event in self._events.read():
            self._addresses[event.account] = tuple(event.addresses.split())
        return {account: found for account, found in self._addresses.items() if found}


def join(
    federation: Federation,
    store: IpfsStore,
    account: LocalAccount,
    directory: NodeDirectory,
    announce: Sequence[str] = (),
) -> PeeringReport:
    """Bring a member's node into the federation's swarm, as an agent does at each round.

    A member of the current or the next round publishes its node's addresses when they
    differ from what it last published (see :func:`announced_addresses` for
    ``announce``; a restarted agent sends nothing); then the node dials the nodes the
    current round's members published.
    """
    round_number = federation.current_round()
    nodes = directory.refresh()
    published: tuple[str, ...] = ()
    if any(federation.is_member(account.address, r) for r in (round_number, round_number + 1)):
        addresses = announced_addresses(store, announce)
        if nodes.get(account.address, ()) != addresses:
            federation.set_node_addresses(account, addresses)
            published = addresses
    members = federation.members(round_number)
    report = connect(store, {member: nodes[member] for member in members if member in nodes})
    return replace(report, published=published)


def connect(store: IpfsStore, nodes: Mapping[str, Sequence[str]]) -> PeeringReport:
    """Dial the nodes of ``nodes`` (account -> published multiaddrs) not connected yet.

    A node is tried at each of its addresses until one answers; this node itself and
    peers already connected are skipped. An unreachable node is reported, not raised:
    its blobs may still come from any other node that holds them.
    """
    own = store.info().peer_id
    linked = store.peers()
    connected: list[str] = []
    unreachable: dict[str, str] = {}
    for account, addresses in nodes.items():
        peer = _peer_id(addresses)
        if peer == own:
            continue
        if peer is not None and peer in linked:
            connected.append(account)
            continue
        reasons: list[str] = []
        for address in addresses:
            try:
                store.connect(address)
            except StorageError as error:
                reasons.append(str(error))
                continue
            connected.append(account)
            linked |= {peer} if peer is not None else set()
            break
        else:
            unreachable[account] = "; ".join(reasons) or "no addresses published"
    return PeeringReport(tuple(connected), unreachable)


def connect_all(federation: Federation, store: IpfsStore) -> PeeringReport:
    """Dial the node of every account that ever published one (an auditor's view).

    Former members' nodes are dialled too: they may hold the blobs of earlier rounds.
    """
    return connect(store, NodeDirectory(federation).refresh())


def _peer_id(addresses: Sequence[str]) -> str | None:
    """Return the peer id the addresses name (their ``/p2p/`` part), if any."""
    for address in addresses:
        _, marker, peer = address.rpartition("/p2p/")
        if marker:
            return peer
    return None

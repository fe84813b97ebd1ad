"""The Federation's events as frozen values, and queries for them from the deploy block on.

The events are the federation's audit log: every digest, CID, sample count and voter is in
them. Queries go in block chunks, so a long history never asks a node for one huge range.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from hexbytes import HexBytes
from web3.contract import Contract
from web3.types import EventData

from daofed.chain.abi import snake
from daofed.chain.proposals import decode_value
from daofed.chain.values import ProposalKind, ProposalValue
from daofed.storage import BlobRef

LOG_CHUNK_BLOCKS = 5_000
"""Blocks per eth_getLogs request (public nodes limit the range; local ones are fast)."""


@dataclass(frozen=True, kw_only=True)
class ChainEvent:
    """Where an event was emitted (keyword-only, after each event's own fields)."""

    block_number: int
    tx_hash: str  # 0x-prefixed
    log_index: int

    @classmethod
    def fields_from_args(cls, args: dict[str, Any]) -> dict[str, Any]:
        """Turn a log's decoded arguments (snake-cased) into this event's fields."""
        return args


E = TypeVar("E", bound=ChainEvent)


@dataclass(frozen=True)
class RoundOpened(ChainEvent):
    """Round ``round`` opened on a base model with a snapshot of the parameters."""

    round: int
    base_digest: bytes
    base_cid: str
    submit_deadline: int
    reveal_deadline: int  # equals submit_deadline without commit-reveal
    vote_deadline: int
    quorum: int
    member_count: int
    config_version: int
    commit_reveal: bool

    @property
    def base(self) -> BlobRef:
        """The base model as a blob reference."""
        return BlobRef(self.base_digest, self.base_cid)


@dataclass(frozen=True)
class UpdateCommitted(ChainEvent):
    """A member committed to a hidden update of a round (commit-reveal)."""

    round: int
    member: str
    commitment: bytes


@dataclass(frozen=True)
class UpdateSubmitted(ChainEvent):
    """A member submitted (or, with commit-reveal, revealed) its update of a round."""

    round: int
    member: str  # checksum address
    digest: bytes
    cid: str
    num_samples: int

    @property
    def ref(self) -> BlobRef:
        """The update as a blob reference."""
        return BlobRef(self.digest, self.cid)


@dataclass(frozen=True)
class AggregateVoted(ChainEvent):
    """A member voted for an aggregate, which then had ``tally`` votes."""

    round: int
    member: str
    digest: bytes
    cid: str
    tally: int

    @property
    def ref(self) -> BlobRef:
        """The aggregate as a blob reference."""
        return BlobRef(self.digest, self.cid)


@dataclass(frozen=True)
class ModelAccepted(ChainEvent):
    """An aggregate reached quorum: the base of the next round."""

    round: int
    digest: bytes
    cid: str
    votes: int

    @property
    def ref(self) -> BlobRef:
        """The accepted model as a blob reference."""
        return BlobRef(self.digest, self.cid)


@dataclass(frozen=True)
class RoundClosed(ChainEvent):
    """An expired round was closed without an accepted model."""

    round: int


@dataclass(frozen=True)
class MemberAdded(ChainEvent):
    """``account`` is a member from round ``from_round`` on."""

    account: str
    from_round: int


@dataclass(frozen=True)
class MemberRemoved(ChainEvent):
    """``account`` is no longer a member from round ``from_round`` on."""

    account: str
    from_round: int


@dataclass(frozen=True)
class NodeAddressesSet(ChainEvent):
    """``account`` published its IPFS node's multiaddrs (space-separated; empty: withdrawn)."""

    account: str
    addresses: str


@dataclass(frozen=True)
class EncryptionKeySet(ChainEvent):
    """``account`` registered (or rotated to) an X25519 public key for encrypted shares."""

    account: str
    key: bytes


@dataclass(frozen=True)
class MessagePosted(ChainEvent):
    """A member posted a message of a private round: its digest, and where to fetch it."""

    round: int
    member: str
    digest: bytes
    cid: str

    @property
    def ref(self) -> BlobRef:
        """The message as a blob reference."""
        return BlobRef(self.digest, self.cid)


@dataclass(frozen=True)
class SharesPosted(MessagePosted):
    """A member posted its setup message of a private round (mask key, encrypted shares)."""


@dataclass(frozen=True)
class RecoveryPosted(MessagePosted):
    """A member posted its recovery message of a private round (the shares it reveals)."""


@dataclass(frozen=True)
class ConfigChanged(ChainEvent):
    """Config ``version`` holds these parameters, for the rounds opened from ``from_round`` on."""

    version: int
    quorum: int
    submit_window: int
    vote_window: int
    reveal_window: int
    voting_period: int
    commit_reveal: bool
    rule: str
    max_samples: int
    from_round: int


@dataclass(frozen=True)
class ProposalCreated(ChainEvent):
    """``proposer`` proposed a change; members of ``round`` vote on it until ``vote_end``."""

    proposal_id: int
    proposer: str
    kind: ProposalKind
    data: bytes  # the ABI-encoded argument, as the contract stores it
    value: ProposalValue  # the same, decoded
    round: int
    vote_end: int
    votes_needed: int  # a strict majority of the members of ``round``
    config_version: int  # the latest config version when it was proposed

    @classmethod
    def fields_from_args(cls, args: dict[str, Any]) -> dict[str, Any]:
        """Decode the kind as a :class:`ProposalKind` and the data into ``value``."""
        kind = ProposalKind(args["kind"])
        return {**args, "kind": kind, "value": decode_value(kind, args["data"])}


@dataclass(frozen=True)
class ProposalVoted(ChainEvent):
    """``voter`` voted yes (``support``) or no; the proposal then had these counts."""

    proposal_id: int
    voter: str
    support: bool
    yes: int
    no: int


@dataclass(frozen=True)
class ProposalExecuted(ChainEvent):
    """A proposal was executed: its change applies from the round after this event's."""

    proposal_id: int


def from_log(kind: type[E], log: EventData) -> E:
    """Build the event value of ``kind`` from a decoded log (``numSamples`` -> ``num_samples``)."""
    args = {snake(name): value for name, value in log["args"].items()}
    return kind(
        **kind.fields_from_args(args),
        block_number=log["blockNumber"],
        tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
        log_index=log["logIndex"],
    )


def query_logs(
    contract: Contract,
    kind: type[E],
    *,
    from_block: int,
    to_block: int,
    filters: Mapping[str, Any] | None = None,
    chunk: int = LOG_CHUNK_BLOCKS,
) -> Iterator[E]:
    """Events of ``kind`` in blocks ``from_block..to_block``, oldest first.

    ``filters`` match indexed arguments by their Solidity names (``{"round": 3}``).
    """
    event = contract.events[kind.__name__]
    for start in range(from_block, to_block + 1, chunk):
        logs: list[EventData] = list(
            event.get_logs(
                argument_filters=dict(filters or {}),
                from_block=start,
                to_block=min(start + chunk - 1, to_block),
            )
        )
        yield from (from_log(kind, log) for log in logs)

"""A federation's history as plain frozen values, rebuilt from its contract's events.

Values keep the events' types: digests are the 32 raw bytes, addresses checksummed text,
outcomes enums. Only output spells them (``--json`` writes a digest as ``0x`` and 64
lower-case hex digits, see :func:`daofed.jsonable.to_jsonable`; tables shorten it).
Nothing here refers back to the chain, so a history can be kept, compared or serialised
after the node that served it is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from daofed.chain import (
    ConfigChanged,
    ProposalKind,
    ProposalState,
    ProposalValue,
    describe_proposal,
)
from daofed.chain.secure_aggregation import keys_in_force
from daofed.storage import BlobRef


class Outcome(StrEnum):
    """How a round ended, as its events tell it."""

    ACCEPTED = "accepted"  # an aggregate reached quorum (ModelAccepted)
    CLOSED = "closed"  # expired without quorum and closed (RoundClosed): base carried over
    EXPIRED = "expired"  # its vote deadline passed without quorum; nobody has closed it yet
    OPEN = "open"  # still running: its vote deadline has not passed


@dataclass(frozen=True)
class UpdateRecord:
    """One member's committed update: what it claims to have trained, and where to fetch it."""

    member: str
    digest: bytes
    cid: str
    num_samples: int
    block_number: int
    timestamp: int  # of its block: when the contract saw it
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class CommitRecord:
    """A member's commitment to a hidden update (commit-reveal rounds)."""

    member: str
    commitment: bytes
    block_number: int
    timestamp: int
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class VoteRecord:
    """One member's vote for an aggregate."""

    member: str
    digest: bytes
    cid: str
    block_number: int
    timestamp: int
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class PostRecord:
    """A private round's setup or recovery message on record: who posted which bytes.

    The blob holds the message; the digest decides which bytes count, as for updates.
    """

    member: str
    digest: bytes
    cid: str
    block_number: int
    timestamp: int  # of its block: when the contract saw it
    tx_hash: str
    log_index: int

    @property
    def ref(self) -> BlobRef:
        """Where to fetch the message (what :mod:`daofed.protocol.private` reads)."""
        return BlobRef(self.digest, self.cid)


@dataclass(frozen=True)
class KeyRecord:
    """An account registered (or rotated to) an X25519 key for private rounds' shares.

    Block and log index place it against a round's opening: a key counts from the first
    round opened after it (see :meth:`History.keys_in_force`).
    """

    account: str
    key: bytes
    block_number: int
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class DigestTally:
    """The votes one aggregate (a digest at one CID) received in a round, and from whom."""

    digest: bytes
    cid: str
    votes: int
    voters: tuple[str, ...]


@dataclass(frozen=True)
class RoundRecord:
    """One round: its base model, the parameters it was opened with, updates, votes, outcome.

    ``rule`` is the aggregation rule of the round's config version (the rule in force for
    this round, whatever the DAO decided later); ``members`` are the round's members as
    the membership events define them, in order of admission.
    """

    round: int
    base_digest: bytes
    base_cid: str
    config_version: int
    rule: str
    quorum: int
    member_count: int
    members: tuple[str, ...]
    submit_deadline: int  # with commit-reveal: the commitment deadline
    reveal_deadline: int  # equals submit_deadline without commit-reveal
    vote_deadline: int
    commit_reveal: bool
    opened_block: int
    opened_timestamp: int  # the deadlines count from it
    opened_log_index: int  # orders key registrations of the same block against the opening
    commits: tuple[CommitRecord, ...]  # commit-reveal only
    updates: tuple[UpdateRecord, ...]  # submitted, or revealed with commit-reveal (masked)
    setups: tuple[PostRecord, ...]  # private rounds only: setup messages, in chain order
    recoveries: tuple[PostRecord, ...]  # private rounds only: recovery messages
    votes: tuple[VoteRecord, ...]
    tallies: tuple[DigestTally, ...]  # most votes first
    outcome: Outcome
    accepted_digest: bytes | None
    accepted_cid: str | None
    closed_by: str | None  # who sent the transaction that closed it (CLOSED only)

    @property
    def setup_deadline(self) -> int:
        """When the round stopped taking setup messages: halfway through its submission window.

        The contract's ``setupDeadline``; it matters only in private rounds.
        """
        return self.opened_timestamp + (self.submit_deadline - self.opened_timestamp) // 2

    @property
    def unrevealed(self) -> tuple[str, ...]:
        """Members who committed but never revealed: their updates are left out."""
        revealed = {update.member for update in self.updates}
        return tuple(c.member for c in self.commits if c.member not in revealed)

    def message_kind(self, digest: bytes) -> str:
        """Name the kind of this round's message with ``digest``, for findings' sentences."""
        kinds = (
            (self.setups, "setup message"),
            (self.recoveries, "recovery message"),
            (self.updates, "masked update" if self.setups else "update"),
        )
        for posts, kind in kinds:
            if any(post.digest == digest for post in posts):
                return kind
        return "message"

    @property
    def result_digest(self) -> bytes:
        """The model this round leaves behind: the accepted one, else its base (unchanged)."""
        return self.accepted_digest if self.accepted_digest is not None else self.base_digest

    @property
    def result_cid(self) -> str:
        """Where to fetch :attr:`result_digest`."""
        return self.accepted_cid if self.accepted_cid is not None else self.base_cid


class Change(StrEnum):
    """What happened to a membership."""

    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True)
class MembershipChange:
    """``account`` was added to or removed from the rounds starting at ``from_round``."""

    account: str
    change: Change
    from_round: int
    block_number: int
    tx_hash: str
    log_index: int  # pairs it with the ProposalExecuted that follows it in its transaction


@dataclass(frozen=True)
class ProposalVoteRecord:
    """One member's vote on a proposal."""

    member: str
    support: bool
    block_number: int
    timestamp: int  # of its block: votes count only before the proposal's vote end
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class ProposalRecord:
    """A governance proposal: what it asks, who voted how, and whether it was executed.

    ``state`` is where it stood at the history's last block (active, defeated, succeeded,
    executed, expired or stale). ``applies_from_round`` is the first round its change
    governs, read from the change's own event, which the contract emits just before
    ProposalExecuted in the execution transaction.
    """

    id: int
    proposer: str
    kind: ProposalKind
    value: ProposalValue
    round: int  # the members of this round vote on it
    vote_end: int  # unix seconds
    votes_needed: int  # yes votes it needs: a strict majority of the members of ``round``
    config_version: int  # the config version it was voted against
    created_block: int
    votes: tuple[ProposalVoteRecord, ...]
    yes: int
    no: int
    state: ProposalState
    executed_block: int | None
    executed_tx: str | None
    executed_log_index: int | None  # one transaction may execute several proposals
    executed_timestamp: int | None  # of the executing block
    executed_by: str | None  # who sent the executing transaction (maybe through a contract)
    applies_from_round: int | None

    @property
    def executed(self) -> bool:
        """Whether the proposal was executed."""
        return self.executed_block is not None

    @property
    def summary(self) -> str:
        """What it does, in words ("set aggregation rule to 'median'")."""
        return describe_proposal(self.kind, self.value)


@dataclass(frozen=True)
class History:
    """Everything a federation's contract recorded, from its deploy block to ``latest_block``."""

    chain_id: int
    contract: str
    deploy_block: int
    latest_block: int
    latest_timestamp: int  # "now" for the history: rounds past their deadline are expired
    genesis_digest: bytes
    genesis_cid: str
    rounds: tuple[RoundRecord, ...]
    configs: tuple[ConfigChanged, ...]
    membership: tuple[MembershipChange, ...]
    proposals: tuple[ProposalRecord, ...]
    encryption_keys: tuple[KeyRecord, ...]  # in chain order

    def round(self, number: int) -> RoundRecord:
        """Return round ``number``; KeyError if the history has no such round."""
        for record in self.rounds:
            if record.round == number:
                return record
        raise KeyError(number)

    def keys_in_force(self, number: int) -> dict[str, bytes]:
        """Return the encryption keys in force in round ``number``, by account.

        The contract's and the agents' rule (:meth:`daofed.chain.Federation.encryption_keys`):
        an account's last key registered before the round's RoundOpened event in chain
        order, so a key set or rotated during a round counts from the next one.
        """
        record = self.round(number)
        return keys_in_force(self.encryption_keys, (record.opened_block, record.opened_log_index))

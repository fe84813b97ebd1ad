"""Values the chain layer hands to the rest of daofed: plain, frozen, typed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from daofed.storage import BlobRef


class Phase(IntEnum):
    """Where a round stands; mirrors ``IFederation.Phase`` (same order, same values).

    REVEAL has the highest value although in a round it comes between SUBMIT and VOTE (and
    only with commit-reveal on): the values are the contract's ABI, not the phases' order.
    """

    NONE = 0  # not opened
    SUBMIT = 1  # with commit-reveal: members commit
    VOTE = 2
    ACCEPTED = 3
    EXPIRED = 4  # vote deadline passed without quorum; anyone may close it
    CLOSED = 5
    REVEAL = 6  # commit-reveal only: committers reveal their updates

    @property
    def label(self) -> str:
        """Lower-case name for messages and tables."""
        return self.name.lower()


@dataclass(frozen=True)
class RoundInfo:
    """One round: what it trains from, its snapshot of the parameters, and where it stands.

    The fields follow the contract's ``RoundInfo`` struct, in its order.
    """

    round: int
    base: BlobRef  # the model the round trains from
    accepted: BlobRef | None  # the aggregate accepted in this round, if any
    start_time: int  # unix seconds, as every time here
    submit_deadline: int  # with commit-reveal: the commitment deadline
    reveal_deadline: int  # equals submit_deadline without commit-reveal
    vote_deadline: int
    config_version: int
    quorum: int
    member_count: int
    commits: int  # commitments made (commit-reveal only)
    submissions: int  # updates submitted (with commit-reveal: revealed)
    commit_reveal: bool
    phase: Phase
    max_samples: int  # the most samples one update of this round may claim


@dataclass(frozen=True)
class FederationConfig:
    """One version of the governed round parameters (the contract's ``Config``, in order)."""

    version: int
    quorum: int  # votes for one (digest, CID) that accept an aggregate
    submit_window: int  # seconds
    vote_window: int  # seconds
    reveal_window: int  # seconds; counts only in rounds with commit-reveal
    voting_period: int  # seconds a governance proposal is open for votes
    commit_reveal: bool
    rule: str  # aggregation rule spec, see daofed.learning.aggregation.parse_rule
    max_samples: int  # the most samples one update may claim (its FedAvg weight)


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction."""

    tx_hash: str  # 0x-prefixed
    block_number: int
    gas_used: int


class ProposalKind(IntEnum):
    """What a governance proposal changes; mirrors ``IFederationGovernance.ProposalKind``."""

    ADD_MEMBER = 0
    REMOVE_MEMBER = 1
    SET_QUORUM = 2
    SET_WINDOWS = 3
    SET_RULE = 4
    SET_COMMIT_REVEAL = 5
    SET_VOTING_PERIOD = 6
    SET_MAX_SAMPLES = 7

    @property
    def changes_config(self) -> bool:
        """Whether it changes the config (and so goes stale when another version takes over)."""
        return self not in (ProposalKind.ADD_MEMBER, ProposalKind.REMOVE_MEMBER)

    @property
    def label(self) -> str:
        """Lower-case, dashed name for messages, tables and command lines."""
        return self.name.lower().replace("_", "-")


class ProposalState(IntEnum):
    """Where a proposal stands; mirrors ``IFederationGovernance.ProposalState``."""

    NONE = 0  # no such proposal
    ACTIVE = 1  # open for votes
    DEFEATED = 2  # voting over without yes votes from a majority of the round's members
    SUCCEEDED = 3  # voting over, carried: anyone may execute it until its execute_by
    EXECUTED = 4
    EXPIRED = 5  # carried, but not executed in time
    STALE = 6  # a config proposal overtaken by a newer config version

    @property
    def label(self) -> str:
        """Lower-case name for messages and tables."""
        return self.name.lower()


@dataclass(frozen=True)
class Windows:
    """Round windows in seconds: the argument of a SET_WINDOWS proposal."""

    submit: int
    vote: int
    reveal: int


ProposalValue = str | int | bool | Windows
"""The argument of a proposal, by kind: an address (ADD_MEMBER, REMOVE_MEMBER), a quorum, a
voting period in seconds or a sample cap (int), a :class:`Windows`, a rule spec (str) or a
switch (bool)."""


@dataclass(frozen=True)
class ProposalInfo:
    """One governance proposal as the contract holds it now (the proposer is in its event)."""

    proposal_id: int
    kind: ProposalKind
    value: ProposalValue
    state: ProposalState
    round: int  # the members of this round may vote
    vote_end: int  # unix seconds; votes are accepted before it
    votes_needed: int  # yes votes it needs: a strict majority of the members of ``round``
    yes: int
    no: int
    config_version: int  # the config version it was voted against
    execute_by: int  # unix seconds; a proposal that carried executes only before it


@dataclass(frozen=True)
class RoundSnapshot:
    """Everything about the current round that matters to one member, read at one block.

    Read at one block so the facts cannot disagree with each other; the protocol core
    decides a member's next action from it alone (:func:`daofed.protocol.next_action`).
    """

    block: int
    round: int
    phase: Phase
    is_member: bool
    commit_reveal: bool
    committed: bool
    submitted: bool
    voted: bool

"""Values the chain layer hands to the rest of daofed: plain, frozen, typed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from daofed.storage import BlobRef


class Phase(IntEnum):
    """Where a round stands; mirrors ``IFederation.Phase`` (same order, same values)."""

    NONE = 0  # not opened
    SUBMIT = 1
    VOTE = 2
    ACCEPTED = 3
    EXPIRED = 4  # vote deadline passed without quorum; anyone may close it
    CLOSED = 5

    @property
    def label(self) -> str:
        """Lower-case name for messages and tables."""
        return self.name.lower()


@dataclass(frozen=True)
class RoundInfo:
    """One round: what it trains from, its snapshot of the parameters, and where it stands."""

    round: int
    base: BlobRef  # the model the round trains from
    accepted: BlobRef | None  # the aggregate accepted in this round, if any
    start_time: int  # unix seconds, as every time here
    submit_deadline: int
    vote_deadline: int
    config_version: int
    quorum: int
    member_count: int
    submissions: int
    phase: Phase


@dataclass(frozen=True)
class FederationConfig:
    """One version of the governed round parameters."""

    version: int
    quorum: int
    submit_window: int  # seconds
    vote_window: int  # seconds
    rule: str  # aggregation rule spec, see daofed.learning.aggregation.parse_rule


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction."""

    tx_hash: str  # 0x-prefixed
    block_number: int
    gas_used: int

"""Who was a member of which round, replayed from MemberAdded/MemberRemoved events.

The contract only remembers each account's latest membership (``isMember`` is exact for
the current and coming rounds), so the members of an *earlier* round must come from the
events. This replays them the way the contract applies them: a change takes effect at
``from_round``; re-adding an account whose removal is still pending cancels the removal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from daofed.audit.eventlog import EventLog
from daofed.audit.records import Change, MembershipChange
from daofed.chain import MemberAdded, MemberRemoved

_FOREVER = 2**64 - 1


@dataclass(frozen=True)
class Tenure:
    """``account`` is a member of rounds ``from_round <= r < until_round``."""

    account: str
    from_round: int
    until_round: int = _FOREVER

    @property
    def open_ended(self) -> bool:
        """Whether no removal has been scheduled."""
        return self.until_round == _FOREVER

    def covers(self, round_number: int) -> bool:
        """Whether this tenure includes ``round_number``."""
        return self.from_round <= round_number < self.until_round


def tenures(changes: Iterable[MembershipChange]) -> tuple[Tenure, ...]:
    """Replay ``changes`` (in chain order) into tenures, in order of first admission."""
    by_account: dict[str, list[Tenure]] = {}
    for change in changes:
        spans = by_account.setdefault(change.account, [])
        last = spans[-1] if spans else None
        if change.change is Change.ADDED:
            if last is not None and last.until_round >= change.from_round:
                spans[-1] = Tenure(change.account, last.from_round)  # removal cancelled
            else:
                spans.append(Tenure(change.account, change.from_round))
        elif last is not None:
            spans[-1] = Tenure(change.account, last.from_round, change.from_round)
    return tuple(span for spans in by_account.values() for span in spans)


def members_of(spans: Iterable[Tenure], round_number: int) -> tuple[str, ...]:
    """List the members of ``round_number``, in order of first admission (as ``members()``)."""
    return tuple(span.account for span in spans if span.covers(round_number))


def read_membership(log: EventLog) -> tuple[MembershipChange, ...]:
    """Every admission and removal in ``log``, in chain order."""
    added: list[tuple[MemberAdded | MemberRemoved, Change]] = [
        (event, Change.ADDED) for event in log.all(MemberAdded)
    ]
    removed: list[tuple[MemberAdded | MemberRemoved, Change]] = [
        (event, Change.REMOVED) for event in log.all(MemberRemoved)
    ]
    ordered = sorted([*added, *removed], key=lambda pair: (pair[0].block_number, pair[0].log_index))
    return tuple(
        MembershipChange(
            event.account,
            change,
            event.from_round,
            event.block_number,
            event.tx_hash,
            event.log_index,
        )
        for event, change in ordered
    )

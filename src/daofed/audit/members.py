"""The federation's members: who is in, who joins or leaves at the next round, who left.

Membership changes take effect at a round boundary, so "member" alone is ambiguous; each
account's latest tenure (from the events) says which rounds it belongs to, and the
current round's views say whether it has submitted and voted yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from daofed.audit.eventlog import EventLog
from daofed.audit.membership import Tenure, read_membership, tenures
from daofed.chain import Federation


class Standing(StrEnum):
    """An account's membership relative to the current round."""

    MEMBER = "member"  # member of the current round and of the coming ones
    LEAVING = "leaving"  # member of the current round, removed from the next one on
    JOINING = "joining"  # admitted from a coming round on
    FORMER = "former"  # no longer a member


@dataclass(frozen=True)
class MemberInfo:
    """One account that is or was a member, by its latest tenure."""

    address: str
    standing: Standing
    from_round: int
    until_round: int | None  # first round it is no longer a member of; None: open-ended
    submitted: bool  # in the current round
    voted: bool  # in the current round
    node_addresses: tuple[str, ...]  # where its IPFS node listens, as it last published


@dataclass(frozen=True)
class Membership:
    """Everyone who is, will be or was a member, as of ``round``."""

    round: int
    members: tuple[MemberInfo, ...]


def read_members(federation: Federation) -> Membership:
    """List every account the federation ever admitted, by order of first admission."""
    log = EventLog(federation)
    current = federation.current_round()
    latest: dict[str, Tenure] = {}
    for span in tenures(read_membership(log)):
        latest[span.account] = span  # later tenures of an account come later
    infos = []
    for span in latest.values():
        in_round = span.covers(current)
        infos.append(
            MemberInfo(
                address=span.account,
                standing=_standing(span, current),
                from_round=span.from_round,
                until_round=None if span.open_ended else span.until_round,
                submitted=in_round and federation.has_submitted(current, span.account),
                voted=in_round and federation.has_voted(current, span.account),
                node_addresses=federation.node_addresses(span.account),
            )
        )
    return Membership(current, tuple(infos))


def _standing(span: Tenure, current: int) -> Standing:
    if span.covers(current):
        return Standing.MEMBER if span.open_ended else Standing.LEAVING
    return Standing.JOINING if span.from_round > current else Standing.FORMER

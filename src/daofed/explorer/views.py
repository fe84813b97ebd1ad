"""What the explorer's pages show, computed from a history: plain values for the templates.

Templates only lay values out; every count, lookup and cut of the history is made here,
where it can be tested without a browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from daofed.audit import Evaluation, History, Outcome, RoundRecord, Verdict, Verification
from daofed.audit.membership import tenures
from daofed.chain import ConfigChanged

ROUNDS_PER_PAGE = 50
"""Rounds on one page of the timeline (newest first)."""

HEATMAP_ROUNDS = 100
"""Latest rounds in the overview's participation heatmap (a member's totals cover all)."""


class Cell(StrEnum):
    """What one member did in one round, as the participation heatmap colours it."""

    BOTH = "submitted+voted"
    SUBMITTED = "submitted"  # submitted (or revealed) and did not vote
    VOTED = "voted"  # voted without contributing an update: a free-rider
    COMMITTED = "committed"  # committed and never revealed
    PENDING = "pending"  # has done nothing yet in a round still open: it may still act
    ABSENT = "absent"  # a member who did nothing
    OUTSIDE = "not-member"


@dataclass(frozen=True)
class MemberRow:
    """One tenure of a member: when it joined and left, and what it did meanwhile."""

    address: str
    joined: int  # first round it is a member of
    left: int | None  # first round it is no longer a member of; None: still a member
    rounds: int  # rounds of the history it was a member of
    submitted: int
    voted: int


@dataclass(frozen=True)
class Heatmap:
    """Participation of every member in the latest rounds: ``cells[member][i]`` is ``rounds[i]``."""

    rounds: tuple[int, ...]
    members: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]


def cell(record: RoundRecord, member: str) -> Cell:
    """Say what ``member`` did in round ``record``."""
    if member not in record.members:
        return Cell.OUTSIDE
    submitted = any(u.member == member for u in record.updates)
    voted = any(v.member == member for v in record.votes)
    if submitted:
        return Cell.BOTH if voted else Cell.SUBMITTED
    if voted:
        return Cell.VOTED
    if any(c.member == member for c in record.commits):
        return Cell.COMMITTED
    return Cell.PENDING if record.outcome is Outcome.OPEN else Cell.ABSENT


def member_rows(history: History) -> tuple[MemberRow, ...]:
    """Every tenure in order of admission, with its participation over the whole history."""
    rows = []
    for span in tenures(history.membership):
        served = [r for r in history.rounds if span.covers(r.round)]
        cells = [cell(r, span.account) for r in served]
        rows.append(
            MemberRow(
                address=span.account,
                joined=span.from_round,
                left=None if span.open_ended else span.until_round,
                rounds=len(served),
                submitted=sum(c in (Cell.BOTH, Cell.SUBMITTED) for c in cells),
                voted=sum(c in (Cell.BOTH, Cell.VOTED) for c in cells),
            )
        )
    return tuple(rows)


def heatmap(history: History, latest: int = HEATMAP_ROUNDS) -> Heatmap:
    """Participation in the ``latest`` rounds of everyone who was a member of any of them."""
    shown = history.rounds[-latest:]
    members = tuple(dict.fromkeys(m for r in shown for m in r.members))
    return Heatmap(
        rounds=tuple(r.round for r in shown),
        members=members,
        cells=tuple(tuple(cell(r, member) for r in shown) for member in members),
    )


def config_of(history: History, version: int) -> ConfigChanged | None:
    """Return config ``version`` of the federation (None if no event declares it)."""
    return next((c for c in history.configs if c.version == version), None)


@dataclass(frozen=True)
class Page:
    """One page of the timeline: its rounds (newest first) and its neighbours."""

    number: int  # 1 is the newest
    count: int
    rounds: tuple[RoundRecord, ...]

    @property
    def newer(self) -> int | None:
        """The page of newer rounds, if any."""
        return self.number - 1 if self.number > 1 else None

    @property
    def older(self) -> int | None:
        """The page of older rounds, if any."""
        return self.number + 1 if self.number < self.count else None


def timeline_page(history: History, number: int) -> Page:
    """Page ``number`` (clamped to the pages there are) of the rounds, newest first."""
    count = max(1, -(-len(history.rounds) // ROUNDS_PER_PAGE))
    number = min(max(1, number), count)
    newest_first = history.rounds[::-1]
    start = (number - 1) * ROUNDS_PER_PAGE
    return Page(number, count, tuple(newest_first[start : start + ROUNDS_PER_PAGE]))


def page_of(history: History, round_number: int) -> int:
    """Return the timeline page that shows ``round_number``."""
    if not history.rounds:
        return 1
    return (history.rounds[-1].round - round_number) // ROUNDS_PER_PAGE + 1


def verdicts(verification: Verification | None) -> dict[int, Verdict]:
    """Each verified round's verdict (empty before a verification finished)."""
    return {r.round: r.verdict for r in verification.rounds} if verification else {}


def chart_data(
    history: History | None, evaluation: Evaluation | None, gas: Mapping[int, int]
) -> dict[str, object]:
    """Return the series the overview's charts draw: every metric and the gas, per round.

    ``headline`` is the metric drawn first (accuracy when the task reports it).
    """
    metrics = evaluation.metrics if evaluation is not None else ()
    rounds = history.rounds if history is not None else ()
    return {
        "headline": evaluation.headline if evaluation is not None else None,
        "metrics": {
            name: [[r, v] for r, v in evaluation.series(name)]
            for name in metrics
            if evaluation is not None
        },
        "gas": [[r.round, gas.get(r.round, 0)] for r in rounds],
    }

"""Check the governance record: every change was decided, every decision was carried.

The contract enforces all of this; the audit re-checks it from the events, so a reader
need not trust the contract's code (or that the address runs the code it claims):
- every config version and membership change after deployment was made in the
  transaction that executed a proposal, and it is the change that proposal asked for;
- every executed proposal had its quorum of yes votes and more yes than no;
- only members of the proposal's round voted on it, each at most once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from daofed.audit.membership import members_of, tenures
from daofed.audit.records import Change, History, MembershipChange, ProposalRecord
from daofed.chain import ConfigChanged, Windows


@dataclass(frozen=True)
class GovernanceFinding:
    """One thing in the governance record that does not hold (``reason`` is a stable tag)."""

    proposal: int | None  # the proposal concerned, if any
    reason: str
    message: str


def check_governance(history: History) -> tuple[GovernanceFinding, ...]:
    """Re-check every proposal and every change of members or config in ``history``."""
    findings: list[GovernanceFinding] = []
    executed = {p.executed_tx: p for p in history.proposals if p.executed_tx is not None}
    for config in history.configs:
        if config.block_number != history.deploy_block:
            findings += _config_decided(config, executed.get(config.tx_hash))
    for change in history.membership:
        if change.block_number != history.deploy_block:
            findings += _membership_decided(change, executed.get(change.tx_hash))
    spans = tenures(history.membership)
    for proposal in history.proposals:
        findings += _votes_valid(proposal, members_of(spans, proposal.round))
        if proposal.executed:
            findings += _carried(proposal)
    return tuple(findings)


def _config_decided(
    config: ConfigChanged, proposal: ProposalRecord | None
) -> list[GovernanceFinding]:
    what = f"config v{config.version} (from round {config.from_round})"
    if proposal is None:
        return [_finding(None, "change-without-proposal", f"{what} was not made by a proposal")]
    expected = {
        "set-quorum": config.quorum,
        "set-rule": config.rule,
        "set-commit-reveal": config.commit_reveal,
        "set-voting-period": config.voting_period,
        "set-windows": Windows(config.submit_window, config.vote_window, config.reveal_window),
    }.get(proposal.kind)
    if expected is None or expected != proposal.value:
        return [
            _finding(
                proposal.id,
                "change-not-proposed",
                f"{what} does not carry out proposal {proposal.id} ({proposal.summary})",
            )
        ]
    return []


def _membership_decided(
    change: MembershipChange, proposal: ProposalRecord | None
) -> list[GovernanceFinding]:
    what = f"{change.account} {change.change.value} from round {change.from_round}"
    if proposal is None:
        return [_finding(None, "change-without-proposal", f"{what} was not made by a proposal")]
    kind = "add-member" if change.change is Change.ADDED else "remove-member"
    if proposal.kind != kind or proposal.value != change.account:
        return [
            _finding(
                proposal.id,
                "change-not-proposed",
                f"{what} does not carry out proposal {proposal.id} ({proposal.summary})",
            )
        ]
    return []


def _votes_valid(proposal: ProposalRecord, members: tuple[str, ...]) -> list[GovernanceFinding]:
    findings = [
        _finding(
            proposal.id,
            "non-member-vote",
            f"proposal {proposal.id}: {vote.member} voted but is not a member of round "
            f"{proposal.round}",
        )
        for vote in proposal.votes
        if vote.member not in members
    ]
    repeated = [member for member, n in Counter(v.member for v in proposal.votes).items() if n > 1]
    findings += [
        _finding(proposal.id, "double-vote", f"proposal {proposal.id}: {member} voted twice")
        for member in repeated
    ]
    return findings


def _carried(proposal: ProposalRecord) -> list[GovernanceFinding]:
    if proposal.yes >= proposal.votes_needed and proposal.yes > proposal.no:
        return []
    return [
        _finding(
            proposal.id,
            "not-carried",
            f"proposal {proposal.id} ({proposal.summary}) was executed with {proposal.yes} yes "
            f"and {proposal.no} no votes; it needed {proposal.votes_needed} yes and more yes "
            "than no",
        )
    ]


def _finding(proposal: int | None, reason: str, message: str) -> GovernanceFinding:
    return GovernanceFinding(proposal, reason, message)

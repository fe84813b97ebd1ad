"""Check the governance record: every change was decided, every decision was carried.

The contract enforces all of this; the audit re-checks it from the events, so a reader
need not trust the contract's code (or that the address runs the code it claims):
- every config version and membership change after deployment was made by the execution
  of a proposal (the ProposalExecuted that follows it in its transaction, see
  :mod:`.executions`), and it is the change that proposal asked for;
- every executed proposal made a change, had yes votes from a strict majority of the
  members of its round, was executed after its voting ended and within its execution
  period (not expired), and a config change was executed on the config version it was
  voted against (not stale);
- only members of the proposal's round voted on it, each at most once, before its vote end.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from daofed.audit.executions import Position, pair_changes
from daofed.audit.membership import members_of, tenures
from daofed.audit.records import Change, History, MembershipChange, ProposalRecord
from daofed.chain import ConfigChanged, ProposalKind
from daofed.chain.checks import EXECUTION_PERIOD
from daofed.chain.proposals import KINDS


@dataclass(frozen=True)
class GovernanceFinding:
    """One thing in the governance record that does not hold (``reason`` is a stable tag)."""

    proposal: int | None  # the proposal concerned, if any
    reason: str
    message: str


def check_governance(history: History) -> tuple[GovernanceFinding, ...]:
    """Re-check every proposal and every change of members or config in ``history``."""
    executions = {
        (p.executed_tx, p.executed_log_index): p
        for p in history.proposals
        if p.executed_tx is not None and p.executed_log_index is not None
    }
    configs = [c for c in history.configs if c.block_number != history.deploy_block]
    membership = [c for c in history.membership if c.block_number != history.deploy_block]
    changes = [(c.tx_hash, c.log_index) for c in configs]
    changes += [(c.tx_hash, c.log_index) for c in membership]
    made = pair_changes(changes, executions)
    decided_by = {change: executions[execution] for change, execution in made.items()}
    findings: list[GovernanceFinding] = []
    for config in configs:
        findings += _config_decided(config, decided_by.get((config.tx_hash, config.log_index)))
    for change in membership:
        findings += _membership_decided(change, decided_by.get((change.tx_hash, change.log_index)))
    spans = tenures(history.membership)
    for proposal in history.proposals:
        members = members_of(spans, proposal.round)
        findings += _votes_valid(proposal, members)
        if proposal.executed:
            findings += _carried(proposal, members) + _in_time(proposal)
    findings += _without_change(executions, set(made.values()))
    return tuple(findings)


def _config_decided(
    config: ConfigChanged, proposal: ProposalRecord | None
) -> list[GovernanceFinding]:
    what = f"config v{config.version} (from round {config.from_round})"
    if proposal is None:
        return [_finding(None, "change-without-proposal", f"{what} was not made by a proposal")]
    in_config = KINDS[proposal.kind].in_config
    expected = None if in_config is None else in_config(config)
    if expected is None or expected != proposal.value:
        return [
            _finding(
                proposal.id,
                "change-not-proposed",
                f"{what} does not carry out proposal {proposal.id} ({proposal.summary})",
            )
        ]
    if config.version != proposal.config_version + 1:
        return [
            _finding(
                proposal.id,
                "stale",
                f"proposal {proposal.id} ({proposal.summary}) was voted against config "
                f"v{proposal.config_version} but made {what}: it was stale",
            )
        ]
    return []


def _membership_decided(
    change: MembershipChange, proposal: ProposalRecord | None
) -> list[GovernanceFinding]:
    what = f"{change.account} {change.change.value} from round {change.from_round}"
    if proposal is None:
        return [_finding(None, "change-without-proposal", f"{what} was not made by a proposal")]
    kind = ProposalKind.ADD_MEMBER if change.change is Change.ADDED else ProposalKind.REMOVE_MEMBER
    if proposal.kind is not kind or proposal.value != change.account:
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
    findings += [
        _finding(
            proposal.id,
            "late-vote",
            f"proposal {proposal.id}: {vote.member} voted at {vote.timestamp}, not before its "
            f"vote end {proposal.vote_end}",
        )
        for vote in proposal.votes
        if vote.timestamp >= proposal.vote_end
    ]
    return findings


def _carried(proposal: ProposalRecord, members: tuple[str, ...]) -> list[GovernanceFinding]:
    """Check an executed proposal had yes votes from a strict majority of its round's members."""
    needed = len(members) // 2 + 1
    counted = [v for v in proposal.votes if v.member in members and v.timestamp < proposal.vote_end]
    voters = {vote.member: vote.support for vote in reversed(counted)}  # first vote wins
    yes = sum(voters.values())
    findings = []
    if proposal.votes_needed != needed:
        findings.append(
            _finding(
                proposal.id,
                "wrong-threshold",
                f"proposal {proposal.id} asked for {proposal.votes_needed} yes votes; a strict "
                f"majority of the {len(members)} members of round {proposal.round} is {needed}",
            )
        )
    if yes < needed:
        findings.append(
            _finding(
                proposal.id,
                "not-carried",
                f"proposal {proposal.id} ({proposal.summary}) was executed with {yes} yes votes "
                f"from members of round {proposal.round}; it needed {needed}, a strict "
                f"majority of its {len(members)} members",
            )
        )
    return findings


def _in_time(proposal: ProposalRecord) -> list[GovernanceFinding]:
    """Check a proposal was executed after its vote end, before it expired."""
    executed_at, deadline = proposal.executed_timestamp, proposal.vote_end + EXECUTION_PERIOD
    if executed_at is None or proposal.vote_end <= executed_at < deadline:
        return []
    return [
        _finding(
            proposal.id,
            "executed-out-of-time",
            f"proposal {proposal.id} ({proposal.summary}) was executed at {executed_at}; it "
            f"could be from its vote end {proposal.vote_end} until {deadline}, when it expired",
        )
    ]


def _without_change(
    executions: dict[Position, ProposalRecord], made: set[Position]
) -> list[GovernanceFinding]:
    return [
        _finding(
            proposal.id,
            "executed-without-change",
            f"proposal {proposal.id} ({proposal.summary}) was executed but changed nothing",
        )
        for position, proposal in executions.items()
        if position not in made
    ]


def _finding(proposal: int | None, reason: str, message: str) -> GovernanceFinding:
    return GovernanceFinding(proposal, reason, message)

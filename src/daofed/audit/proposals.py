"""Governance proposals as the auditor sees them: who proposed what, who voted how, the end.

Read from the governance events (ProposalCreated, ProposalVoted, ProposalExecuted) of the
same snapshot as the rounds. What an executed proposal changed is the ConfigChanged,
MemberAdded or MemberRemoved event its execution emitted (see :mod:`.executions`), so
each proposal is linked to the round its change governs from. Who executed it is the
sender of the executing transaction (anyone may execute, also through a contract).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from daofed.audit.eventlog import EventLog
from daofed.audit.executions import Position, pair_changes
from daofed.audit.records import ProposalRecord, ProposalVoteRecord
from daofed.chain import (
    ChainEvent,
    ConfigChanged,
    MemberAdded,
    MemberRemoved,
    ProposalCreated,
    ProposalExecuted,
    ProposalState,
    ProposalVoted,
)


def read_proposals(log: EventLog) -> tuple[ProposalRecord, ...]:
    """Every proposal in ``log``, oldest first (none if the contract has no governance)."""
    if not log.has_event("ProposalCreated"):
        return ()
    created = log.all(ProposalCreated)
    if not created:
        return ()
    votes: dict[int, list[ProposalVoted]] = defaultdict(list)
    for vote in log.all(ProposalVoted):
        votes[vote.proposal_id].append(vote)
    executions = log.all(ProposalExecuted)
    executed = {event.proposal_id: event for event in executions}
    context = _Context(
        log.timestamps([*log.all(ProposalVoted), *executions]),
        log.senders(executions),
        _effects(log, executions),
    )
    return tuple(
        _record(event, votes[event.proposal_id], executed.get(event.proposal_id), context, log)
        for event in created
    )


@dataclass(frozen=True)
class _Context:
    """What the proposals' own events leave out: when, who executed, where changes apply."""

    times: Mapping[int, int]  # block -> timestamp, for votes and executions
    senders: Mapping[str, str]  # tx hash -> sender
    effects: Mapping[Position, int]  # execution -> the round its change applies from


def _record(
    created: ProposalCreated,
    votes: list[ProposalVoted],
    executed: ProposalExecuted | None,
    context: _Context,
    log: EventLog,
) -> ProposalRecord:
    yes = sum(v.support for v in votes)
    if executed is not None:
        state = ProposalState.EXECUTED
    else:  # active, defeated, succeeded, expired or stale depends on the time: ask
        state = log.federation.proposal_state(created.proposal_id)
        if state is ProposalState.EXECUTED:  # executed after the snapshot block
            state = ProposalState.SUCCEEDED
    return ProposalRecord(
        id=created.proposal_id,
        proposer=created.proposer,
        kind=created.kind,
        value=created.value,
        round=created.round,
        vote_end=created.vote_end,
        votes_needed=created.votes_needed,
        config_version=created.config_version,
        created_block=created.block_number,
        votes=tuple(
            ProposalVoteRecord(
                v.voter,
                v.support,
                v.block_number,
                context.times[v.block_number],
                v.tx_hash,
                v.log_index,
            )
            for v in votes
        ),
        yes=yes,
        no=len(votes) - yes,
        state=state,
        executed_block=executed.block_number if executed else None,
        executed_tx=executed.tx_hash if executed else None,
        executed_log_index=executed.log_index if executed else None,
        executed_timestamp=context.times[executed.block_number] if executed else None,
        executed_by=context.senders[executed.tx_hash] if executed else None,
        applies_from_round=context.effects.get(_position(executed)) if executed else None,
    )


def _effects(log: EventLog, executions: list[ProposalExecuted]) -> dict[Position, int]:
    """Map each execution that changed members or config to the round its change applies from."""
    changes: list[ConfigChanged | MemberAdded | MemberRemoved] = [
        *log.all(ConfigChanged),
        *log.all(MemberAdded),
        *log.all(MemberRemoved),
    ]
    made = pair_changes(map(_position, changes), map(_position, executions))
    return {made[_position(c)]: c.from_round for c in changes if _position(c) in made}


def _position(event: ChainEvent) -> Position:
    return (event.tx_hash, event.log_index)

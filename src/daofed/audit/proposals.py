"""Governance proposals as the auditor sees them: who proposed what, who voted how, the end.

Read from the governance events (ProposalCreated, ProposalVoted, ProposalExecuted) of the
same snapshot as the rounds. What an executed proposal changed is the ConfigChanged,
MemberAdded or MemberRemoved event emitted in the very transaction that executed it, so
each proposal is linked to the round its change governs from.
"""

from __future__ import annotations

from collections import defaultdict

from daofed.audit.eventlog import EventLog
from daofed.audit.records import ProposalRecord, ProposalVoteRecord
from daofed.chain import (
    ConfigChanged,
    MemberAdded,
    MemberRemoved,
    ProposalCreated,
    ProposalExecuted,
    ProposalState,
    ProposalVoted,
    describe_proposal,
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
    executed = {event.proposal_id: event for event in log.all(ProposalExecuted)}
    effects = _effects(log)
    return tuple(
        _record(
            event,
            votes[event.proposal_id],
            executed.get(event.proposal_id),
            effects,
            log,
        )
        for event in created
    )


def _record(
    created: ProposalCreated,
    votes: list[ProposalVoted],
    executed: ProposalExecuted | None,
    effects: dict[str, int],
    log: EventLog,
) -> ProposalRecord:
    yes = sum(v.support for v in votes)
    if executed is not None:
        state = ProposalState.EXECUTED
    else:  # active, defeated or succeeded depends on the time: ask the contract
        state = log.federation.proposal_state(created.proposal_id)
        if state is ProposalState.EXECUTED:  # executed after the snapshot block
            state = ProposalState.SUCCEEDED
    return ProposalRecord(
        id=created.proposal_id,
        proposer=created.proposer,
        kind=created.kind.label,
        value=created.value,
        summary=describe_proposal(created.kind, created.value),
        round=created.round,
        vote_end=created.vote_end,
        votes_needed=created.votes_needed,
        created_block=created.block_number,
        votes=tuple(
            ProposalVoteRecord(v.voter, v.support, v.block_number, v.tx_hash) for v in votes
        ),
        yes=yes,
        no=len(votes) - yes,
        state=state.label,
        executed_block=executed.block_number if executed else None,
        executed_tx=executed.tx_hash if executed else None,
        applies_from_round=effects.get(executed.tx_hash) if executed else None,
    )


def _effects(log: EventLog) -> dict[str, int]:
    """Map each transaction that changed members or config to the round it applies from."""
    changes: list[ConfigChanged | MemberAdded | MemberRemoved] = [
        *log.all(ConfigChanged),
        *log.all(MemberAdded),
        *log.all(MemberRemoved),
    ]
    return {change.tx_hash: change.from_round for change in changes}

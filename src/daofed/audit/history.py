"""Rebuild a federation's whole history from its contract's events, and nothing else.

An auditor may hold no deployment file, no store and no memory of the rounds: only an RPC
URL and the contract address. The events carry everything (every base, update, vote,
acceptance, membership and config change), so :func:`read_history` asks for each kind
once, all up to the same block, and assembles them per round. The one view it reads is
the chain id, to say which chain the history is from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from daofed.audit.eventlog import EventLog
from daofed.audit.membership import members_of, read_membership, tenures
from daofed.audit.proposals import read_proposals
from daofed.audit.records import (
    CommitRecord,
    DigestTally,
    History,
    Outcome,
    RoundRecord,
    UpdateRecord,
    VoteRecord,
)
from daofed.chain import (
    AggregateVoted,
    ConfigChanged,
    Federation,
    ModelAccepted,
    RoundClosed,
    RoundOpened,
    UpdateCommitted,
    UpdateSubmitted,
)
from daofed.errors import ChainError


class _RoundEvent(Protocol):
    @property
    def round(self) -> int: ...


R = TypeVar("R", bound=_RoundEvent)


def read_history(federation: Federation, *, to_block: int | None = None) -> History:
    """Rebuild the history of ``federation`` from its deploy block to ``to_block`` (latest)."""
    log = EventLog(federation, to_block)
    opened = log.all(RoundOpened)
    if not opened:
        raise ChainError(
            f"no RoundOpened event at {federation.address} from block "
            f"{federation.deploy_block}: it is not a daofed federation, or the deploy block "
            "is wrong (omit it to read it from the contract)"
        )
    configs = tuple(log.all(ConfigChanged))
    membership = read_membership(log)
    spans = tenures(membership)
    commits = _by_round(log.all(UpdateCommitted))
    updates = _by_round(log.all(UpdateSubmitted))
    votes = _by_round(log.all(AggregateVoted))
    accepted = {event.round: event for event in log.all(ModelAccepted)}
    closed = {event.round for event in log.all(RoundClosed)}
    rule_of = {config.version: config.rule for config in configs}
    rounds = tuple(
        _round(
            event,
            rule_of.get(event.config_version, ""),
            members_of(spans, event.round),
            commits.get(event.round, []),
            updates.get(event.round, []),
            votes.get(event.round, []),
            accepted.get(event.round),
            event.round in closed,
        )
        for event in opened
    )
    return History(
        chain_id=log.chain_id,
        contract=federation.address,
        deploy_block=federation.deploy_block,
        latest_block=log.to_block,
        genesis_digest=opened[0].base_digest.hex(),
        genesis_cid=opened[0].base_cid,
        rounds=rounds,
        configs=configs,
        membership=membership,
        proposals=read_proposals(log),
    )


def _round(
    opened: RoundOpened,
    rule: str,
    members: tuple[str, ...],
    commits: Sequence[UpdateCommitted],
    updates: Sequence[UpdateSubmitted],
    votes: Sequence[AggregateVoted],
    accepted: ModelAccepted | None,
    closed: bool,
) -> RoundRecord:
    if accepted is not None:
        outcome = Outcome.ACCEPTED
    elif closed:
        outcome = Outcome.CLOSED
    else:
        outcome = Outcome.OPEN
    vote_records = tuple(vote_record(v) for v in votes)
    return RoundRecord(
        round=opened.round,
        base_digest=opened.base_digest.hex(),
        base_cid=opened.base_cid,
        config_version=opened.config_version,
        rule=rule,
        quorum=opened.quorum,
        member_count=opened.member_count,
        members=members,
        submit_deadline=opened.submit_deadline,
        reveal_deadline=opened.reveal_deadline,
        vote_deadline=opened.vote_deadline,
        commit_reveal=opened.commit_reveal,
        opened_block=opened.block_number,
        commits=tuple(
            CommitRecord(c.member, c.commitment.hex(), c.block_number, c.tx_hash) for c in commits
        ),
        updates=tuple(update_record(u) for u in updates),
        votes=vote_records,
        tallies=tally(vote_records),
        outcome=outcome,
        accepted_digest=accepted.digest.hex() if accepted else None,
        accepted_cid=accepted.cid if accepted else None,
    )


def update_record(event: UpdateSubmitted) -> UpdateRecord:
    """Turn an UpdateSubmitted event into its record (hex digest)."""
    return UpdateRecord(
        event.member,
        event.digest.hex(),
        event.cid,
        event.num_samples,
        event.block_number,
        event.tx_hash,
    )


def vote_record(event: AggregateVoted) -> VoteRecord:
    """Turn an AggregateVoted event into its record (hex digest)."""
    return VoteRecord(
        event.member, event.digest.hex(), event.cid, event.block_number, event.tx_hash
    )


def tally(votes: Iterable[VoteRecord]) -> tuple[DigestTally, ...]:
    """Group votes by digest: most votes first, then by first vote (chain order)."""
    voters: dict[str, list[VoteRecord]] = {}
    for vote in votes:
        voters.setdefault(vote.digest, []).append(vote)
    ranked = sorted(voters.values(), key=lambda group: -len(group))  # stable: ties by first vote
    return tuple(
        DigestTally(group[0].digest, group[0].cid, len(group), tuple(v.member for v in group))
        for group in ranked
    )


def _by_round(events: Iterable[R]) -> dict[int, list[R]]:
    grouped: dict[int, list[R]] = defaultdict(list)
    for event in events:
        grouped[event.round].append(event)
    return grouped

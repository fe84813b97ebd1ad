"""Rebuild a federation's whole history from its contract's events, and nothing else.

An auditor may hold no deployment file, no store and no memory of the rounds: only an RPC
URL and the contract address. The events carry everything (every base, update, vote,
acceptance, membership and config change), so :func:`read_history` asks for each kind
once, all up to the same block, and assembles them per round. Besides the events it reads
the chain id (which chain the history is from), the time of every block with an event
(deadlines are checked against it) and who sent the transactions that closed rounds or
executed proposals (anyone may). Private rounds add their setup and recovery messages and
the members' encryption keys, which say who took part in which round.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from daofed.audit.eventlog import EventLog
from daofed.audit.membership import members_of, read_membership, tenures
from daofed.audit.proposals import read_proposals
from daofed.audit.records import (
    CommitRecord,
    DigestTally,
    History,
    KeyRecord,
    Outcome,
    PostRecord,
    RoundRecord,
    UpdateRecord,
    VoteRecord,
)
from daofed.chain import (
    AggregateVoted,
    ConfigChanged,
    EncryptionKeySet,
    Federation,
    ModelAccepted,
    RecoveryPosted,
    RoundClosed,
    RoundOpened,
    SharesPosted,
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
    return HistoryReader(federation).read(to_block)


class HistoryReader:
    """Reads a federation's history again and again, asking the chain only for what is new.

    Whoever follows a running federation (the explorer, each block) keeps one reader: each
    :meth:`read` moves its event log forward and rebuilds the history from the events it
    already holds plus the new blocks', instead of decoding the whole history again.
    """

    def __init__(self, federation: Federation) -> None:
        self.federation = federation
        self._log: EventLog | None = None

    def read(self, to_block: int | None = None) -> History:
        """Return the history up to ``to_block`` (default: the latest block)."""
        if self._log is None:
            self._log = EventLog(self.federation, to_block)
        else:
            self._log.advance(to_block)
        return _assemble(self._log)


def _assemble(log: EventLog) -> History:
    """Build the history from the events of ``log``'s snapshot."""
    federation = log.federation
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
    setups, recoveries = _optional(log, SharesPosted), _optional(log, RecoveryPosted)
    times = log.timestamps(
        [
            *opened,
            *log.all(UpdateCommitted),
            *log.all(UpdateSubmitted),
            *log.all(AggregateVoted),
            *setups,
            *recoveries,
        ]
    )
    commits = _by_round(log.all(UpdateCommitted))
    updates = _by_round(log.all(UpdateSubmitted))
    votes = _by_round(log.all(AggregateVoted))
    posts = _Posts(_by_round(setups), _by_round(recoveries), times)
    accepted = {event.round: event for event in log.all(ModelAccepted)}
    closings = log.all(RoundClosed)
    closers = log.senders(closings)
    closed_by = {event.round: closers[event.tx_hash] for event in closings}
    rule_of = {config.version: config.rule for config in configs}
    rounds = tuple(
        _round(
            event,
            rule_of.get(event.config_version, ""),
            members_of(spans, event.round),
            commits.get(event.round, []),
            updates.get(event.round, []),
            votes.get(event.round, []),
            posts,
            times,
            _Ending(accepted.get(event.round), closed_by.get(event.round), log.to_timestamp),
        )
        for event in opened
    )
    return History(
        chain_id=log.chain_id,
        contract=federation.address,
        deploy_block=federation.deploy_block,
        latest_block=log.to_block,
        latest_timestamp=log.to_timestamp,
        genesis_digest=opened[0].base_digest,
        genesis_cid=opened[0].base_cid,
        rounds=rounds,
        configs=configs,
        membership=membership,
        proposals=read_proposals(log),
        encryption_keys=tuple(key_record(event) for event in _optional(log, EncryptionKeySet)),
    )


_Posted = TypeVar("_Posted", SharesPosted, RecoveryPosted, EncryptionKeySet)


def _optional(log: EventLog, kind: type[_Posted]) -> list[_Posted]:
    """Every ``kind`` event, or none when the contract predates private rounds."""
    return log.all(kind) if log.has_event(kind.__name__) else []


@dataclass(frozen=True)
class _Posts:
    """Private rounds' setup and recovery messages, by round."""

    setups: Mapping[int, Sequence[SharesPosted]]
    recoveries: Mapping[int, Sequence[RecoveryPosted]]
    times: Mapping[int, int]  # block -> timestamp

    def of(self, round_number: int) -> tuple[tuple[PostRecord, ...], tuple[PostRecord, ...]]:
        """Return round ``round_number``'s setup and recovery records."""
        return (
            tuple(post_record(e, self.times) for e in self.setups.get(round_number, [])),
            tuple(post_record(e, self.times) for e in self.recoveries.get(round_number, [])),
        )


@dataclass(frozen=True)
class _Ending:
    """How a round ended, if it did: accepted, closed (by whom), or as of ``now`` neither."""

    accepted: ModelAccepted | None
    closed_by: str | None
    now: int  # the snapshot block's time: a round past its vote deadline has expired

    def outcome(self, vote_deadline: int) -> Outcome:
        """Return the round's outcome, given its vote deadline (the contract's rule)."""
        if self.accepted is not None:
            return Outcome.ACCEPTED
        if self.closed_by is not None:
            return Outcome.CLOSED
        return Outcome.EXPIRED if self.now >= vote_deadline else Outcome.OPEN


def _round(
    opened: RoundOpened,
    rule: str,
    members: tuple[str, ...],
    commits: Sequence[UpdateCommitted],
    updates: Sequence[UpdateSubmitted],
    votes: Sequence[AggregateVoted],
    posts: _Posts,
    times: Mapping[int, int],
    ending: _Ending,
) -> RoundRecord:
    accepted = ending.accepted
    vote_records = tuple(vote_record(v, times) for v in votes)
    setups, recoveries = posts.of(opened.round)
    return RoundRecord(
        round=opened.round,
        base_digest=opened.base_digest,
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
        opened_timestamp=times[opened.block_number],
        opened_log_index=opened.log_index,
        commits=tuple(commit_record(c, times) for c in commits),
        updates=tuple(update_record(u, times) for u in updates),
        setups=setups,
        recoveries=recoveries,
        votes=vote_records,
        tallies=tally(vote_records),
        outcome=ending.outcome(opened.vote_deadline),
        accepted_digest=accepted.digest if accepted else None,
        accepted_cid=accepted.cid if accepted else None,
        closed_by=ending.closed_by,
    )


def commit_record(event: UpdateCommitted, times: Mapping[int, int]) -> CommitRecord:
    """Turn an UpdateCommitted event into its record (``times``: block -> time)."""
    return CommitRecord(
        event.member,
        event.commitment,
        event.block_number,
        times[event.block_number],
        event.tx_hash,
        event.log_index,
    )


def update_record(event: UpdateSubmitted, times: Mapping[int, int]) -> UpdateRecord:
    """Turn an UpdateSubmitted event into its record (``times``: block -> time)."""
    return UpdateRecord(
        event.member,
        event.digest,
        event.cid,
        event.num_samples,
        event.block_number,
        times[event.block_number],
        event.tx_hash,
        event.log_index,
    )


def vote_record(event: AggregateVoted, times: Mapping[int, int]) -> VoteRecord:
    """Turn an AggregateVoted event into its record (``times``: block -> time)."""
    return VoteRecord(
        event.member,
        event.digest,
        event.cid,
        event.block_number,
        times[event.block_number],
        event.tx_hash,
        event.log_index,
    )


def post_record(event: SharesPosted | RecoveryPosted, times: Mapping[int, int]) -> PostRecord:
    """Turn a SharesPosted or RecoveryPosted event into its record (``times``: block -> time)."""
    return PostRecord(
        event.member,
        event.digest,
        event.cid,
        event.block_number,
        times[event.block_number],
        event.tx_hash,
        event.log_index,
    )


def key_record(event: EncryptionKeySet) -> KeyRecord:
    """Turn an EncryptionKeySet event into its record."""
    return KeyRecord(event.account, event.key, event.block_number, event.tx_hash, event.log_index)


def tally(votes: Iterable[VoteRecord]) -> tuple[DigestTally, ...]:
    """Group votes by (digest, CID), as the contract counts them.

    Most votes first, then by first vote (chain order).
    """
    voters: dict[tuple[bytes, str], list[VoteRecord]] = {}
    for vote in votes:
        voters.setdefault((vote.digest, vote.cid), []).append(vote)
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

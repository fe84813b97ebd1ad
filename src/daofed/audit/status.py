"""Where the current round stands right now: phase, deadlines, who submitted, the votes.

Read from the contract's views (phase, deadlines) and the round's events (updates,
votes). With the blob store, the submitted updates are also checked the way every member
will check them, so a person sees which updates will be excluded, and which aggregate an
honest member computes, before voting.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from daofed.audit.eventlog import block_timestamps
from daofed.audit.history import tally, update_record, vote_record
from daofed.audit.records import DigestTally, UpdateRecord
from daofed.chain import Federation, Phase, RoundInfo, UpdateSubmitted
from daofed.chain.tx import rpc_errors
from daofed.errors import ChainError, ConfigError, LearningError, StorageError
from daofed.learning.aggregation import parse_rule
from daofed.protocol import Exclusion, UpdatePolicy, aggregate_round
from daofed.protocol.genesis import fetch_genesis, fetch_model
from daofed.storage import BlobStore


@dataclass(frozen=True)
class MemberState:
    """One member of the current round and what it has done in it."""

    address: str
    committed: bool  # commit-reveal rounds only
    submitted: bool  # submitted, or revealed in commit-reveal rounds
    voted: bool


@dataclass(frozen=True)
class RoundStatus:
    """The current round as a person deciding what to do needs to see it.

    ``now`` is the chain's clock: the later of the latest block's timestamp and this
    machine's clock, since the next block (where a transaction lands) carries at least
    both. Seconds left are counted from it and never negative.
    """

    chain_id: int
    contract: str
    block: int
    now: int
    round: int
    phase: Phase
    base_digest: bytes
    rule: str
    config_version: int
    quorum: int
    commit_reveal: bool
    submit_deadline: int  # with commit-reveal: the commitment deadline
    reveal_deadline: int  # equals submit_deadline without commit-reveal
    vote_deadline: int
    submit_seconds_left: int
    reveal_seconds_left: int
    vote_seconds_left: int
    members: tuple[MemberState, ...]
    updates: tuple[UpdateRecord, ...]
    tallies: tuple[DigestTally, ...]
    exclusions: tuple[Exclusion, ...] | None  # None: unknown (no store, or it failed)
    expected_aggregate: bytes | None  # what honest members compute (vote phase, with store)
    store_problem: str | None  # why exclusions are unknown, if a store was given


def read_status(
    federation: Federation, store: BlobStore | None = None, *, policy: UpdatePolicy | None = None
) -> RoundStatus:
    """Describe the current round of ``federation`` (checking updates if ``store`` is given)."""
    with rpc_errors(federation.w3, "reading the latest block"):
        block = federation.w3.eth.get_block("latest")
        chain_id = int(federation.w3.eth.chain_id)
    now = max(int(block["timestamp"]), int(time.time()))
    r = federation.current_round()
    info = federation.round_info(r)
    submissions = federation.updates(r)
    votes = federation.votes(r)
    members = federation.members(r)
    committed = {c.member for c in federation.commits(r)} if info.commit_reveal else set()
    submitted = {u.member for u in submissions}
    times = block_timestamps(federation.w3, (e.block_number for e in [*submissions, *votes]))
    voted = {v.member for v in votes}
    exclusions, expected, problem = None, None, None
    if store is not None:
        try:
            exclusions, expected = _check_updates(federation, store, info, submissions, policy)
        except (StorageError, ConfigError, ChainError, LearningError) as error:
            problem = str(error)
    return RoundStatus(
        chain_id=chain_id,
        contract=federation.address,
        block=int(block["number"]),
        now=now,
        round=r,
        phase=info.phase,
        base_digest=info.base.digest,
        rule=federation.rule_of(r),
        config_version=info.config_version,
        quorum=info.quorum,
        commit_reveal=info.commit_reveal,
        submit_deadline=info.submit_deadline,
        reveal_deadline=info.reveal_deadline,
        vote_deadline=info.vote_deadline,
        submit_seconds_left=max(0, info.submit_deadline - now),
        reveal_seconds_left=max(0, info.reveal_deadline - now),
        vote_seconds_left=max(0, info.vote_deadline - now),
        members=tuple(MemberState(m, m in committed, m in submitted, m in voted) for m in members),
        updates=tuple(update_record(u, times) for u in submissions),
        tallies=tally(vote_record(v, times) for v in votes),
        exclusions=exclusions,
        expected_aggregate=expected,
        store_problem=problem,
    )


def _check_updates(
    federation: Federation,
    store: BlobStore,
    info: RoundInfo,
    submissions: list[UpdateSubmitted],
    policy: UpdatePolicy | None,
) -> tuple[tuple[Exclusion, ...], bytes | None]:
    """Aggregate the round's updates as a member would: exclusions, and the digest if final."""
    genesis = fetch_genesis(store, federation.genesis())
    result = aggregate_round(
        info.round,
        fetch_model(store, info.base, genesis),
        submissions,
        store,
        genesis.spec,
        parse_rule(federation.rule_of(info.round)),
        policy or UpdatePolicy(),
    )
    final = info.phase not in (Phase.SUBMIT, Phase.REVEAL)  # no more updates can come
    digest = hashlib.sha256(result.blob).digest() if final else None
    return result.excluded, digest

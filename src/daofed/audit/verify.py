"""Re-check a rebuilt history against the blob store: every digest, every aggregate.

For every round this re-checks the round rules from the events (see :mod:`.rules`: members,
one act each, deadlines, quorum, the base is the model the previous round left), re-fetches
the base model and every update (each fetch verifies sha256 against the on-chain digest),
and re-runs the round's aggregation with :func:`daofed.protocol.aggregate_round`,
the protocol core every member runs, under the rule in force at that round (its config
version).
The recomputed digest must equal the accepted one.

A private round (its rule has a ``secure_threshold``) is recomputed by :mod:`.private`
with :mod:`daofed.protocol.private`, from its setup messages, masked updates and recovery
messages: only their sum is ever unmasked, never one member's update.

An update whose bytes a member got wrong (not safetensors, wrong shape, not in the store)
was excluded by every honest member at the time too: when the recomputed aggregate still
matches, it is listed as an *exclusion* of a verified round. When the aggregate does not
match, those same exclusions are the suspects and are reported as *findings*: a blob that
was fine when the round ran and is not now (tampered with, lost) changes the aggregate.

Governance is re-checked too (see :mod:`.governance`): every change of members or config
was made by a proposal that carried. The model the federation trains (its task and
tensor layout) is read from the genesis blob (see :mod:`daofed.protocol.genesis`).
Members' local update policies (``UpdatePolicy.max_norm``) are not on chain: pass the one
the federation agreed on, if any; the default is the agent's default (no norm bound).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from daofed.audit.findings import Finding, short
from daofed.audit.governance import GovernanceFinding, check_governance
from daofed.audit.private import PrivateCheck, PrivateSetting, recompute_private
from daofed.audit.records import History, Outcome, RoundRecord, UpdateRecord
from daofed.audit.rules import check_rounds
from daofed.errors import BlobNotFound, DigestMismatch, InvalidBlob, LearningError
from daofed.learning.aggregation import AggregationRule, parse_rule
from daofed.learning.aggregation.server import max_global_model_size
from daofed.protocol import (
    Exclusion,
    RoundAggregate,
    SubmittedUpdate,
    UpdatePolicy,
    aggregate_round,
)
from daofed.protocol.genesis import Genesis, fetch_genesis, fetch_model
from daofed.secagg import Layout
from daofed.storage import BlobRef, BlobStore, ModelSpec, Weights


class Verdict(StrEnum):
    """What the audit concluded about one round."""

    VERIFIED = "verified"  # recomputed aggregate == accepted digest, every blob checks out
    MISMATCH = "mismatch"  # something does not match: see the round's findings
    CLOSED = "closed"  # closed without quorum: no model was accepted to compare with
    EXPIRED = "expired"  # vote deadline passed without quorum, not closed yet: nothing accepted
    OPEN = "open"  # still running: nothing accepted yet


@dataclass(frozen=True)
class RoundVerification:
    """The audit of one round."""

    round: int
    verdict: Verdict
    rule: str
    base_digest: bytes
    accepted_digest: bytes | None
    recomputed_digest: bytes | None
    included: tuple[str, ...]  # members whose updates the recomputed aggregate used
    exclusions: tuple[Exclusion, ...]  # updates (private: messages, shares) left out, by rule
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class Verification:
    """The audit of every round of a history against one store."""

    store: str
    task: str | None  # the task the genesis model names (None: made before tasks were pinned)
    model: ModelSpec
    rounds: tuple[RoundVerification, ...]
    governance: tuple[GovernanceFinding, ...]

    @property
    def ok(self) -> bool:
        """Whether governance holds and no round mismatches (rounds without a model are fine)."""
        return not self.governance and all(r.verdict is not Verdict.MISMATCH for r in self.rounds)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding of every round, in round order."""
        return tuple(finding for r in self.rounds for finding in r.findings)


_FETCH_ERRORS = (BlobNotFound, DigestMismatch, InvalidBlob)


def verify_history(
    history: History,
    store: BlobStore,
    *,
    policy: UpdatePolicy | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Verification:
    """Verify every round of ``history`` against the blobs in ``store``.

    Raises ConfigError when ``store`` does not hold the genesis model (wrong store), and
    StorageError when its copy is corrupt; everything else is a per-round finding.
    ``progress(done, total)`` is called after each round: re-fetching and re-aggregating a
    long history takes minutes, and a person watching (the explorer) wants to see it move.
    """
    genesis = fetch_genesis(store, BlobRef(history.genesis_digest, history.genesis_cid))
    models = _Models(store, genesis)
    broken: dict[int, list[Finding]] = defaultdict(list)
    for finding in check_rounds(history):
        broken[finding.round].append(finding)
    rounds: list[RoundVerification] = []
    for record in history.rounds:
        rounds.append(
            _verify_round(history, record, broken[record.round], models, policy or UpdatePolicy())
        )
        if progress is not None:
            progress(len(rounds), len(history.rounds))
    return Verification(
        store=store.describe(),
        task=genesis.task,
        model=genesis.spec,
        rounds=tuple(rounds),
        governance=check_governance(history),
    )


class _Models:
    """Models fetched so far, by digest: a round's base is the previous round's result."""

    def __init__(self, store: BlobStore, genesis: Genesis) -> None:
        self.store = store
        self.genesis = genesis
        self.spec = genesis.spec
        self._known: dict[bytes, Weights] = {genesis.ref.digest: genesis.weights}

    def fetch(self, digest: bytes, cid: str) -> Weights:
        """Return the model ``digest``; raises the store's or codec's error if unusable."""
        if digest not in self._known:
            self._known[digest] = fetch_model(self.store, BlobRef(digest, cid), self.genesis)
        return self._known[digest]

    def remember(self, digest: bytes, weights: Weights) -> None:
        """Keep a model whose bytes were recomputed and matched ``digest``."""
        self._known[digest] = weights


_VERDICTS = {
    Outcome.ACCEPTED: Verdict.VERIFIED,
    Outcome.CLOSED: Verdict.CLOSED,
    Outcome.EXPIRED: Verdict.EXPIRED,
    Outcome.OPEN: Verdict.OPEN,
}


def _verify_round(
    history: History,
    record: RoundRecord,
    broken_rules: list[Finding],
    models: _Models,
    policy: UpdatePolicy,
) -> RoundVerification:
    """Recompute one round; ``broken_rules`` are its findings from the events alone."""
    findings = list(broken_rules)
    base = _fetch_base(record, models, findings)
    rule = _rule(record, findings)
    if base is None or rule is None or record.outcome is Outcome.OPEN:
        return _result(record, findings, None)
    if rule.secure_threshold is not None:
        return _verify_private(history, record, findings, models, base, rule)
    submissions = [_submission(update) for update in record.updates]
    aggregate = aggregate_round(
        record.round, base, submissions, models.store, models.spec, rule, policy
    )
    if record.outcome is Outcome.ACCEPTED:
        findings.extend(_aggregate_findings(record, aggregate, models, aggregate.excluded))
    return _result(record, findings, aggregate)


def _verify_private(
    history: History,
    record: RoundRecord,
    findings: list[Finding],
    models: _Models,
    base: Weights,
    rule: AggregationRule,
) -> RoundVerification:
    """Recompute a private round from its messages (see :mod:`.private`)."""
    assert rule.secure_threshold is not None  # a private round's rule
    setting = PrivateSetting(
        history.chain_id,
        history.contract,
        history.keys_in_force(record.round),
        rule.secure_threshold,
        Layout.of_spec(models.spec),
    )
    check: PrivateCheck = recompute_private(record, setting, base, rule, models.store)
    findings.extend(check.findings)
    aggregate = check.aggregate
    if record.outcome is Outcome.ACCEPTED:
        findings.extend(
            _accepted_blob_findings(record, models)
            if aggregate is None
            else _aggregate_findings(record, aggregate, models, check.exclusions)
        )
    return _result(record, findings, aggregate, check.exclusions)


def _result(
    record: RoundRecord,
    findings: list[Finding],
    aggregate: RoundAggregate | None,
    exclusions: tuple[Exclusion, ...] | None = None,
) -> RoundVerification:
    """Assemble the round's verification; ``exclusions`` default to the aggregate's."""
    if exclusions is None:
        exclusions = aggregate.excluded if aggregate else ()
    return RoundVerification(
        round=record.round,
        verdict=Verdict.MISMATCH if findings else _VERDICTS[record.outcome],
        rule=record.rule,
        base_digest=record.base_digest,
        accepted_digest=record.accepted_digest,
        recomputed_digest=hashlib.sha256(aggregate.blob).digest() if aggregate else None,
        included=aggregate.included if aggregate else (),
        exclusions=exclusions,
        findings=tuple(findings),
    )


def _aggregate_findings(
    record: RoundRecord,
    aggregate: RoundAggregate,
    models: _Models,
    exclusions: tuple[Exclusion, ...],
) -> list[Finding]:
    """Compare the recomputed aggregate with the accepted one, and check the accepted blob."""
    r, accepted = record.round, record.accepted_digest
    assert accepted is not None  # outcome ACCEPTED
    recomputed = hashlib.sha256(aggregate.blob).digest()
    findings = []
    if recomputed == accepted:
        models.remember(accepted, aggregate.weights)
    else:
        findings.append(
            Finding(
                r,
                None,
                accepted,
                "aggregate-mismatch",
                f"round {r}: recomputed aggregate {short(recomputed)} != accepted "
                f"{short(accepted)} (rule {record.rule}, {len(aggregate.included)} of "
                f"{len(record.updates)} updates usable)",
            )
        )
        findings.extend(_suspect(record, exclusion) for exclusion in exclusions)
    return findings + _accepted_blob_findings(record, models)


def _fetch_base(record: RoundRecord, models: _Models, findings: list[Finding]) -> Weights | None:
    try:
        return models.fetch(record.base_digest, record.base_cid)
    except _FETCH_ERRORS as error:
        r = record.round
        findings.append(
            Finding(
                r,
                None,
                record.base_digest,
                _reason(error),
                f"round {r}: base model {short(record.base_digest)} cannot be used: "
                f"{_reason(error)} ({error})",
            )
        )
        return None


def _rule(record: RoundRecord, findings: list[Finding]) -> AggregationRule | None:
    try:
        return parse_rule(record.rule)
    except LearningError as error:
        r = record.round
        findings.append(
            Finding(
                r,
                None,
                record.base_digest,
                "unknown-rule",
                f"round {r}: its rule {record.rule!r} (config version "
                f"{record.config_version}) cannot be applied: {error}",
            )
        )
        return None


def _accepted_blob_findings(record: RoundRecord, models: _Models) -> list[Finding]:
    """Check the accepted model is fetchable: it is every member's next base."""
    assert record.accepted_digest is not None and record.accepted_cid is not None
    try:
        models.store.get(
            BlobRef(record.accepted_digest, record.accepted_cid),
            max_bytes=max_global_model_size(models.spec),
        )
    except _FETCH_ERRORS as error:
        r = record.round
        return [
            Finding(
                r,
                None,
                record.accepted_digest,
                _reason(error),
                f"round {r}: accepted model {short(record.accepted_digest)} does not match "
                f"its blob: {_reason(error)} ({error})",
            )
        ]
    return []


def _suspect(record: RoundRecord, exclusion: Exclusion) -> Finding:
    """Report what the mismatching recomputation left out: likely what changed."""
    kind = record.message_kind(exclusion.digest)
    what = {
        "wrong-digest": "does not match its blob",
        "missing-blob": "has no blob in the store",
    }.get(exclusion.reason, f"is not a valid {kind}")
    r = record.round
    return Finding(
        r,
        exclusion.member,
        exclusion.digest,
        exclusion.reason,
        f"round {r}: {kind} of {exclusion.member} (digest "
        f"{short(exclusion.digest)}) {what}: {exclusion.reason}",
    )


def _submission(update: UpdateRecord) -> SubmittedUpdate:
    """Rebuild the submission ``aggregate_round`` takes from its record."""
    return SubmittedUpdate(
        member=update.member,
        digest=update.digest,
        cid=update.cid,
        num_samples=update.num_samples,
    )


def _reason(error: Exception) -> str:
    if isinstance(error, InvalidBlob):
        return error.reason
    return "wrong-digest" if isinstance(error, DigestMismatch) else "missing-blob"

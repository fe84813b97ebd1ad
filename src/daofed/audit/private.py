"""Re-check a private round (secure aggregation) from its messages on record.

The audit runs what every member ran, :mod:`daofed.protocol.private`, over the audit's
store: the same participants (members with a key in force when the round opened), the
same readings of the setup messages, masked updates and recovery messages, the same
unmasking. Like the members, it only ever forms the *sum* of the masked updates
(:func:`daofed.secagg.unmask`); no individual update is rebuilt, and nothing secret is
needed.

What the protocol leaves out (a message that does not decode or fit the round, a revealed
share that fails its commitment) is an *exclusion*: every member left it out too. What the
record names but the store does not hold (no blob, or bytes that do not match the digest
on chain) is a *finding*: the members read those bytes when the round ran. A missing setup
message or masked update changes which masks cancel, so the round is not recomputed
without it; a missing recovery message is a finding even when the others are enough.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from daofed.audit.findings import Finding, short
from daofed.audit.records import Outcome, PostRecord, RoundRecord
from daofed.learning.aggregation import AggregationRule
from daofed.protocol import Exclusion
from daofed.protocol.private import (
    PrivateAggregate,
    PrivateMessages,
    participants,
    private_aggregate,
    read_recoveries,
    read_setups,
    read_updates,
)
from daofed.secagg import Context, Layout, SecAggError
from daofed.secagg import Finding as ShareFinding
from daofed.storage import BlobStore, Weights


@dataclass(frozen=True)
class PrivateSetting:
    """What the audit needs beyond the round's record: where it ran and the keys in force."""

    chain_id: int
    contract: str  # 0x address
    keys: Mapping[str, bytes]  # by account: the encryption keys in force when it opened
    threshold: int  # the rule's secure_threshold
    layout: Layout  # of the genesis model's tensors


@dataclass(frozen=True)
class PrivateCheck:
    """A private round recomputed: its aggregate if it could be, exclusions and findings."""

    aggregate: PrivateAggregate | None
    exclusions: tuple[Exclusion, ...]
    findings: tuple[Finding, ...]


def recompute_private(
    record: RoundRecord,
    setting: PrivateSetting,
    base: Weights,
    rule: AggregationRule,
    store: BlobStore,
) -> PrivateCheck:
    """Recompute ``record``'s aggregate from its messages on record in ``store``."""
    try:
        context = Context(
            setting.chain_id,
            bytes.fromhex(setting.contract.removeprefix("0x")),
            record.round,
            participants(record.members, setting.keys),
            setting.threshold,
        )
    except SecAggError as error:
        return PrivateCheck(None, (), _unmaskable(record, error))
    setups = read_setups(context, record.setups, store)
    if setups.missing:
        return _incomplete(record, setups.missing, setups.excluded)
    updates = read_updates(context, setups.found, record.updates, store, setting.layout)
    if updates.missing:
        return _incomplete(record, updates.missing, [*setups.excluded, *updates.excluded])
    recoveries = read_recoveries(context, record.recoveries, store)
    messages = PrivateMessages(
        tuple(setups.found.values()),
        tuple(updates.found.values()),
        tuple(recoveries.found.values()),
        (*setups.excluded, *updates.excluded, *recoveries.excluded),
    )
    lost = _incomplete(record, recoveries.missing, messages.excluded)
    try:
        aggregate = private_aggregate(record.round, context, base, messages, rule)
    except SecAggError as error:
        return PrivateCheck(None, lost.exclusions, lost.findings + _unmaskable(record, error))
    shares = tuple(_share_exclusion(record.recoveries, finding) for finding in aggregate.findings)
    return PrivateCheck(aggregate, lost.exclusions + shares, lost.findings)


def _incomplete(
    record: RoundRecord, missing: Sequence[Exclusion], excluded: Sequence[Exclusion]
) -> PrivateCheck:
    """Messages on record the store cannot give back: findings if a model was accepted.

    A round nobody accepted has no result to contradict: its unreadable messages are
    listed with the exclusions, as a plain round's unreadable updates are.
    """
    if record.outcome is not Outcome.ACCEPTED:
        return PrivateCheck(None, (*excluded, *missing), ())
    return PrivateCheck(None, tuple(excluded), tuple(_missing(record, gone) for gone in missing))


def _missing(record: RoundRecord, gone: Exclusion) -> Finding:
    """Report a message the record names and the store does not hold as recorded."""
    what = {
        "wrong-digest": "does not match its blob",
        "missing-blob": "has no blob in the store",
    }.get(gone.reason, "cannot be read")
    r = record.round
    return Finding(
        r,
        gone.member,
        gone.digest,
        gone.reason,
        f"round {r}: {record.message_kind(gone.digest)} of {gone.member} (digest "
        f"{short(gone.digest)}) {what}: {gone.reason}",
    )


def _unmaskable(record: RoundRecord, error: SecAggError) -> tuple[Finding, ...]:
    """Report that an accepted round's messages cannot be unmasked: they contradict it."""
    if record.outcome is not Outcome.ACCEPTED:
        return ()
    r = record.round
    return (
        Finding(
            r,
            None,
            record.accepted_digest,
            error.reason,
            f"round {r}: a model was accepted, but the messages on record cannot be "
            f"unmasked: {error.reason} ({error})",
        ),
    )


def _share_exclusion(recoveries: Sequence[PostRecord], finding: ShareFinding) -> Exclusion:
    """Name the recovery message whose revealed share the unmasking ignored, and why."""
    sender = to_checksum_address(finding.sender)
    digest = next(post.digest for post in recoveries if post.member.lower() == finding.sender)
    dealer = "" if finding.dealer is None else f" (dealer {to_checksum_address(finding.dealer)})"
    return Exclusion(sender, digest, finding.reason, f"{finding.detail}{dealer}")

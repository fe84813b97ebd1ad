"""A private round (secure aggregation) over the chain's records and the blob store.

:mod:`daofed.secagg` is the cryptography over messages in memory; this module decides,
the same way for every member and the audit, which messages are on record and what a
round's aggregate is:

- **Participants** are the round's members with an encryption key registered before the
  round opened (a key registered later counts from the next round), so everyone deals
  shares to the same members with the same keys.
- **U1** (who masks) are the participants whose setup message is on record *and* decodes:
  a member that posts bytes nobody can parse is left out, the same for everyone, because
  the bytes are fixed by their digest. A setup message that cannot be fetched is not a
  reason to leave its dealer out (another member may fetch it): the caller waits.
- **U2** (whose sum is taken) are the members of U1 whose submitted masked update decodes,
  claims the sample count the chain recorded and was masked against U1. Again a missing
  blob means "wait", never "dropped": were it "dropped" for one member and "submitted"
  for another, the two would reveal both kinds of shares of one member between them,
  and with them its update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from eth_utils.address import to_checksum_address

from daofed.errors import BlobNotFound, DigestMismatch, InvalidBlob, StorageError
from daofed.learning.aggregation import AggregationRule
from daofed.learning.aggregation.server import split_server_state
from daofed.protocol.aggregate import FETCH_WORKERS, Exclusion, RoundAggregate, Submission
from daofed.secagg import (
    Context,
    Finding,
    Layout,
    MaskedUpdate,
    RecoveryMessage,
    SecAggError,
    SetupMessage,
    check_public_key,
    decode_masked,
    decode_recovery,
    decode_setup,
    unmask,
)
from daofed.storage import BlobRef, BlobStore, Weights, encode

MESSAGE_OVERHEAD = 4096
"""Bytes a message may take beyond its per-member and per-coordinate parts (headers)."""
SETUP_BYTES_PER_MEMBER = 512
"""A bound on one envelope of a setup message (about 230 bytes) or one revealed share."""

T = TypeVar("T")


class Message(Protocol):
    """What a reader needs of any message on record: who sent it, and its digest."""

    @property
    def member(self) -> str:
        """The sending member."""

    @property
    def digest(self) -> bytes:
        """sha256 of the message's bytes."""


M = TypeVar("M", bound=Message)


class PostedMessage(Protocol):
    """A message posted on chain (``SharesPosted``, ``RecoveryPosted`` are): who, and where."""

    @property
    def member(self) -> str:
        """The posting member."""

    @property
    def digest(self) -> bytes:
        """sha256 of the message's bytes."""

    @property
    def ref(self) -> BlobRef:
        """Where to fetch the message (the digest decides)."""


@dataclass(frozen=True)
class PrivateAggregate(RoundAggregate):
    """A private round's aggregate, with what was wrong in the revealed shares."""

    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class PrivateMessages:
    """A private round's messages as this reader found them, and who was left out, why."""

    setups: tuple[SetupMessage, ...]  # U1, by dealer
    updates: tuple[MaskedUpdate, ...]  # U2, by member
    recoveries: tuple[RecoveryMessage, ...]
    excluded: tuple[Exclusion, ...]


def participants(members: Sequence[str], keys: Mapping[str, bytes]) -> tuple[str, ...]:
    """Return the members who take part in a private round: those with a usable key in force.

    A registered key no one can agree a secret with (a low-order X25519 point: the
    contract stores any nonzero 32 bytes) leaves its member out, the same for everyone,
    rather than failing every other member's setup.
    """
    return tuple(member for member in members if member in keys and _usable(keys[member], member))


def _usable(key: bytes, owner: str) -> bool:
    try:
        check_public_key(key, owner)
    except SecAggError:
        return False
    return True


def setup_limit(context: Context) -> int:
    """Return the most bytes a setup or recovery message of ``context``'s round takes."""
    return MESSAGE_OVERHEAD + SETUP_BYTES_PER_MEMBER * len(context.members)


def masked_limit(context: Context, layout: Layout) -> int:
    """Return the most bytes a masked update of ``layout`` takes in ``context``'s round."""
    return setup_limit(context) + layout.spec("uint64").encoded_size


@dataclass
class Reading(Generic[T]):
    """The messages of one kind a reader fetched, by member, and those it could not use.

    ``excluded``: digest-checked bytes that do not decode or do not fit the round, the
    sender's fault and the same for every reader. ``missing``: not found, or bytes that do
    not match the digest on chain; another reader (or the same one later) may fetch them,
    so a member waits for a missing setup message or masked update, while the audit
    reports it.
    """

    found: dict[str, T] = field(default_factory=dict)
    excluded: list[Exclusion] = field(default_factory=list)
    missing: list[Exclusion] = field(default_factory=list)

    def complete(self) -> dict[str, T]:
        """Return :attr:`found`, or raise the first missing message's error (wait for it)."""
        if self.missing:
            first = self.missing[0]
            raise BlobNotFound(f"the message of {first.member} is not available: {first.message}")
        return self.found


def read_setups(
    context: Context, posts: Sequence[PostedMessage], store: BlobStore
) -> Reading[SetupMessage]:
    """Fetch and decode the participants' setup messages (U1 is :attr:`Reading.found`)."""
    return _read_posted(context, posts, store, decode_setup, lambda m: m.dealer, "setup message")


def read_updates(
    context: Context,
    setups: Mapping[str, SetupMessage],
    submissions: Sequence[Submission],
    store: BlobStore,
    layout: Layout,
    held: Mapping[bytes, MaskedUpdate] | None = None,
) -> Reading[MaskedUpdate]:
    """Fetch and check the masked updates of U1's members (U2 is :attr:`Reading.found`).

    ``held`` maps the digests of masked updates the caller already has (its own) to them.
    """
    known = held or {}
    mask_set = tuple(sorted(setups))

    def decode(submission: Submission) -> MaskedUpdate:
        if submission.member.lower() not in setups:
            raise SecAggError(
                "no-setup",
                "submitted without a setup message on record: its masks cannot be removed",
            )
        update = known.get(submission.digest)
        if update is None:
            ref = BlobRef(submission.digest, submission.cid)
            data = store.get(ref, max_bytes=masked_limit(context, layout))
            update = decode_masked(context, data, layout)
        if update.member != submission.member.lower():
            raise SecAggError("wrong-sender", f"masked update of {update.member}, not the poster")
        if update.num_samples != submission.num_samples:
            raise SecAggError(
                "wrong-samples",
                f"masked update claims {update.num_samples} samples, the chain "
                f"{submission.num_samples}",
            )
        if update.mask_set != mask_set:
            raise SecAggError("mask-set", "masked against other setup messages than U1's")
        return update

    return _read(decode, submissions)


def read_recoveries(
    context: Context, posts: Sequence[PostedMessage], store: BlobStore
) -> Reading[RecoveryMessage]:
    """Fetch and decode the participants' recovery messages on record."""
    return _read_posted(
        context, posts, store, decode_recovery, lambda m: m.sender, "recovery message"
    )


def _read_posted(
    context: Context,
    posts: Sequence[PostedMessage],
    store: BlobStore,
    parse: Callable[[Context, bytes], T],
    sender: Callable[[T], str],
    what: str,
) -> Reading[T]:
    """Read the participants' posts of one kind; a message must name its poster."""

    def decode(post: PostedMessage) -> T:
        message = parse(context, store.get(post.ref, max_bytes=setup_limit(context)))
        if sender(message) != post.member.lower():
            raise SecAggError("wrong-sender", f"{what} of {sender(message)}, not the poster")
        return message

    return _read(decode, [post for post in posts if context.is_member(post.member)])


def private_aggregate(
    round_number: int,
    context: Context,
    base: Weights,
    messages: PrivateMessages,
    rule: AggregationRule,
) -> PrivateAggregate:
    """Compute the round's new model from its messages: unmask the sum, step the rule.

    Raises SecAggError when the sum cannot be unmasked (yet): too few submitters or too
    few valid revealed shares; the message says which.
    """
    result = unmask(context, messages.setups, messages.updates, messages.recoveries)
    model, state = split_server_state(base)
    model, state = rule.server_step(model, state, result.delta)
    weights = {**model, **state}
    return PrivateAggregate(
        round=round_number,
        weights=weights,
        blob=encode(weights),
        included=tuple(to_checksum_address(member) for member in result.members),
        excluded=messages.excluded,
        findings=result.findings,
    )


def _read(decode: Callable[[M], T], messages: Sequence[M]) -> Reading[T]:
    """Run ``decode`` over ``messages``, a few at a time, and sort out what went wrong.

    Every other error (the store unreachable) propagates: nothing can be decided without it.
    """

    def guarded(message: M) -> T | StorageError | SecAggError:
        try:
            return decode(message)
        except (SecAggError, InvalidBlob, BlobNotFound, DigestMismatch) as error:
            return error

    reading: Reading[T] = Reading()
    with ThreadPoolExecutor(max_workers=FETCH_WORKERS, thread_name_prefix="daofed-fetch") as pool:
        results = list(pool.map(guarded, messages))
    for message, result in zip(messages, results, strict=True):
        if isinstance(result, SecAggError | InvalidBlob):
            reading.excluded.append(
                Exclusion(message.member, message.digest, result.reason, str(result))
            )
        elif isinstance(result, StorageError):
            reason = "missing-blob" if isinstance(result, BlobNotFound) else "wrong-digest"
            reading.missing.append(Exclusion(message.member, message.digest, reason, str(result)))
        else:
            reading.found[message.member.lower()] = result
    return reading

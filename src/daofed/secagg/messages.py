"""The three messages a member publishes in a secure round, and their canonical bytes.

- :class:`SetupMessage`: the dealer's mask public key, a commitment to its round seed,
  and for every member its shares, encrypted and committed.
- :class:`MaskedUpdate`: the masked input vector, with the set of members it was masked
  against and the public sample count.
- :class:`RecoveryMessage`: the shares a member reveals after submissions close: of each
  dealer's seed if the dealer submitted, of its mask key if not, never both.

Encoding is canonical (one byte string per message) and decoding strict: every field is
checked against the round's context and a malformed one is a :class:`SecAggError` whose
message names it. The masked vector travels as canonical safetensors (one uint64 tensor
per tensor name) checked by the storage codec against the round's layout.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from daofed.errors import InvalidBlob
from daofed.secagg.context import Context, normalize
from daofed.secagg.errors import SecAggError
from daofed.secagg.fixedpoint import U64, Layout
from daofed.secagg.keys import KEY_BYTES, check_public_key
from daofed.secagg.shares import (
    CIPHERTEXT_BYTES,
    COMMITMENT_BYTES,
    NONCE_BYTES,
    SALT_BYTES,
    SHARE_BYTES,
)
from daofed.secagg.wire import MASKED, RECOVERY, SETUP, Reader, Writer
from daofed.storage import codec

ShareKind = Literal["b", "s"]
_KIND_BYTES: dict[ShareKind, int] = {"b": ord("b"), "s": ord("s")}
_SHARE_SIZES: dict[ShareKind, int] = {"b": SHARE_BYTES, "s": 2 * SHARE_BYTES}


@dataclass(frozen=True)
class Envelope:
    """One recipient's part of a setup message: its sealed shares and their commitments.

    ``recipient_key`` names the long-term public key the shares were sealed to, so a
    recipient who rotated its key knows these are not for its new one.
    """

    recipient: str
    recipient_key: bytes
    nonce: bytes
    ciphertext: bytes
    commit_b: bytes
    commit_s: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "recipient", normalize(self.recipient))
        _sizes(
            "envelope",
            (self.recipient_key, KEY_BYTES, "recipient key"),
            (self.nonce, NONCE_BYTES, "nonce"),
            (self.ciphertext, CIPHERTEXT_BYTES, "ciphertext"),
            (self.commit_b, COMMITMENT_BYTES, "seed-share commitment"),
            (self.commit_s, COMMITMENT_BYTES, "key-share commitment"),
        )


@dataclass(frozen=True)
class SetupMessage:
    """A dealer's round setup; ``envelopes`` has one entry per member, in member order."""

    dealer: str
    mask_public_key: bytes
    seed_commitment: bytes
    envelopes: tuple[Envelope, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "dealer", normalize(self.dealer))
        _sizes(
            "setup message",
            (self.mask_public_key, KEY_BYTES, "mask public key"),
            (self.seed_commitment, COMMITMENT_BYTES, "seed commitment"),
        )

    def check(self, context: Context) -> None:
        """Raise SecAggError unless dealer, mask key and envelopes (one per member) fit."""
        context.position(self.dealer)
        check_public_key(self.mask_public_key, self.dealer)
        recipients = tuple(envelope.recipient for envelope in self.envelopes)
        if recipients != context.members:
            raise SecAggError(
                "malformed",
                f"setup message of {self.dealer} must carry shares for exactly the round's "
                "members, in member order",
            )

    def envelope(self, context: Context, recipient: str) -> Envelope:
        """Return the envelope for ``recipient``."""
        return self.envelopes[context.position(recipient)]


@dataclass(frozen=True, eq=False)
class MaskedUpdate:
    """A member's masked input ``y_u`` (flat uint64, in the layout's order).

    ``mask_set`` is the set of members whose setup messages it was masked against (U1);
    unmasking refuses a round whose updates disagree on it, since masks would not cancel.
    """

    member: str
    num_samples: int
    mask_set: tuple[str, ...]
    layout: Layout
    vector: NDArray[Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "member", normalize(self.member))
        object.__setattr__(self, "mask_set", tuple(sorted(normalize(m) for m in self.mask_set)))
        if self.vector.dtype != U64 or self.vector.shape != (self.layout.size,):
            raise SecAggError(
                "malformed", f"masked update of {self.member} is not a uint64 vector of the layout"
            )
        if self.member not in self.mask_set:
            raise SecAggError(
                "malformed", f"masked update of {self.member} was not masked with its own setup"
            )


@dataclass(frozen=True, repr=False)
class RevealedShare:
    """One share a recovery message reveals, with the salt that opens its commitment.

    ``kind`` ``"b"``: a share of ``dealer``'s seed; ``"s"``: of its mask key (both halves).
    """

    dealer: str
    kind: ShareKind
    share: bytes
    salt: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "dealer", normalize(self.dealer))
        if self.kind not in _SHARE_SIZES:
            raise SecAggError("malformed", f"share kind must be 'b' or 's', got {self.kind!r}")
        _sizes(
            "revealed share",
            (self.share, _SHARE_SIZES[self.kind], f"{self.kind}-share"),
            (self.salt, SALT_BYTES, "salt"),
        )


@dataclass(frozen=True)
class RecoveryMessage:
    """The shares ``sender`` reveals, given the set of members it saw submit (U2).

    The kind of every share follows from ``submitted``: seed shares of submitters, key
    shares of the others. So one message cannot reveal both kinds for one dealer (which
    would let anyone strip that dealer's masks), and construction refuses it.
    """

    sender: str
    submitted: tuple[str, ...]
    shares: tuple[RevealedShare, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "sender", normalize(self.sender))
        submitted = tuple(sorted(normalize(m) for m in self.submitted))
        object.__setattr__(self, "submitted", submitted)
        dealers = [share.dealer for share in self.shares]
        if len(set(dealers)) != len(dealers):
            raise SecAggError(
                "both-kinds",
                f"recovery message of {self.sender} reveals more than one share for a "
                "dealer; a member reveals one kind per dealer, never both",
            )
        for share in self.shares:
            expected: ShareKind = "b" if share.dealer in submitted else "s"
            if share.kind != expected:
                raise SecAggError(
                    "both-kinds",
                    f"recovery message of {self.sender} reveals a {share.kind}-share of "
                    f"{share.dealer}, who {'submitted' if expected == 'b' else 'did not'}; "
                    "only seed shares of submitters and key shares of the others are revealed",
                )


def encode_setup(context: Context, message: SetupMessage) -> bytes:
    """Canonical bytes of a setup message."""
    message.check(context)
    writer = Writer(SETUP, context)
    writer.address(message.dealer)
    writer.raw(message.mask_public_key, KEY_BYTES, "mask public key")
    writer.raw(message.seed_commitment, COMMITMENT_BYTES, "seed commitment")
    for envelope in message.envelopes:
        writer.raw(envelope.recipient_key, KEY_BYTES, "recipient key")
        writer.raw(envelope.nonce, NONCE_BYTES, "nonce")
        writer.raw(envelope.ciphertext, CIPHERTEXT_BYTES, "ciphertext")
        writer.raw(envelope.commit_b, COMMITMENT_BYTES, "seed-share commitment")
        writer.raw(envelope.commit_s, COMMITMENT_BYTES, "key-share commitment")
    return writer.value()


def decode_setup(context: Context, data: bytes) -> SetupMessage:
    """Parse a setup message for ``context``; SecAggError naming the bad field otherwise.

    Recipients are implicit (one envelope per member, in member order), which makes the
    size exact and leaves nothing to reorder or repeat.
    """
    reader = Reader(data, SETUP, context)
    dealer = reader.address(context, "dealer")
    mask_public_key = reader.raw(KEY_BYTES, "mask public key")
    seed_commitment = reader.raw(COMMITMENT_BYTES, "seed commitment")
    envelopes = tuple(
        Envelope(
            recipient,
            reader.raw(KEY_BYTES, f"recipient key of {recipient}"),
            reader.raw(NONCE_BYTES, f"nonce for {recipient}"),
            reader.raw(CIPHERTEXT_BYTES, f"ciphertext for {recipient}"),
            reader.raw(COMMITMENT_BYTES, f"seed-share commitment for {recipient}"),
            reader.raw(COMMITMENT_BYTES, f"key-share commitment for {recipient}"),
        )
        for recipient in context.members
    )
    reader.finish()
    message = SetupMessage(dealer, mask_public_key, seed_commitment, envelopes)
    message.check(context)
    return message


def encode_masked(context: Context, update: MaskedUpdate) -> bytes:
    """Canonical bytes: header, member, sample count, mask set, then safetensors (U64)."""
    writer = Writer(MASKED, context)
    writer.address(update.member)
    writer.uint(update.num_samples, 8, "sample count")
    writer.members(context, update.mask_set)
    return writer.value() + codec.encode(update.layout.split(update.vector))


def decode_masked(context: Context, data: bytes, layout: Layout) -> MaskedUpdate:
    """Parse a masked update that must have the round's tensor ``layout``.

    Sizes are checked before the tensors are parsed, so an oversized blob costs nothing.
    """
    reader = Reader(data, MASKED, context)
    member = reader.address(context, "member")
    num_samples = reader.uint(8, "sample count")
    if num_samples < 1:
        raise SecAggError("malformed", f"masked update of {member} claims {num_samples} samples")
    mask_set = reader.members(context, "mask set")
    payload = reader.rest()
    spec = layout.spec("uint64")
    if len(payload) > spec.encoded_size:
        raise SecAggError(
            "oversized",
            f"masked update of {member} has {len(payload)} bytes of tensors; the round's "
            f"layout needs {spec.encoded_size}",
        )
    try:
        tensors = codec.decode(bytes(payload), spec)
    except InvalidBlob as error:
        raise SecAggError(
            f"malformed-{error.reason}", f"masked update of {member}: {error}"
        ) from None
    vector = np.concatenate([tensors[name].ravel() for name, _ in layout.tensors])
    return MaskedUpdate(member, num_samples, mask_set, layout, vector)


def encode_recovery(context: Context, message: RecoveryMessage) -> bytes:
    """Canonical bytes: header, sender, submitted set, then shares sorted by dealer."""
    writer = Writer(RECOVERY, context)
    writer.address(message.sender)
    writer.members(context, message.submitted)
    shares = sorted(message.shares, key=lambda share: context.position(share.dealer))
    writer.uint(len(shares), 2, "share count")
    for share in shares:
        writer.address(share.dealer)
        writer.uint(_KIND_BYTES[share.kind], 1, "share kind")
        writer.raw(share.share, _SHARE_SIZES[share.kind], "share")
        writer.raw(share.salt, SALT_BYTES, "salt")
    return writer.value()


def decode_recovery(context: Context, data: bytes) -> RecoveryMessage:
    """Parse a recovery message; dealers must be strictly increasing (canonical, no repeats)."""
    reader = Reader(data, RECOVERY, context)
    sender = reader.address(context, "sender")
    submitted = reader.members(context, "submitted set")
    count = reader.uint(2, "share count")
    if count > len(context.members):
        raise SecAggError("malformed", f"recovery message of {sender} claims {count} shares")
    shares: list[RevealedShare] = []
    last = -1
    for number in range(count):
        dealer = reader.address(context, f"dealer of share {number}")
        position = context.position(dealer)
        if position <= last:
            raise SecAggError(
                "both-kinds" if position == last else "malformed",
                f"recovery message of {sender}: dealers must be strictly increasing "
                f"({dealer} at share {number})",
            )
        last = position
        kind = _kind(reader.uint(1, f"kind of share {number}"), sender)
        share = reader.raw(_SHARE_SIZES[kind], f"share {number}")
        shares.append(RevealedShare(dealer, kind, share, reader.raw(SALT_BYTES, f"salt {number}")))
    reader.finish()
    return RecoveryMessage(sender, submitted, tuple(shares))


def _kind(value: int, sender: str) -> ShareKind:
    for kind, code in _KIND_BYTES.items():
        if code == value:
            return kind
    raise SecAggError("malformed", f"recovery message of {sender}: unknown share kind {value}")


def _sizes(what: str, *fields: tuple[bytes, int, str]) -> None:
    for value, size, name in fields:
        if not isinstance(value, bytes) or len(value) != size:
            raise SecAggError("malformed", f"{what}: {name} must be {size} bytes")


def setups_by_dealer(context: Context, setups: Iterable[SetupMessage]) -> dict[str, SetupMessage]:
    """Index setup messages by dealer, checking each against ``context``; no dealer twice."""
    by_dealer: dict[str, SetupMessage] = {}
    for setup in setups:
        setup.check(context)
        if setup.dealer in by_dealer:
            raise SecAggError("duplicate", f"two setup messages from {setup.dealer}")
        by_dealer[setup.dealer] = setup
    return by_dealer

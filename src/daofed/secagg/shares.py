"""Shamir shares of a member's round secrets, their commitments and their encryption.

A dealer splits its self-mask seed ``b`` (16 bytes) and its mask private key (32 bytes,
as two 16-byte halves split with the same indices) with pycryptodome's Shamir scheme over
GF(2^128). Each recipient's shares travel encrypted (AES-256-GCM from ``cryptography``,
under a key agreed between the dealer's and the recipient's long-term keys) and committed
(salted SHA-256, public in the setup message): when a recipient later reveals a share,
anyone can check it is the one the dealer gave, so a member cannot spoil a reconstruction
by revealing garbage without being named.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

from Crypto.Protocol.SecretSharing import Shamir
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from daofed.secagg.context import Context, address_bytes
from daofed.secagg.errors import SecAggError
from daofed.secagg.keys import agree, derive

SHARE_BYTES = 16
SALT_BYTES = 16
NONCE_BYTES = 12
BUNDLE_BYTES = 3 * SHARE_BYTES + 2 * SALT_BYTES
CIPHERTEXT_BYTES = BUNDLE_BYTES + 16  # GCM tag
COMMITMENT_BYTES = 32


@dataclass(frozen=True, repr=False)
class ShareBundle:
    """What one recipient holds of one dealer's secrets: three shares and two salts."""

    b: bytes
    s_lo: bytes
    s_hi: bytes
    salt_b: bytes
    salt_s: bytes

    def __post_init__(self) -> None:
        if any(len(part) != SHARE_BYTES for part in (self.b, self.s_lo, self.s_hi)) or any(
            len(salt) != SALT_BYTES for salt in (self.salt_b, self.salt_s)
        ):
            raise SecAggError("malformed", "a share bundle has 16-byte shares and salts")

    def to_bytes(self) -> bytes:
        """Fixed-size plaintext: b | s_lo | s_hi | salt_b | salt_s."""
        return self.b + self.s_lo + self.s_hi + self.salt_b + self.salt_s

    @classmethod
    def from_bytes(cls, data: bytes) -> ShareBundle:
        """Inverse of :meth:`to_bytes`."""
        if len(data) != BUNDLE_BYTES:
            raise SecAggError("malformed", f"a share bundle is {BUNDLE_BYTES} bytes")
        parts = [data[i : i + SHARE_BYTES] for i in range(0, BUNDLE_BYTES, SHARE_BYTES)]
        return cls(*parts)

    @property
    def s(self) -> bytes:
        """Both halves of the mask-key share, as revealed."""
        return self.s_lo + self.s_hi


def deal(threshold: int, count: int, seed: bytes, mask_private: bytes) -> list[ShareBundle]:
    """Split ``seed`` and ``mask_private`` into ``count`` bundles.

    Any ``threshold`` of them rebuild both; bundle ``i`` belongs to the member with Shamir
    index ``i + 1``.
    """
    if len(seed) != SHARE_BYTES or len(mask_private) != 2 * SHARE_BYTES:
        raise SecAggError("bad-key", "a round seed has 16 bytes and a mask key 32")
    b = Shamir.split(threshold, count, seed, ssss=False)
    lo = Shamir.split(threshold, count, mask_private[:SHARE_BYTES], ssss=False)
    hi = Shamir.split(threshold, count, mask_private[SHARE_BYTES:], ssss=False)
    return [
        ShareBundle(b[i][1], lo[i][1], hi[i][1], os.urandom(SALT_BYTES), os.urandom(SALT_BYTES))
        for i in range(count)
    ]


def combine(points: Sequence[tuple[int, bytes]]) -> bytes:
    """Rebuild a 16-byte secret from ``(index, share)`` points (exactly threshold many)."""
    return bytes(Shamir.combine(list(points), ssss=False))


def commit_b(context: Context, dealer: str, recipient: str, share: bytes, salt: bytes) -> bytes:
    """Public commitment to the seed share ``dealer`` gave ``recipient``."""
    return _hash(context, b"share-b", dealer, recipient, share, salt)


def commit_s(context: Context, dealer: str, recipient: str, share: bytes, salt: bytes) -> bytes:
    """Public commitment to the mask-key share (both halves) ``dealer`` gave ``recipient``."""
    return _hash(context, b"share-s", dealer, recipient, share, salt)


def commit_seed(context: Context, dealer: str, seed: bytes) -> bytes:
    """Public commitment to ``dealer``'s round seed, to check a rebuilt seed against."""
    return hashlib.sha256(context.label() + b"self-seed" + address_bytes(dealer) + seed).digest()


def _hash(context: Context, kind: bytes, dealer: str, recipient: str, *parts: bytes) -> bytes:
    data = context.label() + kind + address_bytes(dealer) + address_bytes(recipient)
    return hashlib.sha256(data + b"".join(parts)).digest()


def _box(
    context: Context, dealer: str, recipient: str, own_private: bytes, peer: str, peer_public: bytes
) -> AESGCM:
    """Return the AES-GCM key shared by ``dealer`` and ``recipient`` for this round."""
    info = context.label() + b"share-key" + address_bytes(dealer) + address_bytes(recipient)
    return AESGCM(derive(agree(own_private, peer_public, peer), info))


def _aad(context: Context, dealer: str, recipient: str, recipient_public: bytes) -> bytes:
    return context.label() + address_bytes(dealer) + address_bytes(recipient) + recipient_public


def seal(
    context: Context,
    dealer: str,
    dealer_private: bytes,
    recipient: str,
    recipient_public: bytes,
    bundle: ShareBundle,
) -> tuple[bytes, bytes]:
    """Encrypt ``bundle`` from ``dealer`` to ``recipient``; return ``(nonce, ciphertext)``."""
    nonce = os.urandom(NONCE_BYTES)
    box = _box(context, dealer, recipient, dealer_private, recipient, recipient_public)
    aad = _aad(context, dealer, recipient, recipient_public)
    return nonce, box.encrypt(nonce, bundle.to_bytes(), aad)


def open_sealed(
    context: Context,
    dealer: str,
    dealer_public: bytes,
    recipient: str,
    recipient_keys: tuple[bytes, bytes],
    nonce: bytes,
    ciphertext: bytes,
) -> ShareBundle:
    """Decrypt the bundle ``dealer`` sealed for ``recipient``.

    ``recipient_keys`` is the recipient's ``(private, public)`` long-term key pair.
    SecAggError ``"undecryptable"`` if the bundle was not sealed for them.
    """
    private, public = recipient_keys
    box = _box(context, dealer, recipient, private, dealer, dealer_public)
    try:
        plain = box.decrypt(nonce, ciphertext, _aad(context, dealer, recipient, public))
    except InvalidTag:
        raise SecAggError(
            "undecryptable",
            f"the shares {dealer} sent {recipient} do not decrypt with their keys",
        ) from None
    return ShareBundle.from_bytes(plain)

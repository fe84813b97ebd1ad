"""X25519 key pairs, key agreement and key derivation (all from ``cryptography``).

Two kinds of key pair use this: a member's long-term encryption key (its public part is
registered on chain; shares are encrypted under it) and the per-round mask key (its public
part is in the setup message; pairwise masks come from it, and its private part is what
the other members hold shares of). Nothing here is a primitive of our own: X25519 and
HKDF-SHA256 are ``cryptography``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from daofed.secagg.errors import SecAggError

KEY_BYTES = 32
_PROBE = bytes(range(1, 33))
"""A fixed private key to test public keys with: the result is discarded, so it is not secret."""


@dataclass(frozen=True, repr=False)
class KeyPair:
    """A raw X25519 private key and its public key (32 bytes each).

    The ``repr`` shows only the public key, so a secret never lands in a log by accident.
    """

    private: bytes
    public: bytes

    @classmethod
    def generate(cls) -> KeyPair:
        """Generate a fresh key pair from the operating system's randomness."""
        return cls.from_private(X25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_private(cls, private: bytes) -> KeyPair:
        """Return the key pair of a raw 32-byte private key (e.g. one rebuilt from shares)."""
        return cls(private, public_key_of(private))

    def __repr__(self) -> str:
        return f"KeyPair(public={self.public.hex()})"


def public_key_of(private: bytes) -> bytes:
    """Return the X25519 public key of a raw 32-byte private key."""
    if len(private) != KEY_BYTES:
        raise SecAggError("bad-key", f"a private key has {KEY_BYTES} bytes, got {len(private)}")
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()


def agree(private: bytes, peer_public: bytes, peer: str) -> bytes:
    """X25519 shared secret of our ``private`` key and ``peer``'s public key.

    A low-order public key (which would make the secret all zeros, known to anyone) is
    refused with an error naming ``peer``, who published it.
    """
    if len(peer_public) != KEY_BYTES:
        raise SecAggError("bad-key", f"public key of {peer} is not {KEY_BYTES} bytes")
    try:
        return X25519PrivateKey.from_private_bytes(private).exchange(
            X25519PublicKey.from_public_bytes(peer_public)
        )
    except ValueError as error:
        raise SecAggError(
            "bad-key", f"public key of {peer} is unusable for key agreement ({error})"
        ) from None


def check_public_key(public: bytes, owner: str) -> None:
    """Refuse a public key no one can agree a secret key with (wrong size or low order).

    Checked when a setup message is read, so a member publishing such a key is refused at
    once and named, instead of making every other member's masking fail later. The same
    check belongs where long-term keys are registered.
    """
    agree(_PROBE, public, owner)


def derive(secret: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 of ``secret`` to 32 bytes, bound to ``info`` (label and purpose)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


IDENTITY_TAG = b"daofed-secagg-v1-identity"


def derive_identity(master: bytes, chain_id: int, contract: bytes, generation: int) -> KeyPair:
    """Derive a member's long-term encryption key pair from its ``master`` secret.

    HKDF-SHA256 bound to the federation (chain id, contract address) and a ``generation``
    counter: rotating the key means registering generation ``g + 1``, unrelated to ``g``
    to anyone without ``master``, while the member can still re-derive the older ones to
    open shares dealt to them. An agent uses its account's private key as ``master``, so
    it keeps no second secret on disk.
    """
    if not 0 <= generation < 2**32:
        raise SecAggError("bad-key", f"key generation must be 0 to 2**32 - 1, got {generation}")
    info = IDENTITY_TAG + chain_id.to_bytes(8, "big") + contract + generation.to_bytes(4, "big")
    return KeyPair.from_private(derive(master, info))

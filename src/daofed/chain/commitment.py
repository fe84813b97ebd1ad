"""Commitments to hidden updates (commit-reveal), computed exactly as the contract does.

In a round with commit-reveal a member first commits to
``keccak256(abi.encode(uint64 round, address member, bytes32 digest, string cid, uint64
numSamples, bytes32 salt))`` and reveals digest, CID, sample count and salt later. The member
and round are in the hash so that a copied commitment can never be revealed by anyone else,
nor in another round; the sample count is in it so that a member cannot pick its FedAvg
weight after seeing the others' reveals; the CID so that the reveal cannot point elsewhere
(the bytes need not be uploaded before the reveal); the salt keeps a guessed digest from
being confirmed against the commitment before the reveal.
"""

from __future__ import annotations

import hmac
import secrets
from hashlib import sha256

from eth_abi.abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from daofed.chain.checks import UINT64_MAX, check_address, check_bytes32, check_round, check_uint

SALT_BYTES = 32
_SALT_DOMAIN = b"daofed commit-reveal salt v1"


def update_commitment(
    round_number: int, member: str, digest: bytes, cid: str, num_samples: int, salt: bytes
) -> bytes:
    """Return the 32-byte commitment of ``member`` to the update ``digest`` in ``round_number``.

    ``cid`` is where the update will be fetched from and ``num_samples`` the sample count it
    was trained on (its FedAvg weight); the reveal must repeat both exactly.
    """
    encoded = abi_encode(
        ["uint64", "address", "bytes32", "string", "uint64", "bytes32"],
        [
            check_round(round_number),
            check_address(member, "a member address"),
            check_bytes32("digest", digest),
            cid,
            check_uint("num_samples", num_samples, UINT64_MAX),
            check_bytes32("salt", salt),
        ],
    )
    return keccak(encoded)


def new_salt() -> bytes:
    """Return a fresh random salt (keep it until the reveal, or use :func:`derive_salt`)."""
    return secrets.token_bytes(SALT_BYTES)


def derive_salt(account: LocalAccount, contract: str, round_number: int, digest: bytes) -> bytes:
    """Return a salt only ``account``'s key can compute, for its update ``digest`` of a round.

    HMAC-SHA256 keyed by the private key over the federation's address, the round and the
    digest: unpredictable to everyone else, yet recomputable by the member after a restart,
    so a member resumes between commit and reveal from its key and the chain alone.
    """
    message = b"|".join(
        (
            _SALT_DOMAIN,
            bytes.fromhex(check_address(contract, "a contract address")[2:]),
            check_round(round_number).to_bytes(8, "big"),
            check_bytes32("digest", digest),
        )
    )
    return hmac.new(bytes(account.key), message, sha256).digest()

"""The secure-aggregation board of the Federation contract: keys, setup and recovery posts.

Private rounds (a rule such as ``fedavg:secagg=3``) add two messages per member to a
round: a setup message before the update, and a recovery message once who submitted is
final. The contract orders and records them (their digests and CIDs), as it does updates;
:mod:`daofed.secagg` makes and checks their contents.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from eth_account.signers.local import LocalAccount

from daofed.chain.checks import check_address, check_bytes32, check_round
from daofed.chain.client import ContractClient
from daofed.chain.values import TxResult
from daofed.errors import ConfigError
from daofed.secagg.errors import SecAggError
from daofed.secagg.keys import check_public_key
from daofed.storage import BlobRef


class FederationSecureAggregation(ContractClient):
    """Encryption keys and the messages of private rounds."""

    def set_encryption_key(self, account: LocalAccount, public_key: bytes) -> TxResult:
        """Register (or rotate) ``account``'s X25519 public key for the shares dealt to it.

        A key no one can agree a secret with (a low-order point) is refused here: members
        would leave its owner out of every private round.
        """
        try:
            check_public_key(check_bytes32("public_key", public_key), account.address)
        except SecAggError as error:
            raise ConfigError(f"not an encryption key: {error}") from None
        call = self.contract.functions.setEncryptionKey(public_key)
        return self._send(account, call, "registering this member's encryption key")

    def encryption_key(self, address: str) -> bytes | None:
        """Return the X25519 public key ``address`` last registered, if any."""
        found = bytes(self._view("encryptionKey", check_address(address)))
        return None if found == bytes(32) else found

    def post_shares(self, account: LocalAccount, round_number: int, ref: BlobRef) -> TxResult:
        """Record ``account``'s setup message ``ref`` of the private round ``round_number``."""
        call = self.contract.functions.postShares(
            check_round(round_number), ref.digest, ref.locator
        )
        return self._send(account, call, f"posting the setup message of round {round_number}")

    def post_recovery(self, account: LocalAccount, round_number: int, ref: BlobRef) -> TxResult:
        """Record ``account``'s recovery message ``ref`` of the private round ``round_number``."""
        call = self.contract.functions.postRecovery(
            check_round(round_number), ref.digest, ref.locator
        )
        return self._send(account, call, f"posting the recovery message of round {round_number}")

    def setup_deadline(self, round_number: int) -> int:
        """Return when round ``round_number`` stops taking setup messages (0: not opened)."""
        return int(self._view("setupDeadline", check_round(round_number)))

    def has_posted_shares(self, round_number: int, address: str) -> bool:
        """Tell whether ``address`` posted its setup message in round ``round_number``."""
        return bool(
            self._view("hasPostedShares", check_round(round_number), check_address(address))
        )

    def has_posted_recovery(self, round_number: int, address: str) -> bool:
        """Tell whether ``address`` posted its recovery message in round ``round_number``."""
        return bool(
            self._view("hasPostedRecovery", check_round(round_number), check_address(address))
        )


class KeyRegistration(Protocol):
    """A key registration where it happened in chain order (``EncryptionKeySet`` is one)."""

    @property
    def account(self) -> str:
        """The account that registered the key."""

    @property
    def key(self) -> bytes:
        """The X25519 public key."""

    @property
    def block_number(self) -> int:
        """The block of the registration."""

    @property
    def log_index(self) -> int:
        """Its log's index in that block."""


def keys_in_force(
    registrations: Iterable[KeyRegistration], opened: tuple[int, int]
) -> dict[str, bytes]:
    """Return the keys in force in a round whose RoundOpened log is at ``opened``.

    ``opened`` is (block, log index). An account's key in force is the last one it
    registered before the round opened, in chain order: every member deals the round's
    shares to the same keys, and a key registered or rotated during a round counts from
    the next one. Members (:meth:`daofed.chain.Federation.encryption_keys`) and the audit
    apply this one rule.
    """
    keys: dict[str, bytes] = {}
    for registration in registrations:
        if (registration.block_number, registration.log_index) < opened:
            keys[registration.account] = registration.key
    return keys

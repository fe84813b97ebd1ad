"""A member's part in private rounds (secure aggregation): its keys, and one round's messages.

Every secret is derived from the member's account key (HKDF, see
:func:`daofed.secagg.derive_identity` and :meth:`daofed.secagg.RoundSecrets.derive`): an
agent killed between its setup message and its masked update, or before its recovery
message, finds the very same secrets when it starts again, with nothing kept on disk.
Which messages count is decided by :mod:`daofed.protocol.private`, the same for every
member and the audit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from numpy.typing import NDArray

from daofed.chain import Federation, RoundSnapshot
from daofed.errors import ConfigError
from daofed.learning.aggregation import AggregationRule
from daofed.protocol import Exclusion, PrivateFacts
from daofed.protocol.private import (
    PrivateAggregate,
    PrivateMessages,
    Reading,
    participants,
    private_aggregate,
    read_recoveries,
    read_setups,
    read_updates,
)
from daofed.secagg import (
    Context,
    KeyPair,
    Layout,
    MaskedUpdate,
    RoundSecrets,
    SecAggError,
    SetupMessage,
    build_masked_update,
    build_recovery,
    build_setup,
    derive_identity,
    encode_masked,
    encode_recovery,
    encode_setup,
)
from daofed.storage import BlobStore, Weights
from daofed.storage.store import sha256_digest

GENERATIONS = 256
"""Key generations searched for the one registered: rotations a member may make."""


class MemberKeys:
    """A member's encryption keys: generation 0, 1, ... derived from its account key."""

    def __init__(self, federation: Federation, account: LocalAccount) -> None:
        self._federation = federation
        self._account = account
        self._master = bytes(account.key)
        self._chain_id = int(federation.w3.eth.chain_id)
        self._contract = bytes.fromhex(federation.address[2:])

    def generation(self, number: int) -> KeyPair:
        """Return the key pair of generation ``number``."""
        return derive_identity(self._master, self._chain_id, self._contract, number)

    def find(self, public: bytes) -> tuple[int, KeyPair] | None:
        """Return the generation whose public key is ``public``, if it is one of ours."""
        for number in range(GENERATIONS):
            pair = self.generation(number)
            if pair.public == public:
                return number, pair
        return None

    def register(self) -> bool:
        """Register generation 0 unless a key is registered already; return whether it sent."""
        if self._federation.encryption_key(self._account.address) is not None:
            return False
        self._federation.set_encryption_key(self._account, self.generation(0).public)
        return True

    def rotate(self) -> int:
        """Register the next generation after the one registered; return its number."""
        current = self._federation.encryption_key(self._account.address)
        found = None if current is None else self.find(current)
        if current is not None and found is None:
            raise ConfigError(
                f"the encryption key registered for {self._account.address} was not derived "
                "from this account's key: rotate it with the tool that registered it"
            )
        number = 0 if found is None else found[0] + 1
        if number >= GENERATIONS:
            raise ConfigError(f"this account has used all {GENERATIONS} key generations")
        self._federation.set_encryption_key(self._account, self.generation(number).public)
        return number


@dataclass
class PrivateRound:
    """One private round from this member's side: who takes part, its secrets, its messages.

    Setup messages are read once who masks is final, masked updates once who submitted
    is, and kept; recovery messages are read again until the sum can be unmasked.
    """

    federation: Federation
    store: BlobStore
    member: str
    context: Context | None  # None: too few participants for a private round
    keys: dict[str, bytes]  # participants' encryption keys in force
    identity: KeyPair | None  # this member's key in force, None if it takes no part
    secrets: RoundSecrets | None
    layout: Layout
    setup_deadline: int
    _setups: Reading[SetupMessage] | None = None
    _messages: PrivateMessages | None = None
    _own: dict[bytes, MaskedUpdate] = field(default_factory=dict)

    @classmethod
    def open(
        cls,
        federation: Federation,
        store: BlobStore,
        keys: MemberKeys,
        account: LocalAccount,
        round_number: int,
        threshold: int,
        layout: Layout,
    ) -> PrivateRound:
        """Read who takes part in ``round_number`` and with which keys; derive the secrets."""
        in_force = federation.encryption_keys(round_number)
        members = participants(federation.members(round_number), in_force)
        try:
            context: Context | None = Context(
                int(federation.w3.eth.chain_id),
                bytes.fromhex(federation.address[2:]),
                round_number,
                members,
                threshold,
            )
        except SecAggError:
            context = None
        me = account.address
        found = keys.find(in_force[me]) if me in members and context is not None else None
        identity = None if found is None else found[1]
        secrets = (
            None
            if identity is None or context is None
            else RoundSecrets.derive(context, me, bytes(account.key))
        )
        return cls(
            federation,
            store,
            me,
            context,
            {member.lower(): in_force[member] for member in members},
            identity,
            secrets,
            layout,
            federation.setup_deadline(round_number),
        )

    def facts(self, snapshot: RoundSnapshot) -> PrivateFacts:
        """Read what the private round adds to ``snapshot`` (the posts so far, the clock)."""
        context = self.context
        if context is None or self.identity is None:
            return PrivateFacts(False, False, False, False)
        posters = {p.member.lower() for p in self.federation.share_posts(snapshot.round)}
        posters &= set(context.members)
        now = int(self.federation.w3.eth.get_block(snapshot.block)["timestamp"])
        recovered = any(
            p.member == self.member for p in self.federation.recovery_posts(snapshot.round)
        )
        return PrivateFacts(
            participant=True,
            shares_posted=self.member.lower() in posters,
            setup_closed=now >= self.setup_deadline or posters == set(context.members),
            recovery_posted=recovered,
        )

    def setup_blob(self) -> bytes:
        """Make this member's setup message: its round secrets, shared with every participant."""
        context, identity = self._participant()
        message, _ = build_setup(context, self.member, identity, self.keys, self.secrets)
        return encode_setup(context, message)

    def masked_blob(self, delta: Mapping[str, NDArray[Any]], num_samples: int) -> bytes:
        """Mask this member's update against every setup message on record (U1)."""
        context, _ = self._participant()
        assert self.secrets is not None  # a participant has secrets
        masked = build_masked_update(
            context, self.secrets, self._read_setups().values(), delta, num_samples
        )
        data = encode_masked(context, masked)
        self._own = {sha256_digest(data): masked}
        return data

    def recovery_blob(self) -> bytes:
        """Reveal this member's shares: seeds of U2's members, mask keys of the others."""
        context, identity = self._participant()
        messages = self.messages()
        recovery, _ = build_recovery(
            context,
            self.member,
            identity,
            messages.setups,
            [update.member for update in messages.updates],
            self.keys,
        )
        return encode_recovery(context, recovery)

    def messages(self) -> PrivateMessages:
        """Read the messages on record: U1's setups, U2's masked updates, recoveries.

        Raises SecAggError when the round has too few participants, and BlobNotFound while
        a setup message or masked update cannot be fetched (the caller waits: deciding
        without it could differ from the other members' decision). A recovery message that
        cannot be fetched is skipped: the others may be enough.
        """
        context = self._context()
        if self._messages is None:
            setups = self._read_setups()
            submissions = self.federation.updates(context.round)
            updates = read_updates(context, setups, submissions, self.store, self.layout, self._own)
            self._messages = PrivateMessages(
                tuple(setups.values()),
                tuple(updates.complete().values()),
                (),
                (*self._setups_excluded(), *updates.excluded),
            )
        recoveries = read_recoveries(
            context, self.federation.recovery_posts(context.round), self.store
        )
        return PrivateMessages(
            self._messages.setups,
            self._messages.updates,
            tuple(recoveries.found.values()),
            self._messages.excluded + tuple(recoveries.excluded),
        )

    def aggregate(self, base: Weights, rule: AggregationRule) -> PrivateAggregate:
        """Unmask the round's new model from the messages on record.

        Raises SecAggError while it cannot be unmasked (e.g. too few recovery messages yet).
        """
        context = self._context()
        return private_aggregate(context.round, context, base, self.messages(), rule)

    def _read_setups(self) -> dict[str, SetupMessage]:
        if self._setups is None:
            context = self._context()
            posts = self.federation.share_posts(context.round)
            reading = read_setups(context, posts, self.store)
            reading.complete()
            self._setups = reading
        return self._setups.found

    def _setups_excluded(self) -> list[Exclusion]:
        return [] if self._setups is None else self._setups.excluded

    def _context(self) -> Context:
        if self.context is None:
            raise SecAggError(
                "too-few-participants",
                "fewer members registered an encryption key before this round opened than "
                "the rule's threshold: the round cannot run privately",
            )
        return self.context

    def _participant(self) -> tuple[Context, KeyPair]:
        context = self._context()
        if self.identity is None:
            raise SecAggError(
                "not-a-participant",
                f"{self.member} had no encryption key in force when round {context.round} "
                "opened: it takes part from the next round",
            )
        return context, self.identity

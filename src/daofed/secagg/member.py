"""What one member computes in a secure round: its setup, its masked update, its recovery.

Each function is pure over its inputs (context, keys, messages on record), so the agent
(next stage) can persist the round secrets between phases and call them as the chain
advances. The caller decides which messages are "on record" (the chain's events), which
keys are registered, and which members submitted.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from numpy.typing import NDArray

from daofed.secagg import masks, shares
from daofed.secagg.context import Context, address_bytes, normalize
from daofed.secagg.errors import Finding, SecAggError
from daofed.secagg.fixedpoint import Layout, encode_input
from daofed.secagg.keys import KeyPair, derive
from daofed.secagg.messages import (
    Envelope,
    MaskedUpdate,
    RecoveryMessage,
    RevealedShare,
    SetupMessage,
    setups_by_dealer,
)

SEED_BYTES = 16


@dataclass(frozen=True, repr=False)
class RoundSecrets:
    """A member's secrets for one round: its mask key pair and self-mask seed.

    Keep them until the round ends; never publish them. The other members hold shares of
    both, which is what lets the round finish if this member drops out.
    """

    member: str
    mask_key: KeyPair
    seed: bytes

    def __repr__(self) -> str:
        return f"RoundSecrets(member={self.member}, mask_public={self.mask_key.public.hex()})"

    @classmethod
    def fresh(cls, member: str) -> RoundSecrets:
        """Draw new secrets from the operating system's randomness."""
        return cls(normalize(member), KeyPair.generate(), os.urandom(SEED_BYTES))

    @classmethod
    def derive(cls, context: Context, member: str, master: bytes) -> RoundSecrets:
        """Derive the secrets of ``member`` for ``context``'s round from its ``master`` secret.

        HKDF-SHA256 bound to the round's label: a member restarted between its setup and
        its masked update finds the very secrets its setup message shared, with nothing
        kept on disk; secrets of different rounds are unrelated. ``master`` must be a
        secret only this member holds (an agent uses its account's private key).
        """
        member = normalize(member)
        info = context.label() + b"round-secrets" + address_bytes(member)
        key = derive(master, info + b"mask-key")
        return cls(member, KeyPair.from_private(key), derive(master, info + b"seed")[:SEED_BYTES])


def build_setup(
    context: Context,
    member: str,
    identity: KeyPair,
    encryption_keys: Mapping[str, bytes],
    secrets: RoundSecrets | None = None,
) -> tuple[SetupMessage, RoundSecrets]:
    """Make ``member``'s setup message: its round secrets, shared with every member.

    ``encryption_keys`` maps every member (including this one) to the long-term public key
    registered for it; this member's entry must be ``identity.public``. ``secrets``
    default to fresh ones (:meth:`RoundSecrets.fresh`).
    """
    member = normalize(member)
    keys = {normalize(address): key for address, key in encryption_keys.items()}
    missing = [m for m in context.members if m not in keys]
    if missing:
        raise SecAggError(
            "missing-key", f"no encryption key for {', '.join(missing)}; they must register one"
        )
    if keys.get(member) != identity.public:
        raise SecAggError("bad-key", f"identity key of {member} is not the one registered")
    secrets = RoundSecrets.fresh(member) if secrets is None else secrets
    if secrets.member != member:
        raise SecAggError("bad-key", f"round secrets of {secrets.member} given for {member}")
    bundles = shares.deal(
        context.threshold, len(context.members), secrets.seed, secrets.mask_key.private
    )
    envelopes = []
    for recipient, bundle in zip(context.members, bundles, strict=True):
        nonce, ciphertext = shares.seal(
            context, member, identity.private, recipient, keys[recipient], bundle
        )
        envelopes.append(
            Envelope(
                recipient,
                keys[recipient],
                nonce,
                ciphertext,
                shares.commit_b(context, member, recipient, bundle.b, bundle.salt_b),
                shares.commit_s(context, member, recipient, bundle.s, bundle.salt_s),
            )
        )
    message = SetupMessage(
        member,
        secrets.mask_key.public,
        shares.commit_seed(context, member, secrets.seed),
        tuple(envelopes),
    )
    message.check(context)
    return message, secrets


def build_masked_update(
    context: Context,
    secrets: RoundSecrets,
    setups: Collection[SetupMessage],
    delta: Mapping[str, NDArray[Any]],
    num_samples: int,
) -> MaskedUpdate:
    """Mask ``num_samples * Q(delta)`` against every member whose setup is on record.

    ``setups`` is U1, this member's own included; its own must carry ``secrets``' mask key
    (otherwise nobody could remove the masks). ``delta`` is float32 by tensor name.
    """
    member = secrets.member
    by_dealer = setups_by_dealer(context, setups)
    own = by_dealer.get(member)
    if own is None or own.mask_public_key != secrets.mask_key.public:
        raise SecAggError(
            "not-in-setup",
            f"{member}'s own setup message for this round is not on record; it cannot submit",
        )
    vector = encode_input(delta, num_samples, f"update of {member}")
    masks.apply(vector, masks.self_key(context, member, secrets.seed), 1)
    for peer, setup in sorted(by_dealer.items()):
        if peer != member:
            key = masks.pairwise_key(
                context, secrets.mask_key.private, member, peer, setup.mask_public_key
            )
            masks.apply(vector, key, masks.sign(member, peer))
    return MaskedUpdate(member, num_samples, tuple(by_dealer), Layout.of(delta), vector)


def build_recovery(
    context: Context,
    member: str,
    identity: KeyPair,
    setups: Collection[SetupMessage],
    submitted: Collection[str],
    encryption_keys: Mapping[str, bytes],
) -> tuple[RecoveryMessage, tuple[Finding, ...]]:
    """Reveal, for each dealer on record, its seed share if it submitted, else its key share.

    ``submitted`` is U2 as recorded on chain; ``encryption_keys`` the dealers' registered
    long-term public keys. A dealer whose envelope does not decrypt or whose shares fail
    their commitments is skipped and reported as a finding (a dishonest dealer must not
    stop this member's recovery). Call it once per round: revealing for two different
    ``submitted`` sets would reveal both kinds of some dealer's shares.
    """
    member = normalize(member)
    by_dealer = setups_by_dealer(context, setups)
    done = tuple(sorted(normalize(m) for m in submitted))
    unknown = [m for m in done if m not in by_dealer]
    if unknown:
        raise SecAggError(
            "not-in-setup", f"{', '.join(unknown)} submitted without a setup message on record"
        )
    keys = {normalize(address): key for address, key in encryption_keys.items()}
    revealed: list[RevealedShare] = []
    findings: list[Finding] = []
    for dealer, setup in sorted(by_dealer.items()):
        envelope = setup.envelope(context, member)
        if envelope.recipient_key != identity.public or dealer not in keys:
            findings.append(
                Finding(dealer, dealer, "stale-key", "shares sealed to another key of ours")
            )
            continue
        try:
            bundle = shares.open_sealed(
                context,
                dealer,
                keys[dealer],
                member,
                (identity.private, identity.public),
                envelope.nonce,
                envelope.ciphertext,
            )
        except SecAggError as error:
            findings.append(Finding(dealer, dealer, error.reason, str(error)))
            continue
        if shares.commit_b(
            context, dealer, member, bundle.b, bundle.salt_b
        ) != envelope.commit_b or (
            shares.commit_s(context, dealer, member, bundle.s, bundle.salt_s) != envelope.commit_s
        ):
            findings.append(
                Finding(dealer, dealer, "bad-commitment", "our shares do not open the commitments")
            )
            continue
        if dealer in done:
            revealed.append(RevealedShare(dealer, "b", bundle.b, bundle.salt_b))
        else:
            revealed.append(RevealedShare(dealer, "s", bundle.s, bundle.salt_s))
    return RecoveryMessage(member, done, tuple(revealed)), tuple(findings)

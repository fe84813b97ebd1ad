"""A member's side: context checks, setup inputs, key checks, and recovery with a bad dealer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from daofed.secagg import (
    Context,
    KeyPair,
    SecAggError,
    build_masked_update,
    build_recovery,
    build_setup,
    unmask,
)
from tests.secagg.helpers import make_round, same_bytes

MEMBERS = tuple(f"0x{i:040x}" for i in range(1, 4))


@pytest.mark.parametrize(
    ("members", "threshold", "match"),
    [
        (MEMBERS, 1, "threshold 1"),
        (MEMBERS, 4, "threshold 4"),
        (MEMBERS[:1], 1, "needs 2 to"),
        ((*MEMBERS, MEMBERS[0].upper().replace("0X", "0x")), 2, "listed twice"),
        ((*MEMBERS, "0x1234"), 2, "not an address"),
    ],
)
def test_context_is_validated(members: tuple[str, ...], threshold: int, match: str) -> None:
    with pytest.raises(SecAggError, match=match):
        Context(1, bytes(20), 1, members, threshold)


def test_context_orders_members_and_binds_the_round() -> None:
    ctx = Context(
        1, bytes(20), 9, (MEMBERS[2], MEMBERS[0].upper().replace("0X", "0x"), MEMBERS[1]), 2
    )
    assert ctx.members == MEMBERS
    assert ctx.index(MEMBERS[0].upper().replace("0X", "0x")) == 1
    assert ctx.label() != replace(ctx, round=10).label()
    assert ctx.label() != replace(ctx, chain_id=2).label()
    assert ctx.label() != replace(ctx, contract=b"\1" * 20).label()


def test_setup_needs_every_members_key_and_our_own() -> None:
    ctx = Context(1, bytes(20), 1, MEMBERS, 2)
    keys = {m: KeyPair.generate() for m in MEMBERS}
    public = {m: k.public for m, k in keys.items()}
    with pytest.raises(SecAggError, match=f"no encryption key for {MEMBERS[2]}"):
        build_setup(ctx, MEMBERS[0], keys[MEMBERS[0]], {m: public[m] for m in MEMBERS[:2]})
    with pytest.raises(SecAggError, match="not the one registered"):
        build_setup(ctx, MEMBERS[0], KeyPair.generate(), public)
    setup, secrets = build_setup(ctx, MEMBERS[0], keys[MEMBERS[0]], public)
    assert secrets.mask_key.private.hex() not in repr(secrets)
    assert keys[MEMBERS[0]].private.hex() not in repr(keys[MEMBERS[0]])
    assert [e.recipient_key for e in setup.envelopes] == [public[m] for m in MEMBERS]


def test_a_member_without_its_own_setup_cannot_submit() -> None:
    sim = make_round(members=3, threshold=2, seed=30)
    me = sim.members[0]
    others = [s for s in sim.setups if s.dealer != me]
    with pytest.raises(SecAggError, match="own setup") as error:
        build_masked_update(sim.context, sim.secrets[me], others, sim.deltas[me], 1)
    assert error.value.reason == "not-in-setup"


def test_a_low_order_mask_key_is_refused_naming_its_owner() -> None:
    sim = make_round(members=3, threshold=2, seed=31)
    me, bad = sim.members[0], sim.members[1]
    setups = [replace(s, mask_public_key=bytes(32)) if s.dealer == bad else s for s in sim.setups]
    with pytest.raises(SecAggError, match=f"public key of {bad}") as error:
        build_masked_update(sim.context, sim.secrets[me], setups, sim.deltas[me], 1)
    assert error.value.reason == "bad-key"


def test_recovery_skips_a_dealer_whose_shares_do_not_open() -> None:
    sim = make_round(members=4, threshold=2, seed=32)
    me, bad = sim.members[0], sim.members[2]
    setups = []
    for setup in sim.setups:
        if setup.dealer == bad:
            envelopes = list(setup.envelopes)
            ct = envelopes[0].ciphertext
            envelopes[0] = replace(envelopes[0], ciphertext=bytes([ct[0] ^ 1]) + ct[1:])
            setup = replace(setup, envelopes=tuple(envelopes))
        setups.append(setup)
    message, findings = build_recovery(
        sim.context, me, sim.identities[me], setups, sim.members, sim.public_keys
    )
    assert [(f.sender, f.reason) for f in findings] == [(bad, "undecryptable")]
    assert bad not in [s.dealer for s in message.shares]
    assert len(message.shares) == 3
    # the round still finishes from the others' shares
    sim.setups = setups
    updates = sim.masked(sim.members)
    others = sim.recoveries(sim.members[1:3], sim.members)
    result = unmask(sim.context, setups, updates, [message, *others])
    assert same_bytes(result.delta, sim.reference(sim.members))


def test_recovery_skips_shares_sealed_to_a_rotated_key() -> None:
    sim = make_round(members=3, threshold=2, seed=33)
    me = sim.members[1]
    rotated = KeyPair.generate()
    message, findings = build_recovery(
        sim.context, me, rotated, sim.setups, sim.members, {**sim.public_keys, me: rotated.public}
    )
    assert message.shares == ()
    assert {f.reason for f in findings} == {"stale-key"}


def test_recovery_refuses_submitters_without_setup() -> None:
    sim = make_round(members=3, threshold=2, seed=34)
    me = sim.members[0]
    with pytest.raises(SecAggError, match="without a setup message"):
        build_recovery(
            sim.context, me, sim.identities[me], sim.setups[:2], sim.members, sim.public_keys
        )


def test_a_non_finite_delta_is_refused_before_masking() -> None:
    sim = make_round(members=3, threshold=2, seed=35)
    me = sim.members[0]
    delta = {name: array.copy() for name, array in sim.deltas[me].items()}
    delta["out"][1, 1, 1] = float("nan")
    with pytest.raises(SecAggError, match="tensor 'out' has NaN") as error:
        build_masked_update(sim.context, sim.secrets[me], sim.setups, delta, 3)
    assert error.value.reason == "non-finite"

"""The acceptance test of #11: below the threshold, colluders learn nothing of an honest update.

The attacker holds every public message of a round (setups, masked updates, recoveries) and
every secret of its colluders: long-term keys, mask keys and seeds. Its best unmasking of an
honest member's masked update removes what it can (the self mask, rebuildable from the
public seed shares of a submitter, and the pairwise masks shared with colluders); the
pairwise masks with the other honest members remain, so with t-1 colluders the result is
uniform noise, and with t colluders the update comes out exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from daofed.secagg import masks, shares
from daofed.secagg.fixedpoint import encode_input
from daofed.secagg.keys import public_key_of
from tests.secagg.helpers import SimRound, make_round

SHAPES = {"conv": (64, 32, 3, 3), "fc": (1000, 100), "bias": (500,)}  # 118,932 coordinates


@pytest.fixture(scope="module")
def sim() -> SimRound:
    return make_round(members=5, threshold=3, shapes=SHAPES, seed=40)


def _best_unmasking(sim: SimRound, target: str, colluders: list[str]) -> np.ndarray:
    """What the colluders can strip from the target's masked update with what they hold."""
    ctx = sim.context
    updates = {u.member: u for u in sim.masked(sim.members)}
    recoveries = sim.recoveries(sim.members, sim.members)
    by_dealer = {s.dealer: s for s in sim.setups}
    # the target submitted, so its seed shares are public: rebuild its seed from them
    points = [
        (ctx.index(r.sender), s.share)
        for r in recoveries
        for s in r.shares
        if s.dealer == target and s.kind == "b"
    ]
    seed = shares.combine(sorted(points)[: ctx.threshold])
    assert shares.commit_seed(ctx, target, seed) == by_dealer[target].seed_commitment
    estimate = updates[target].vector.copy()
    masks.apply(estimate, masks.self_key(ctx, target, seed), -1)
    for colluder in colluders:
        key = masks.pairwise_key(
            ctx,
            sim.secrets[colluder].mask_key.private,
            colluder,
            target,
            by_dealer[target].mask_public_key,
        )
        masks.apply(estimate, key, -masks.sign(target, colluder))
    return estimate


def _key_shares_held(sim: SimRound, target: str, colluders: list[str]) -> list[tuple[int, bytes]]:
    """The target's mask-key shares the colluders decrypt with their long-term keys."""
    ctx = sim.context
    setup = next(s for s in sim.setups if s.dealer == target)
    held = []
    for colluder in colluders:
        envelope = setup.envelope(ctx, colluder)
        keys = sim.identities[colluder]
        bundle = shares.open_sealed(
            ctx,
            target,
            sim.identities[target].public,
            colluder,
            (keys.private, keys.public),
            envelope.nonce,
            envelope.ciphertext,
        )
        held.append((ctx.index(colluder), bundle.s))
    return held


def _rebuild_key(held: list[tuple[int, bytes]]) -> bytes:
    return shares.combine([(i, s[:16]) for i, s in held]) + shares.combine(
        [(i, s[16:]) for i, s in held]
    )


def test_below_threshold_the_best_unmasking_is_uniform_noise(sim: SimRound) -> None:
    target = sim.members[2]
    colluders = [m for m in sim.members if m != target][: sim.context.threshold - 1]
    truth = encode_input(sim.deltas[target], sim.samples[target], target)
    estimate = _best_unmasking(sim, target, colluders)
    assert estimate.size >= 100_000

    signed = estimate.view(np.int64).astype(np.float64)
    r = np.corrcoef(signed, truth.view(np.int64).astype(np.float64))[0, 1]
    assert abs(r) < 0.05
    # uniform modulo 2^64: the top byte spreads evenly over 256 values (chi-square, 255
    # degrees of freedom: mean 255, sd 22.6), where the true input's sits at 0x00 / 0xff
    counts = np.bincount((estimate >> np.uint64(56)).astype(np.int64), minlength=256)
    expected = estimate.size / 256
    assert ((counts - expected) ** 2 / expected).sum() < 400
    truth_top = np.bincount((truth >> np.uint64(56)).astype(np.int64), minlength=256)
    assert truth_top[0] + truth_top[255] == truth.size
    assert abs(float(estimate.mean()) / 2.0**64 - 0.5) < 0.01

    # and t-1 key shares rebuild some key, not the target's
    held = _key_shares_held(sim, target, colluders)
    assert public_key_of(_rebuild_key(held)) != next(
        s.mask_public_key for s in sim.setups if s.dealer == target
    )


def test_at_threshold_colluders_recover_the_update_exactly(sim: SimRound) -> None:
    """Why the threshold is the privacy parameter: t colluders rebuild the mask key."""
    ctx = sim.context
    target = sim.members[2]
    colluders = [m for m in sim.members if m != target][: ctx.threshold]
    mask_key = _rebuild_key(_key_shares_held(sim, target, colluders))
    by_dealer = {s.dealer: s for s in sim.setups}
    assert public_key_of(mask_key) == by_dealer[target].mask_public_key
    estimate = _best_unmasking(sim, target, [])
    for peer in sim.members:
        if peer != target:
            key = masks.pairwise_key(ctx, mask_key, target, peer, by_dealer[peer].mask_public_key)
            masks.apply(estimate, key, -masks.sign(target, peer))
    truth = encode_input(sim.deltas[target], sim.samples[target], target)
    assert np.array_equal(estimate, truth)

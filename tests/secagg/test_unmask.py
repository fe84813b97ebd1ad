"""unmask: the exact FedAvg of the submitters, with dropouts, bad shares and too few of them."""

from __future__ import annotations

import os
import random
from dataclasses import replace

import numpy as np
import pytest

from daofed.learning.aggregation.base import MemberUpdate
from daofed.learning.aggregation.fedavg import fedavg
from daofed.secagg import (
    RecoveryMessage,
    SecAggError,
    build_masked_update,
    decode_masked,
    encode_masked,
    shares,
    unmask,
)
from daofed.secagg.fixedpoint import MAX_TOTAL_SAMPLES, encode_input
from daofed.secagg.shares import ShareBundle
from tests.secagg.helpers import make_round, same_bytes


def test_unmask_equals_fixed_point_fedavg_byte_for_byte() -> None:
    sim = make_round(members=5, threshold=3)
    assert len(set(sim.samples.values())) == 5
    updates = sim.masked(sim.members)
    recoveries = sim.recoveries(sim.members, sim.members)
    result = unmask(sim.context, sim.setups, updates, recoveries)
    want = sim.reference(sim.members)
    assert same_bytes(result.delta, want)
    assert result.members == sim.members
    assert result.num_samples == sum(sim.samples.values())
    assert result.findings == ()
    # and it is FedAvg up to the quantisation step
    plain = fedavg([MemberUpdate(m, sim.samples[m], sim.deltas[m]) for m in sim.members])
    for name in want:
        assert np.abs(result.delta[name] - plain[name]).max() < 2**-23


def test_unmask_is_independent_of_input_order() -> None:
    sim = make_round(members=5, threshold=3, seed=1)
    updates = sim.masked(sim.members)
    recoveries = sim.recoveries(sim.members, sim.members)
    first = unmask(sim.context, sim.setups, updates, recoveries).delta
    shuffle = random.Random(5).shuffle
    for _ in range(3):
        setups, ups, recs = list(sim.setups), list(updates), list(recoveries)
        shuffle(setups)
        shuffle(ups)
        shuffle(recs)
        assert same_bytes(unmask(sim.context, setups, ups, recs).delta, first)


def test_masked_updates_alone_do_not_sum_to_the_aggregate() -> None:
    """The masks are there: without removing the self masks the plain sum is noise."""
    sim = make_round(members=3, threshold=2, seed=2)
    updates = sim.masked(sim.members)
    total = sum((u.vector for u in updates), np.zeros_like(updates[0].vector))
    want = np.zeros_like(total)
    for m in sim.members:
        want += encode_input(sim.deltas[m], sim.samples[m], m)
    assert np.count_nonzero(total == want) < 3


def test_dropouts_before_submitting_and_before_recovery() -> None:
    sim = make_round(members=5, threshold=3, seed=3)
    m = sim.members
    before_submit, before_recovery = m[1], m[3]
    submitters = [x for x in m if x != before_submit]
    updates = sim.masked(submitters)
    senders = [x for x in submitters if x != before_recovery]
    assert len(senders) == sim.context.threshold
    recoveries = sim.recoveries(senders, submitters)
    # the dropped member's key is rebuilt from key shares, the late one's seed from seed shares
    kinds = {(s.dealer, s.kind) for r in recoveries for s in r.shares}
    assert (before_submit, "s") in kinds and (before_submit, "b") not in kinds
    assert (before_recovery, "b") in kinds and (before_recovery, "s") not in kinds
    result = unmask(sim.context, sim.setups, updates, recoveries)
    assert same_bytes(result.delta, sim.reference(submitters))
    assert result.members == tuple(submitters)


def test_too_few_submitters_is_refused() -> None:
    sim = make_round(members=5, threshold=3, seed=4)
    submitters = list(sim.members[:2])
    updates = sim.masked(submitters)
    recoveries = sim.recoveries(sim.members, submitters)
    with pytest.raises(SecAggError, match="threshold is 3") as error:
        unmask(sim.context, sim.setups, updates, recoveries)
    assert error.value.reason == "too-few-submissions"


def test_too_few_recoveries_names_the_dealer() -> None:
    sim = make_round(members=5, threshold=3, seed=5)
    updates = sim.masked(sim.members)
    recoveries = sim.recoveries(sim.members[:2], sim.members)
    with pytest.raises(SecAggError, match="2 valid share") as error:
        unmask(sim.context, sim.setups, updates, recoveries)
    assert error.value.reason == "too-few-shares"
    assert sim.members[0] in str(error.value)


def _tamper(message: RecoveryMessage, dealer: str) -> RecoveryMessage:
    shares = tuple(
        replace(s, share=bytes([s.share[0] ^ 1]) + s.share[1:]) if s.dealer == dealer else s
        for s in message.shares
    )
    return replace(message, shares=shares)


def test_tampered_share_is_a_finding_and_is_ignored() -> None:
    sim = make_round(members=5, threshold=3, seed=6)
    m = sim.members
    submitters = list(m[1:])  # m[0] dropped: its key shares are needed too
    updates = sim.masked(submitters)
    recoveries = sim.recoveries(m[1:], submitters)
    liar = recoveries[0].sender
    recoveries[0] = _tamper(_tamper(recoveries[0], m[0]), m[2])
    result = unmask(sim.context, sim.setups, updates, recoveries)
    assert same_bytes(result.delta, sim.reference(submitters))
    found = {(f.sender, f.dealer, f.reason) for f in result.findings}
    assert found == {(liar, m[0], "bad-share"), (liar, m[2], "bad-share")}


def test_tampered_shares_below_threshold_stop_the_round() -> None:
    sim = make_round(members=5, threshold=3, seed=7)
    updates = sim.masked(sim.members)
    recoveries = sim.recoveries(sim.members[:3], sim.members)
    recoveries[1] = _tamper(recoveries[1], sim.members[4])
    with pytest.raises(SecAggError, match=sim.members[4]) as error:
        unmask(sim.context, sim.setups, updates, recoveries)
    assert error.value.reason == "too-few-shares"


def test_recovery_naming_other_submitters_is_ignored() -> None:
    sim = make_round(members=5, threshold=3, seed=8)
    m = sim.members
    updates = sim.masked(m)
    honest = sim.recoveries(m[:3], m)
    confused = sim.recoveries(m[3:4], m[:4])
    result = unmask(sim.context, sim.setups, updates, honest + confused)
    assert same_bytes(result.delta, sim.reference(m))
    assert [(f.sender, f.reason) for f in result.findings] == [(m[3], "inconsistent-view")]


def test_updates_masked_against_different_setups_are_refused() -> None:
    sim = make_round(members=4, threshold=2, seed=9)
    m = sim.members
    updates = sim.masked(m[:3])
    partial = [s for s in sim.setups if s.dealer != m[3]]
    late = build_masked_update(
        sim.context, sim.secrets[m[3]], sim.setups, sim.deltas[m[3]], sim.samples[m[3]]
    )
    early = build_masked_update(
        sim.context, sim.secrets[m[0]], partial, sim.deltas[m[0]], sim.samples[m[0]]
    )
    with pytest.raises(SecAggError, match="masked against other setup") as error:
        unmask(sim.context, sim.setups, [early, *updates[1:], late], [])
    assert error.value.reason == "mask-set"


def test_a_changed_masked_byte_changes_the_sum() -> None:
    """Masks do not authenticate: the audit compares digests; unmask sums what it is given."""
    sim = make_round(members=3, threshold=2, seed=10)
    updates = sim.masked(sim.members)
    recoveries = sim.recoveries(sim.members, sim.members)
    data = bytearray(encode_masked(sim.context, updates[0]))
    data[-6] ^= 0x80  # bit 23 of the last coordinate
    updates[0] = decode_masked(sim.context, bytes(data), sim.layout)
    result = unmask(sim.context, sim.setups, updates, recoveries)
    assert not same_bytes(result.delta, sim.reference(sim.members))


def test_sample_totals_that_could_wrap_are_refused() -> None:
    sim = make_round(members=3, threshold=2, seed=11)
    sim.samples = {m: MAX_TOTAL_SAMPLES // 2 for m in sim.members}
    updates = sim.masked(sim.members)
    with pytest.raises(SecAggError, match="overflow") as error:
        unmask(sim.context, sim.setups, updates, sim.recoveries(sim.members, sim.members))
    assert error.value.reason == "overflow"


def test_a_dealer_with_inconsistent_shares_is_named() -> None:
    """A dealer can commit to a share off its polynomial; the rebuilt seed then fails its
    commitment, and the round stops naming the dealer (not the honest recipient)."""
    sim = make_round(members=4, threshold=2, seed=12)
    m = sim.members
    dealer, victim = m[3], m[0]
    setup = next(s for s in sim.setups if s.dealer == dealer)
    forged = ShareBundle(*(os.urandom(16) for _ in range(5)))
    nonce, ciphertext = shares.seal(
        sim.context, dealer, sim.identities[dealer].private, victim, sim.public_keys[victim], forged
    )
    envelopes = list(setup.envelopes)
    envelopes[0] = replace(
        envelopes[0],
        nonce=nonce,
        ciphertext=ciphertext,
        commit_b=shares.commit_b(sim.context, dealer, victim, forged.b, forged.salt_b),
        commit_s=shares.commit_s(sim.context, dealer, victim, forged.s, forged.salt_s),
    )
    sim.setups = [
        replace(setup, envelopes=tuple(envelopes)) if s is setup else s for s in sim.setups
    ]
    updates = sim.masked(m)
    recoveries = sim.recoveries(m, m)
    with pytest.raises(SecAggError, match=f"for {dealer}, its seed shares rebuild") as error:
        unmask(sim.context, sim.setups, updates, recoveries)
    assert error.value.reason == "bad-secret"


def test_an_input_beyond_the_bound_makes_the_sum_refused() -> None:
    """Masks hide a dishonest input, but not a sum no honest inputs could produce."""
    sim = make_round(members=3, threshold=2, seed=13)
    updates = sim.masked(sim.members)
    off = updates[1].vector[5:6]
    off += np.uint64(2**62)  # wraps silently (array op); masking is additive: as if v_u were off
    recoveries = sim.recoveries(sim.members, sim.members)
    with pytest.raises(SecAggError, match="1 coordinate") as error:
        unmask(sim.context, sim.setups, updates, recoveries)
    assert error.value.reason == "out-of-range"

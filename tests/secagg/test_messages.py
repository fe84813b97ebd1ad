"""Canonical, strict message bytes: round trips, and every malformed input refused with a reason."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from daofed.secagg import (
    Context,
    Layout,
    RecoveryMessage,
    RevealedShare,
    SecAggError,
    decode_masked,
    decode_recovery,
    decode_setup,
    encode_masked,
    encode_recovery,
    encode_setup,
)
from daofed.secagg.wire import MAGIC
from tests.secagg.helpers import SimRound, make_round


@pytest.fixture(scope="module")
def sim() -> SimRound:
    return make_round(members=4, threshold=2, seed=20)


def _setup_bytes(sim: SimRound) -> bytes:
    return encode_setup(sim.context, sim.setups[0])


def _recovery_bytes(sim: SimRound, submitted: tuple[str, ...] | None = None) -> bytes:
    dropped = submitted if submitted is not None else sim.members[:3]
    message = sim.recoveries(sim.members[:1], dropped)[0]
    return encode_recovery(sim.context, message)


def test_round_trips_are_canonical(sim: SimRound) -> None:
    data = _setup_bytes(sim)
    assert decode_setup(sim.context, data) == sim.setups[0]
    assert encode_setup(sim.context, decode_setup(sim.context, data)) == data
    recovery = _recovery_bytes(sim)
    assert encode_recovery(sim.context, decode_recovery(sim.context, recovery)) == recovery
    masked = sim.masked(sim.members[:1])[0]
    blob = encode_masked(sim.context, masked)
    again = decode_masked(sim.context, blob, sim.layout)
    assert again.member == masked.member and again.num_samples == masked.num_samples
    assert again.mask_set == sim.members
    assert np.array_equal(again.vector, masked.vector)
    assert encode_masked(sim.context, again) == blob


@pytest.mark.parametrize("which", ["setup", "recovery"])
def test_every_truncation_and_any_extension_is_refused(sim: SimRound, which: str) -> None:
    data = _setup_bytes(sim) if which == "setup" else _recovery_bytes(sim)
    decode = decode_setup if which == "setup" else decode_recovery
    for length in range(len(data)):
        with pytest.raises(SecAggError) as error:
            decode(sim.context, data[:length])
        assert error.value.reason in {"truncated", "malformed"}, length
    with pytest.raises(SecAggError, match="trailing") as error:
        decode(sim.context, data + b"\0")
    assert error.value.reason == "oversized"


def test_wrong_magic_version_kind_and_round_are_refused(sim: SimRound) -> None:
    data = _setup_bytes(sim)
    with pytest.raises(SecAggError, match="magic"):
        decode_setup(sim.context, b"XXXX" + data[4:])
    with pytest.raises(SecAggError, match="version 2"):
        decode_setup(sim.context, MAGIC + b"\x02" + data[5:])
    with pytest.raises(SecAggError, match="expected a recovery message, got setup message"):
        decode_recovery(sim.context, data)
    other = Context(
        sim.context.chain_id,
        sim.context.contract,
        sim.context.round + 1,
        sim.members,
        sim.context.threshold,
    )
    with pytest.raises(SecAggError, match="another chain, contract or round") as error:
        decode_setup(other, data)
    assert error.value.reason == "wrong-round"


def test_non_member_addresses_are_refused(sim: SimRound) -> None:
    data = bytearray(_setup_bytes(sim))
    start = len(MAGIC) + 2 + len(sim.context.label())
    data[start : start + 20] = b"\x99" * 20
    with pytest.raises(SecAggError, match="is not a member") as error:
        decode_setup(sim.context, bytes(data))
    assert error.value.reason == "unknown-member"


def test_recovery_with_both_kinds_for_one_dealer_is_refused(sim: SimRound) -> None:
    message = sim.recoveries(sim.members[:1], sim.members[:3])[0]
    dropped = sim.members[3]
    key_share = next(s for s in message.shares if s.dealer == dropped)
    fake_b = RevealedShare(dropped, "b", key_share.share[:16], key_share.salt)
    with pytest.raises(SecAggError, match="more than one share") as error:
        replace(message, shares=(*message.shares, fake_b))
    assert error.value.reason == "both-kinds"
    # nor a seed share of someone who did not submit (a key share of a submitter alike)
    with pytest.raises(SecAggError, match="did not"):
        RecoveryMessage(message.sender, message.submitted, (fake_b,))
    submitter = sim.members[0]
    with pytest.raises(SecAggError, match="who submitted"):
        RecoveryMessage(
            message.sender,
            message.submitted,
            (RevealedShare(submitter, "s", bytes(32), bytes(16)),),
        )
    # and the same on the wire: a repeated dealer
    two = replace(message, shares=message.shares[:2])
    data = bytearray(encode_recovery(sim.context, two))
    count_at = len(MAGIC) + 2 + len(sim.context.label()) + 20 + 1
    entry = 20 + 1 + 16 + 16  # a b-share entry: the first dealer submitted
    first = bytes(data[count_at + 2 : count_at + 2 + entry])
    data[count_at : count_at + 2] = (3).to_bytes(2, "big")
    data[count_at + 2 : count_at + 2] = first
    with pytest.raises(SecAggError, match="strictly increasing") as error:
        decode_recovery(sim.context, bytes(data))
    assert error.value.reason == "both-kinds"


def test_recovery_field_values_are_checked(sim: SimRound) -> None:
    data = bytearray(_recovery_bytes(sim))
    bitmap_at = len(MAGIC) + 2 + len(sim.context.label()) + 20
    kind_at = bitmap_at + 1 + 2 + 20
    stray = bytearray(data)
    stray[bitmap_at] |= 0x80  # only 4 members
    with pytest.raises(SecAggError, match="names non-members"):
        decode_recovery(sim.context, bytes(stray))
    unknown = bytearray(data)
    unknown[kind_at] = ord("x")
    with pytest.raises(SecAggError, match="unknown share kind"):
        decode_recovery(sim.context, bytes(unknown))
    flipped = bytearray(data)
    flipped[kind_at] = ord("s")  # the first dealer submitted: a key share is refused
    with pytest.raises(SecAggError):
        decode_recovery(sim.context, bytes(flipped))
    too_many = bytearray(data)
    too_many[bitmap_at + 1 : bitmap_at + 3] = (5).to_bytes(2, "big")
    with pytest.raises(SecAggError, match="claims 5 shares"):
        decode_recovery(sim.context, bytes(too_many))


def test_malformed_masked_updates_are_refused(sim: SimRound) -> None:
    masked = sim.masked(sim.members[:1])[0]
    blob = encode_masked(sim.context, masked)
    header = len(MAGIC) + 2 + len(sim.context.label()) + 20 + 8 + 1
    for length in (0, 10, header - 1, header, header + 8, len(blob) - 1):
        with pytest.raises(SecAggError):
            decode_masked(sim.context, blob[:length], sim.layout)
    with pytest.raises(SecAggError, match=r"trailing bytes|bytes of tensors") as error:
        decode_masked(sim.context, blob + b"\0" * 8, sim.layout)
    assert error.value.reason == "oversized"
    zero = bytearray(blob)
    zero[header - 9 : header - 1] = bytes(8)
    with pytest.raises(SecAggError, match="claims 0 samples"):
        decode_masked(sim.context, bytes(zero), sim.layout)
    not_own = bytearray(blob)
    not_own[header - 1] = 0b0010  # masked without its own setup
    with pytest.raises(SecAggError, match="own setup"):
        decode_masked(sim.context, bytes(not_own), sim.layout)
    other = Layout((("fc.weight", (5, 8)), ("fc.bias", (8,)), ("out", (3, 2, 2))))
    with pytest.raises(SecAggError, match="has shape") as error:
        decode_masked(sim.context, blob, other)
    assert error.value.reason == "malformed-wrong-shape"
    garbage = blob[:header] + b"\xff" * (len(blob) - header)
    with pytest.raises(SecAggError, match="not a valid safetensors"):
        decode_masked(sim.context, garbage, sim.layout)


def test_a_low_order_mask_key_is_refused_when_read(sim: SimRound) -> None:
    data = bytearray(_setup_bytes(sim))
    key_at = len(MAGIC) + 2 + len(sim.context.label()) + 20
    data[key_at : key_at + 32] = bytes(32)
    with pytest.raises(SecAggError, match=f"public key of {sim.setups[0].dealer}") as error:
        decode_setup(sim.context, bytes(data))
    assert error.value.reason == "bad-key"

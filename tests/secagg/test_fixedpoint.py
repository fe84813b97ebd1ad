"""Fixed point modulo 2^64: rounding, clamping, refusal of NaN/inf and of totals that could wrap."""

from __future__ import annotations

import numpy as np
import pytest

from daofed.learning.aggregation.base import MemberUpdate
from daofed.learning.aggregation.fedavg import fedavg
from daofed.secagg import SecAggError, fixed_point_fedavg
from daofed.secagg.fixedpoint import BOUND, LIMIT, MAX_TOTAL_SAMPLES, encode_input

A, B = "0x" + "a" * 40, "0x" + "b" * 40
STEP = 2.0**-24


def _signed(vector: np.ndarray) -> list[int]:
    return [int(v) for v in vector.view(np.int64)]


def test_quantisation_rounds_half_to_even_and_clamps() -> None:
    values = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 3.0], np.float32) * np.float32(STEP)
    assert _signed(encode_input({"w": values}, 1, "x")) == [0, 2, 2, 0, -2, 3]
    big = np.array([BOUND, 100.0, -1e30, np.float32(BOUND) + 1], np.float32)
    assert _signed(encode_input({"w": big}, 3, "x")) == [
        3 * LIMIT,
        3 * LIMIT,
        -3 * LIMIT,
        3 * LIMIT,
    ]


def test_tensors_are_flattened_in_sorted_name_order() -> None:
    delta = {"z": np.array([1.0], np.float32), "a": np.array([[2.0, 3.0]], np.float32)}
    assert _signed(encode_input(delta, 1, "x")) == [2 * 2**24, 3 * 2**24, 2**24]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_deltas_are_refused(bad: float) -> None:
    delta = {"ok": np.zeros(3, np.float32), "w": np.array([0.0, bad], np.float32)}
    with pytest.raises(SecAggError, match="tensor 'w' has NaN or infinity") as error:
        encode_input(delta, 1, "update of me")
    assert error.value.reason == "non-finite"
    with pytest.raises(SecAggError, match=f"update from {B}"):
        fixed_point_fedavg(
            [
                MemberUpdate(A, 1, {"ok": delta["ok"], "w": np.zeros(2, np.float32)}),
                MemberUpdate(B, 1, delta),
            ]
        )


def test_non_float32_deltas_are_refused() -> None:
    with pytest.raises(SecAggError, match="float32"):
        encode_input({"w": np.zeros(2, np.float64)}, 1, "x")


def test_largest_total_decodes_exactly_and_one_more_is_refused() -> None:
    edge = [MemberUpdate(A, MAX_TOTAL_SAMPLES, {"w": np.array([BOUND, -BOUND, 0.0], np.float32)})]
    assert fixed_point_fedavg(edge)["w"].tolist() == [BOUND, -BOUND, 0.0]
    over = [
        MemberUpdate(A, MAX_TOTAL_SAMPLES, {"w": np.zeros(1, np.float32)}),
        MemberUpdate(B, 1, {"w": np.zeros(1, np.float32)}),
    ]
    with pytest.raises(SecAggError, match="could overflow") as error:
        fixed_point_fedavg(over)
    assert error.value.reason == "overflow"
    with pytest.raises(SecAggError, match="could overflow"):
        encode_input({"w": np.zeros(1, np.float32)}, MAX_TOTAL_SAMPLES + 1, "x")


def test_negative_zero_comes_out_as_zero() -> None:
    tiny = np.array([-STEP / 4, STEP / 4], np.float32)
    out = fixed_point_fedavg([MemberUpdate(A, 2, {"w": tiny})])["w"]
    assert out.tobytes() == np.zeros(2, np.float32).tobytes()


def test_close_to_float_fedavg_and_independent_of_order() -> None:
    rng = np.random.default_rng(0)
    updates = [
        MemberUpdate(
            f"0x{i:040x}",
            int(rng.integers(1, 500)),
            {"w": rng.normal(size=1000).astype(np.float32)},
        )
        for i in range(1, 8)
    ]
    got = fixed_point_fedavg(updates)
    assert got["w"].dtype == np.float32
    assert np.abs(got["w"] - fedavg(updates)["w"]).max() <= STEP
    assert fixed_point_fedavg(updates[::-1])["w"].tobytes() == got["w"].tobytes()


def test_a_member_twice_is_refused() -> None:
    one = MemberUpdate(A, 1, {"w": np.zeros(1, np.float32)})
    with pytest.raises(Exception, match="two updates"):
        fixed_point_fedavg([one, MemberUpdate(A.upper().replace("0X", "0x"), 2, one.delta)])

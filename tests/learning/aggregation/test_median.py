from __future__ import annotations

import numpy as np

from daofed.learning.aggregation import Median, median

from .helpers import update, vec


def test_odd_count_takes_the_middle_per_coordinate() -> None:
    out = median([update("0xa", 1.0, 30.0), update("0xb", 5.0, 10.0), update("0xc", 3.0, 20.0)])
    assert vec(out) == [3.0, 20.0]


def test_even_count_averages_the_two_middle_values() -> None:
    ups = [update(f"0x{i}", v) for i, v in enumerate([1.0, 20.0, 2.0, 10.0])]
    assert vec(median(ups)) == [6.0]


def test_ignores_sample_counts_and_outliers() -> None:
    ups = [update("0xa", 1.0, n=1), update("0xb", 2.0, n=1), update("0xc", 1e30, n=10_000)]
    assert vec(Median().aggregate(ups)) == [2.0]


def test_sign_of_zero_is_canonical() -> None:
    out = median(
        [update("0xa", -0.0), update("0xb", 0.0), update("0xc", -0.0), update("0xd", -0.0)]
    )
    assert out["w"].tobytes() == np.zeros(1, np.float32).tobytes()

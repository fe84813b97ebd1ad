from __future__ import annotations

import pytest

from daofed.errors import LearningError
from daofed.learning.aggregation import TrimmedMean, trimmed_mean
from daofed.learning.aggregation.trimmed_mean import trim_count

from .helpers import update, vec


def test_drops_the_extremes_per_coordinate() -> None:
    values = [(100.0, 1.0), (1.0, -50.0), (2.0, 2.0), (3.0, 3.0), (-100.0, 60.0)]
    ups = [update(f"0x{i}", *v) for i, v in enumerate(values)]
    # beta 0.2 of 5 trims one value at each end: mean(1, 2, 3) and mean(1, 2, 3)
    assert vec(trimmed_mean(ups, 0.2)) == [2.0, 2.0]


def test_beta_zero_is_the_plain_mean() -> None:
    ups = [update("0xa", 1.0, n=5), update("0xb", 2.0), update("0xc", 6.0)]
    assert vec(TrimmedMean(0.0).aggregate(ups)) == [3.0]


def test_trim_count_reads_beta_as_a_decimal() -> None:
    assert trim_count(0.3, 10) == 3
    assert trim_count(0.29, 100) == 29  # 0.29 * 100 == 28.999999999999996 in binary
    assert trim_count(0.2, 4) == 0
    assert trim_count(0.49, 3) == 1


@pytest.mark.parametrize("beta", [0.5, -0.1, float("nan")])
def test_rejects_beta_that_trims_everything(beta: float) -> None:
    with pytest.raises(LearningError, match=r"\[0, 0.5\)"):
        TrimmedMean(beta)


def test_spec() -> None:
    assert TrimmedMean(0.2).spec == "trimmed-mean:beta=0.2"

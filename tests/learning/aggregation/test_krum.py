from __future__ import annotations

import pytest

from daofed.errors import LearningError
from daofed.learning.aggregation import MultiKrum, krum, krum_scores, multi_krum

from .helpers import update, vec

# 1-D points 0, 1, 2, 3 and an attacker at 100; f=1 -> each score sums n - f - 2 = 2 neighbours
POINTS = {"0xa": 0.0, "0xb": 1.0, "0xc": 2.0, "0xd": 3.0, "0xe": 100.0}


def _updates() -> list:
    return [update(m, v, n=1000 if m == "0xe" else 1) for m, v in POINTS.items()]


def test_scores_by_hand() -> None:
    # 0: 1 + 4, 1: 1 + 1, 2: 1 + 1, 3: 1 + 4, 100: 97^2 + 98^2
    assert krum_scores(_updates(), 1) == [5.0, 2.0, 2.0, 5.0, 97.0**2 + 98.0**2]


def test_krum_picks_from_the_cluster_ties_to_lower_member() -> None:
    assert vec(krum(_updates(), 1)) == [1.0]  # 0xb and 0xc tie; 0xb sorts first
    assert MultiKrum(f=1).aggregate(list(reversed(_updates()))) == krum(_updates(), 1)


def test_multi_krum_averages_the_best_m_unweighted() -> None:
    # best three: 0xb, 0xc (score 2), then 0xa before 0xd (score 5): mean(0, 1, 2)
    assert vec(multi_krum(_updates(), 1, 3)) == [1.0]
    assert vec(multi_krum(_updates(), 1, 4)) == [1.5]


def test_distance_spans_all_tensors() -> None:
    ups = [update(f"0x{i}", 0.0) for i in range(5)]
    for u, far in zip(ups, [0.0, 0.0, 0.0, 0.0, 9.0], strict=True):
        u.delta["v"] = update(u.member, far).delta["w"]
    assert vec(krum(ups, 1), "v") == [0.0]


def test_needs_more_than_2f_plus_2_updates() -> None:
    with pytest.raises(LearningError, match="at least 5 updates"):
        krum(_updates()[:4], 1)
    with pytest.raises(LearningError, match="at least 6 updates"):
        multi_krum(_updates(), 1, 5)  # m + f > n
    with pytest.raises(LearningError, match="f >= 0 and m >= 1"):
        MultiKrum(f=1, m=0)


def test_spec_and_min_updates() -> None:
    assert MultiKrum(f=1).spec == "krum:f=1"
    assert MultiKrum(f=1, m=3).spec == "multi-krum:f=1,m=3"
    assert MultiKrum(f=2, m=3).min_updates == 7
    assert MultiKrum(f=1, m=5).min_updates == 6

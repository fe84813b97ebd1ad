from __future__ import annotations

import numpy as np
import pytest

from daofed.errors import LearningError
from daofed.learning.aggregation import Clipped, FedAvg, Median, clip_update, l2_norm

from .helpers import update, vec


def test_scales_down_to_the_bound() -> None:
    clipped = clip_update(update("0xa", 3.0, 4.0, n=2), 1.0)
    assert vec(clipped.delta) == [np.float32(0.6), np.float32(0.8)]
    assert clipped.num_samples == 2 and clipped.member == "0xa"


def test_leaves_small_updates_alone() -> None:
    small = update("0xa", 0.3, 0.4)
    assert clip_update(small, 1.0) is small


def test_bounds_the_norm_of_every_update() -> None:
    rng = np.random.default_rng(1)
    for scale in (1e-3, 1.0, 1e3, 1e30):
        u = update("0xa", *(rng.standard_normal(1000) * scale))
        assert l2_norm(clip_update(u, 2.0).delta) <= 2.0 * (1 + 1e-6)


def test_bounds_an_attackers_pull_on_fedavg() -> None:
    ups = [update("0xa", 0.1), update("0xb", -0.1), update("0xc", 1000.0, n=98)]
    rule = Clipped(FedAvg(), 1.0)
    # the attacker is cut to 1.0: (0.1 - 0.1 + 98 * 1.0) / 100
    assert vec(rule.aggregate(ups)) == [np.float32(0.98)]


def test_spec_and_errors() -> None:
    assert Clipped(FedAvg(), 1.0).spec == "fedavg:clip=1.0"
    assert Clipped(Median(), 0.5).min_updates == 1
    with pytest.raises(LearningError, match="positive"):
        Clipped(FedAvg(), 0.0)
    with pytest.raises(LearningError, match="once"):
        Clipped(Clipped(FedAvg(), 1.0), 2.0)
